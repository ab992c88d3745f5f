// The delegate's own booking, opened with the private link from their emails
// (/manage/<id>#token=...): status, the e-ticket's QR code, fixing the badge name, and,
// when the delegate booked and pays for themselves, the receipt, paying what is due,
// changing the confirmed booking (change.js: priced first, the difference paid by card or
// refunded) and cancelling within the refund policy. In a group order the buyer pays,
// changes and cancels (on the order page).
"use strict";

const CHANGEABLE = ["pending_payment", "confirmed"];
const BADGE_FIELDS = ["given_name", "family_name", "name_order", "pronouns", "organisation"];
const POLL_MS = 1500;

let registration = null;
let catalog = null;
let token = null;

const registrationPath = () => `/api/registrations/${encodeURIComponent(registration.id)}`;

function addOnNames(codes) {
  const names = Object.fromEntries(catalog.add_ons.map((addOn) => [addOn.code, addOn.name]));
  return codes.map((code) => names[code] || code);
}

function showPolicyAndRefund() {
  showPolicy($("policy"), catalog);
  const paid = registration.amount_paid - registration.amount_refunded;
  $("refund-now").textContent = registration.amount_paid
    ? t("policy.refundNow", { amount: money(refundToday(catalog, paid), registration.currency) })
    : "";
}

function showBooking() {
  const r = registration;
  $("booking").hidden = false;
  $("booking-status").textContent = t(`statuses.${r.status}`);
  $("reference").textContent = r.reference;
  $("ticket").textContent = r.price_lines.filter((line) => line.kind === "ticket")
    .map((line) => line.description).join(", ");
  $("add-ons").textContent = r.add_ons.length
    ? addOnNames(r.add_ons).join("; ") : t("common.none");
  $("amount-paid").textContent = money(r.amount_paid, r.currency);
  $("amount-refunded").textContent = money(r.amount_refunded, r.currency);
  $("paid-by").hidden = !r.paid_by_buyer;
  $("paid-by").textContent = r.paid_by_buyer
    ? t("payment.paidByBuyer", { organisation: r.buyer_organisation }) : "";
  $("receipt").hidden = r.paid_by_buyer || !r.amount_paid;
  const changeable = CHANGEABLE.includes(r.status);
  $("badge").hidden = !changeable;
  $("cancel").hidden = !changeable || r.paid_by_buyer;
  if (r.status !== "confirmed") { $("change").hidden = true; }
  if (changeable && !r.paid_by_buyer) { showPolicyAndRefund(); }
  showTicket();
  say(t(`statuses.${r.status}`), { confirmed: "ok", pending_payment: "warn" }[r.status] || "bad");
}

