// The buyer's view of an order, opened with the private link from the order's emails
// (/orders/<id>#token=...): status and amounts, each delegate with their share, paying what
// is due, the receipt, and cancelling one delegate or the whole order within the policy.
"use strict";

const LIVE = ["pending_payment", "confirmed"];

let order = null;
let catalog = null;
let token = null;

const orderPath = () => `/api/orders/${encodeURIComponent(order.id)}`;

function addOnNames(codes) {
  const names = Object.fromEntries(catalog.add_ons.map((addOn) => [addOn.code, addOn.name]));
  return codes.map((code) => names[code] || code);
}

function ticketName(delegate) {
  const line = delegate.price_lines.find((l) => l.kind === "ticket");
  return line ? line.description : delegate.ticket_type;
}

// What is left to refund of the order: what was paid and not yet given back.
const paidNet = () => order.amount_paid - order.amount_refunded;

function showSummary() {
  const o = order;
  $("summary").hidden = false;
  $("order-status").textContent = t(`statuses.${o.status}`);
  $("reference").textContent = o.reference;
  $("buyer").textContent = [o.buyer.name, o.buyer.organisation].filter(Boolean).join(", ");
  $("total").textContent = money(o.amount_due, o.currency);
  $("amount-paid").textContent = money(o.amount_paid, o.currency);
  $("amount-refunded").textContent = money(o.amount_refunded, o.currency);
  $("receipt").hidden = !o.amount_paid;
  say(t(`statuses.${o.status}`), { confirmed: "ok", pending_payment: "warn" }[o.status] || "bad");
}

function delegateItem(delegate, index, cancellable) {
  const name = fullName(delegate);
  const uid = `delegate-${index + 1}`;
  const item = make("li", { className: "delegate-item", id: uid },
    make("h3", {}, name),
    make("dl", { className: "facts" },
      make("dt", {}, t("order.delegateTicket")), make("dd", {}, ticketName(delegate)),
      make("dt", {}, t("order.delegateAddOns")),
      make("dd", {}, delegate.add_ons.length ? addOnNames(delegate.add_ons).join("; ")
        : t("common.none")),
      make("dt", {}, t("order.delegateStatus")),
      make("dd", { className: "delegate-status" }, t(`statuses.${delegate.status}`)),
      make("dt", {}, t("order.delegateShare")),
      make("dd", { className: "delegate-share" }, money(delegate.amount_due, order.currency))));
  if (!cancellable) { return item; }
  const start = make("button", { type: "button", className: "danger-outline",
    "aria-expanded": "false", "aria-controls": `${uid}-confirm` },
  t("order.cancelDelegate", { name }));
  const question = make("p", { id: `${uid}-question`, tabindex: "-1" },
    t("order.cancelDelegateQuestion", { name }));
  const refund = order.amount_paid ? make("p", {}, t("order.cancelDelegateRefund", {
    amount: money(Math.min(refundToday(catalog, delegate.amount_due), paidNet()),
      order.currency) })) : null;
  const yes = make("button", { type: "button", className: "danger" },
    t("order.confirmCancelDelegate"));
  const no = make("button", { type: "button", className: "secondary" }, t("order.keep"));
  const error = make("p", { className: "field-error", id: `${uid}-error`, role: "alert",
    hidden: true });
  const panel = make("div", { className: "confirm", id: `${uid}-confirm`, hidden: true },
    question, refund, yes, no);
  const open = disclosure(start, panel, question);
  no.addEventListener("click", () => open(false));
  yes.addEventListener("click", () => cancel(
    `${orderPath()}/delegates/${encodeURIComponent(delegate.id)}/cancel`, yes, error,
    t("order.delegateCancelled", { name })));
  item.append(start, panel, error);
  return item;
}

