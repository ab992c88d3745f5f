// The delegate's own booking, opened with the private link from their emails
// (/manage/<id>#token=...): status, receipt, paying what is due, fixing the badge name,
// and cancelling within the refund policy.
"use strict";

const CHANGEABLE = ["pending_payment", "confirmed"];
const BADGE_FIELDS = ["given_name", "family_name", "pronouns", "organisation"];

let registration = null;
let catalog = null;
let token = null;

function say(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

// The token arrives after '#' in the emailed link: keep it for this tab, drop it from the URL.
function takeToken(id) {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    storeToken(id, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return storedToken(id);
}

function addOnNames(codes) {
  const names = Object.fromEntries(catalog.add_ons.map((addOn) => [addOn.code, addOn.name]));
  return codes.map((code) => names[code] || code);
}

function policySteps() {
  return [...catalog.conference.refund_policy].sort((a, b) => a.until.localeCompare(b.until));
}

function refundPercentToday() {
  const today = todayIso();
  const step = policySteps().find((s) => today <= s.until);
  return step ? step.refund_percent : 0;
}

function showPolicy() {
  const steps = policySteps();
  $("policy").replaceChildren(...steps.map((step) => make("li", {},
    t("manage.policyStep", { date: formatDate(step.until), percent: step.refund_percent }))));
  if (steps.length) {
    $("policy").append(make("li", {},
      t("manage.policyAfter", { date: formatDate(steps[steps.length - 1].until) })));
  }
  const refund = Math.round((registration.amount_paid * refundPercentToday()) / 100);
  $("refund-now").textContent = registration.amount_paid
    ? t("manage.refundNow", { amount: money(refund, registration.currency) }) : "";
}

function showBooking() {
  const r = registration;
  $("booking").hidden = false;
  $("booking-status").textContent = t(`statuses.${r.status}`);
  $("reference").textContent = r.reference;
  $("ticket").textContent = r.price_lines.filter((line) => line.kind === "ticket")
    .map((line) => line.description).join(", ");
  $("add-ons").textContent = r.add_ons.length
    ? addOnNames(r.add_ons).join("; ") : t("manage.noAddOns");
  $("amount-paid").textContent = money(r.amount_paid, r.currency);
  $("amount-refunded").textContent = money(r.amount_refunded, r.currency);
  $("receipt").hidden = !r.amount_paid;
  const changeable = CHANGEABLE.includes(r.status);
  $("badge").hidden = !changeable;
  $("cancel").hidden = !changeable;
  if (changeable) { showPolicy(); }
  say(t(`statuses.${r.status}`), { confirmed: "ok", pending_payment: "warn" }[r.status] || "bad");
}

function fillBadgeForm() {
  const form = $("badge-form");
  for (const name of BADGE_FIELDS) { form[name].value = registration[name] || ""; }
  const until = catalog.conference.name_changes_until;
  const closed = todayIso() > until;
  $("badge-fields").disabled = closed;
  $("badge-hint").textContent = t(closed ? "manage.badgeClosed" : "manage.badgeHint",
    { date: formatDate(until) });
}

function showPayment() {
  const r = registration;
  if (r.status !== "pending_payment" || !r.amount_due) { return; }
  $("payment").hidden = false;
  $("amount-due").textContent = t("manage.amountDue", { amount: money(r.amount_due, r.currency) });
  $("hold-until").textContent = r.hold_expires_at
    ? t("manage.holdUntil", { time: formatDateTime(r.hold_expires_at) }) : "";
  $("last-payment-error").textContent = r.last_payment_error
    ? t("manage.lastPaymentError", { reason: r.last_payment_error }) : "";
  const path = `/api/registrations/${encodeURIComponent(r.id)}`;
  cardPayment({
    id: r.id, token, container: $("card-element"), errorHolder: $("card-error"),
    button: $("pay"), amount: money(r.amount_due, r.currency),
    before: () => api("POST", `${path}/payment`, { token }),
    onPaid: () => {
      $("pay-status").textContent = t("card.paid");
      location.assign(`/confirmation/${encodeURIComponent(r.id)}`);
    },
  });
}

async function saveBadge(event) {
  event.preventDefault();
  const form = $("badge-form");
  const body = Object.fromEntries(BADGE_FIELDS.map((name) => [name, form[name].value.trim()]));
  const problems = ["given_name", "organisation"].filter((name) => !body[name]).map((name) => ({
    field: name, message: t("validation.required", { field: t(`fieldNames.${name}`) }) }));
  $("save-status").textContent = "";
  if (problems.length) { showErrors(form, problems); return; }
  clearErrors(form);
  busy($("save"), true, t("manage.saving"));
  const answer = await api("PATCH", `/api/registrations/${encodeURIComponent(registration.id)}`,
    { token, body });
  busy($("save"), false, t("manage.save"));
  if (!answer.ok) { showErrors(form, [answer.error]); return; }
  registration = answer.data;
  fillBadgeForm();
  $("save-status").textContent = t("manage.saved");
}

function askToCancel(open) {
  $("cancel-confirm").hidden = !open;
  $("cancel-start").setAttribute("aria-expanded", String(open));
  if (open) { $("cancel-question").focus(); } else { $("cancel-start").focus(); }
}

async function cancelBooking() {
  const error = $("cancel-error");
  error.hidden = true;
  busy($("cancel-yes"), true, t("manage.cancelling"));
  const path = `/api/registrations/${encodeURIComponent(registration.id)}/cancel`;
  const answer = await api("POST", path, { token });
  busy($("cancel-yes"), false, t("manage.confirmCancel"));
  if (!answer.ok) {
    error.textContent = answer.error.message;
    error.hidden = false;
    return;
  }
  registration = answer.data;
  $("payment").hidden = true;
  showBooking();
  say(t("manage.cancelled"), "bad");
  $("main").focus();
}

async function downloadReceipt() {
  const ok = await download(`/api/registrations/${encodeURIComponent(registration.id)}/receipt.pdf`,
    `receipt-${registration.reference}.pdf`, { "X-Registration-Token": token });
  $("receipt-error").textContent = ok ? "" : t("manage.receiptFailed");
  $("receipt-error").hidden = ok;
}

document.addEventListener("DOMContentLoaded", async () => {
  translatePage();
  const id = registrationIdFromPath();
  token = takeToken(id);
  if (!token) { say(t("common.noToken"), "bad"); return; }
  const [answer, catalogAnswer] = await Promise.all([
    api("GET", `/api/registrations/${encodeURIComponent(id)}`, { token }),
    api("GET", "/api/catalog"),
  ]);
  if (!answer.ok || !catalogAnswer.ok) {
    const failed = answer.ok ? catalogAnswer : answer;
    const known = { 403: "common.wrongToken", 404: "common.notFound" }[failed.status];
    say(known ? t(known) : failed.error.message, "bad");
    return;
  }
  registration = answer.data;
  catalog = catalogAnswer.data;
  $("conference-name").textContent = catalog.conference.name;
  showBooking();
  fillBadgeForm();
  showPayment();
  $("badge-form").addEventListener("submit", saveBadge);
  $("receipt").addEventListener("click", downloadReceipt);
  $("cancel-start").addEventListener("click", () => askToCancel($("cancel-confirm").hidden));
  $("cancel-no").addEventListener("click", () => askToCancel(false));
  $("cancel-yes").addEventListener("click", cancelBooking);
});
