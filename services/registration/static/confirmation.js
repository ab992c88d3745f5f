// After paying: follow the order until its payment is confirmed (the webhook may take a
// moment), then say what happens next. Opened as /confirmation/<order id>#token=<order token>.
"use strict";

const POLL_MS = 1500;
const FINAL = ["confirmed", "cancelled", "expired"];

function show(order) {
  $("booking").hidden = false;
  $("reference").textContent = order.reference;
  $("delegates").replaceChildren(...order.delegates.map((delegate) => make("li", {},
    `${fullName(delegate)} · `,
    delegate.price_lines.filter((line) => line.kind === "ticket")
      .map((line) => line.description).join(", "))));
  $("paid").textContent = money(order.amount_paid, order.currency);
}

async function follow(id, token) {
  const answer = await api("GET", `/api/orders/${encodeURIComponent(id)}`,
    { headers: orderHeaders(token) });
  if (!answer.ok && answer.status !== 0) {
    say(loadProblem(answer), "bad");
    return;
  }
  if (answer.ok) {
    const order = answer.data;
    show(order);
    if (order.payment_method === "invoice" && order.status === "pending_payment") {
      say(t("confirmation.invoiceBooked"), "warn");  // paid by transfer, days from now
      return;
    }
    if (FINAL.includes(order.status)) {
      const confirmed = order.status === "confirmed";
      say(t(`confirmation.${order.status}`), confirmed ? "ok" : "bad");
      $("next").hidden = !confirmed;
      return;
    }
    if (debitProcessing(id)) {  // paid by SEPA Direct Debit: days, not seconds
      say(t("sepa.processing"), "warn");
      setTimeout(() => follow(id, token), DEBIT_POLL_SLOW_MS);
      return;
    }
    say(t("confirmation.waiting"), "warn");
  }
  setTimeout(() => follow(id, token), POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  const id = idFromPath();
  const token = takeToken(id);
  if (!token) { say(t("common.noToken"), "bad"); return; }
  const link = $("order-link");
  link.href = privateLink(`/orders/${encodeURIComponent(id)}`, token);
  link.hidden = false;
  follow(id, token);
});