// One delegate of several can be cancelled once the order is paid (it is paid once for
// all: before that, the whole order is cancelled).
function showDelegates() {
  const live = order.delegates.filter((d) => LIVE.includes(d.status)).length;
  $("delegates").hidden = false;
  $("delegate-list").replaceChildren(...order.delegates.map((delegate, index) => delegateItem(
    delegate, index, live > 1 && order.status === "confirmed"
      && LIVE.includes(delegate.status))));
}

function showCancel() {
  const cancellable = LIVE.includes(order.status);
  $("cancel").hidden = !cancellable;
  if (!cancellable) { return; }
  showPolicy($("policy"), catalog);
  $("refund-now").textContent = order.amount_paid
    ? t("policy.refundNow", { amount: money(refundToday(catalog, paidNet()), order.currency) })
    : "";
}

function showOrder() {
  showSummary();
  showDelegates();
  showCancel();
}

function showPayment() {
  const o = order;
  if (o.status !== "pending_payment" || !o.amount_due) { return; }
  $("payment").hidden = false;
  $("amount-due").textContent = t("order.amountDue", { amount: money(o.amount_due, o.currency) });
  $("hold-until").textContent = o.hold_expires_at
    ? t("order.holdUntil", { time: formatDateTime(o.hold_expires_at) }) : "";
  $("last-payment-error").textContent = o.last_payment_error
    ? t("order.lastPaymentError", { reason: o.last_payment_error }) : "";
  payWhenReady({
    path: orderPath(), headers: orderHeaders(token), amount: money(o.amount_due, o.currency),
    onPaid: () => location.assign(privateLink(
      `/confirmation/${encodeURIComponent(o.id)}`, token)),
    onRefused: async (error) => {
      $("payment").hidden = true;
      const answer = await api("GET", orderPath(), { headers: orderHeaders(token) });
      if (answer.ok) { order = answer.data; showOrder(); }
      if (error.code !== "nothing_due") { say(error.message, "bad"); }
    },
  });
}

// Cancel (one delegate or all of them) at `path`; the answer is the order as it is now.
async function cancel(path, button, error, done) {
  const label = button.textContent;
  error.hidden = true;
  busy(button, true, t("order.cancelling"));
  const answer = await api("POST", path, { headers: orderHeaders(token) });
  busy(button, false, label);
  if (!answer.ok) {
    error.textContent = answer.error.message;
    error.hidden = false;
    return;
  }
  order = answer.data;
  if (order.status !== "pending_payment") { $("payment").hidden = true; }
  showOrder();
  say(done, "bad");
  $("main").focus();
}

async function downloadReceipt() {
  const ok = await download(`${orderPath()}/receipt.pdf`, `receipt-${order.reference}.pdf`,
    orderHeaders(token));
  $("receipt-error").textContent = ok ? "" : t("order.receiptFailed");
  $("receipt-error").hidden = ok;
}

document.addEventListener("DOMContentLoaded", async () => {
  translatePage();
  const id = idFromPath();
  token = takeToken(id);
  if (!token) { say(t("common.noToken"), "bad"); return; }
  const [answer, catalogAnswer] = await Promise.all([
    api("GET", `/api/orders/${encodeURIComponent(id)}`, { headers: orderHeaders(token) }),
    api("GET", "/api/catalog"),
  ]);
  if (!answer.ok || !catalogAnswer.ok) {
    say(loadProblem(answer.ok ? catalogAnswer : answer), "bad");
    return;
  }
  order = answer.data;
  catalog = catalogAnswer.data;
  $("conference-name").textContent = catalog.conference.name;
  showOrder();
  showPayment();
  $("receipt").addEventListener("click", downloadReceipt);
  const open = disclosure($("cancel-start"), $("cancel-confirm"), $("cancel-question"));
  $("cancel-no").addEventListener("click", () => open(false));
  $("cancel-yes").addEventListener("click", () => cancel(`${orderPath()}/cancel`,
    $("cancel-yes"), $("cancel-error"), t("order.cancelled")));
});