// A confirmed booking's e-ticket: its QR code, fetched once, with who and what it admits.
async function showTicket() {
  const r = registration;
  const confirmed = r.status === "confirmed";
  $("e-ticket").hidden = !confirmed;
  $("ticket-caption").textContent = t("manage.ticketCaption", {
    name: fullName(r), reference: r.reference, ticket: $("ticket").textContent });
  const image = $("ticket-qr");
  if (!confirmed || image.src) { return; }
  const url = await fileUrl(`${registrationPath()}/ticket.svg`, delegateHeaders(token));
  $("ticket-error").textContent = url ? "" : t("manage.ticketFailed");
  $("ticket-error").hidden = Boolean(url);
  if (url) {
    image.alt = t("manage.ticketAlt", { reference: r.reference });
    image.src = url;
  }
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

// Paid: follow the registration here until the payment's confirmation arrives (saying so
// meanwhile; a direct debit being processed takes days: asked less often).
async function followPayment(processing = false) {
  const answer = await api("GET", registrationPath(), { headers: delegateHeaders(token) });
  if (answer.ok && answer.data.status !== "pending_payment") {
    registration = answer.data;
    $("payment").hidden = true;
    showBooking();
    showChange();
    return;
  }
  say(t(processing ? "sepa.processing" : "manage.paymentReceived"), "warn");
  setTimeout(() => followPayment(processing), processing ? DEBIT_POLL_SLOW_MS : POLL_MS);
}

function showPayment() {
  const r = registration;
  if (r.paid_by_buyer || r.status !== "pending_payment" || !r.amount_due) { return; }
  $("payment").hidden = false;
  $("amount-due").textContent = t("manage.amountDue", { amount: money(r.amount_due, r.currency) });
  $("hold-until").textContent = r.hold_expires_at
    ? t("manage.holdUntil", { time: formatDateTime(r.hold_expires_at) }) : "";
  $("last-payment-error").textContent = r.last_payment_error
    ? t("manage.lastPaymentError", { reason: r.last_payment_error }) : "";
  payWhenReady({
    path: registrationPath(), headers: delegateHeaders(token),
    amount: money(r.amount_due, r.currency),
    payer: { name: fullName(r), email: r.email },
    onPaid: ({ processing }) => followPayment(processing),
    onRefused: (error) => {
      $("payment").hidden = true;
      if (error.code === "nothing_due") {
        followPayment();
      } else if (error.code === "pay_by_invoice") {
        say(t("manage.payByInvoice"), "warn");
      } else {
        say(error.message, "bad");
      }
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
  const answer = await api("PATCH", registrationPath(), { headers: delegateHeaders(token), body });
  busy($("save"), false, t("manage.save"));
  if (!answer.ok) { showErrors(form, [answer.error]); return; }
  registration = answer.data;
  fillBadgeForm();
  showTicket();
  $("save-status").textContent = t("manage.saved");
}

async function cancelBooking() {
  const error = $("cancel-error");
  error.hidden = true;
  busy($("cancel-yes"), true, t("manage.cancelling"));
  const answer = await api("POST", `${registrationPath()}/cancel`,
    { headers: delegateHeaders(token) });
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

// ---- Changing the booking ---------------------------------------------------------------

let changeForm = null;  // the ChangeForm, once drawn

const changesPath = () => `${registrationPath()}/changes`;

// The booking's changes as the server has them now, oldest first; null if not to be had.
async function ownChanges() {
  const answer = await api("GET", changesPath(), { headers: delegateHeaders(token) });
  return answer.ok ? answer.data.items : null;
}

// A confirmed booking the delegate pays for: the form, unless a change waits for its
// payment (paid or dropped first, above) or changes are closed; the changes made so far.
async function showChange() {
  const r = registration;
  $("change").hidden = r.status !== "confirmed";
  if ($("change").hidden) { return; }
  if (r.paid_by_buyer) {
    changeNote(t("change.paidByBuyer", { organisation: r.buyer_organisation }));
    return;
  }
  const changes = await ownChanges();
  showChangeHistory($("change-history"), $("change-history-none"), changes || [], catalog,
    r.currency);
  const pending = (changes || []).find((c) => c.status === "pending_payment" && c.order_token);
  if (pending) {
    changeNote(t("change.pendingNote"));
    payChange(pending);
    return;
  }
  // Asking the price of the booking as it is changes nothing and answers whether it may be
  // changed now (422 no_change) or why not (409: the deadline passed, ...).
  const probe = await api("POST", `${changesPath()}/quote`,
    { headers: delegateHeaders(token), body: { add_ons: r.add_ons } });
  if (!probe.ok && probe.status !== 422) {
    changeNote({ changes_closed: t("change.closed"), change_pending: t("change.pendingNote"),
                 paid_by_buyer: t("change.paidByBuyer", { organisation: r.buyer_organisation }),
    }[probe.error.code] || probe.error.message);
    return;
  }
  changeNote("");
  const booking = { ticket_type: r.ticket_type, add_ons: r.add_ons };
  if (changeForm) {
    changeForm.reset(booking, catalog);
    return;
  }
  changeForm = new ChangeForm({
    prefix: "change", catalog, booking,
    onQuote: (body) => api("POST", `${changesPath()}/quote`,
      { headers: delegateHeaders(token), body }),
    onConfirm: confirmChange,
    reloadCatalog: reloadCatalog,
  });
  $("change-form-holder").replaceChildren(changeForm.form);
}

async function reloadCatalog() {
  const answer = await api("GET", "/api/catalog");
  if (answer.ok) { catalog = answer.data; }
  return answer.ok ? catalog : null;
}

function confirmChange(body) {
  return submitChange(changeForm, changesPath(),
    { name: `change:${registration.id}`, headers: delegateHeaders(token) }, body, {
      onClosed: showChange,
      onApplied: changeApplied,
      onPending: async (change) => {
        showChangeHistory($("change-history"), $("change-history-none"),
          (await ownChanges()) || [change], catalog, registration.currency);
        payChange(change);
      },
    });
}

function payChange(change) {
  payChangeDifference({
    change, catalog, currency: registration.currency, heading: t("change.payHeading"),
    payer: { name: fullName(registration), email: registration.email },
    listChanges: ownChanges, onApplied: changeApplied,
    onDropped: async (message) => {
      await reloadRegistration();
      say(message, "warn");
      $("main").focus();
    },
  });
}

async function reloadRegistration() {
  const answer = await api("GET", registrationPath(), { headers: delegateHeaders(token) });
  if (answer.ok) { registration = answer.data; }
  showBooking();
  await showChange();
}

// In effect: the booking as it is now, and what the change gave back.
async function changeApplied(change) {
  await Promise.all([reloadCatalog(), (async () => {
    const answer = await api("GET", registrationPath(), { headers: delegateHeaders(token) });
    if (answer.ok) { registration = answer.data; }
  })()]);
  showBooking();
  await showChange();
  say([t("change.applied"), change.refund_due ? t("change.refundAll",
    { amount: money(change.refund_due, registration.currency) }) : ""].join(" ").trim(), "ok");
  $("main").focus();
}

async function downloadReceipt() {
  const ok = await download(`${registrationPath()}/receipt.pdf`,
    `receipt-${registration.reference}.pdf`, delegateHeaders(token));
  $("receipt-error").textContent = ok ? "" : t("manage.receiptFailed");
  $("receipt-error").hidden = ok;
}

document.addEventListener("DOMContentLoaded", async () => {
  translatePage();
  const id = idFromPath();
  token = takeToken(id);
  if (!token) { say(t("common.noToken"), "bad"); return; }
  const [answer, catalogAnswer] = await Promise.all([
    api("GET", `/api/registrations/${encodeURIComponent(id)}`,
      { headers: delegateHeaders(token) }),
    api("GET", "/api/catalog"),
  ]);
  if (!answer.ok || !catalogAnswer.ok) {
    say(loadProblem(answer.ok ? catalogAnswer : answer), "bad");
    return;
  }
  registration = answer.data;
  catalog = catalogAnswer.data;
  $("conference-name").textContent = catalog.conference.name;
  showBooking();
  fillBadgeForm();
  showPayment();
  showChange();
  $("badge-form").addEventListener("submit", saveBadge);
  $("receipt").addEventListener("click", downloadReceipt);
  const open = disclosure($("cancel-start"), $("cancel-confirm"), $("cancel-question"));
  $("cancel-no").addEventListener("click", () => open(false));
  $("cancel-yes").addEventListener("click", cancelBooking);
});
