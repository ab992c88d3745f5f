// The buyer's view of an order, opened with the private link from the order's emails
// (/orders/<id>#token=...): status and amounts, each delegate with their share, paying what
// is due (by card, or by bank transfer for an order paid by invoice), the receipt and the
// order's documents, sending a colleague instead of a delegate (until the name-change
// deadline), changing a delegate's confirmed booking (change.js: priced first, the
// difference paid by card or refunded), and cancelling one delegate or the whole order
// within the policy.
"use strict";

const LIVE = ["pending_payment", "confirmed"];
const ISSUE_POLL_MS = 1000;
const ISSUE_WAIT_MS = 30000;
const DOCUMENTS_POLL_MS = 1500;
const DOCUMENTS_WAIT_MS = 15000;

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
  if (delegate.status === "confirmed" && order.status === "confirmed") {
    const change = make("button", { type: "button", className: "secondary",
      "aria-controls": "change" }, t("change.openFor", { name }));
    change.addEventListener("click", () => openChange(delegate, change));
    item.append(change);
  }
  if (LIVE.includes(delegate.status) && substitutionOpen()) {
    const send = make("button", { type: "button", className: "secondary",
      "aria-controls": "substitute" }, t("order.substituteButton", { name }));
    send.addEventListener("click", () => openSubstitution(delegate, send));
    item.append(send);
  }
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

// ---- Sending a colleague instead ------------------------------------------------------

const COLLEAGUE_FIELDS = ["given_name", "family_name", "email", "organisation", "country"];
let replacing = null;  // the delegate whose place the form gives away, and the button

const substitutionOpen = () => LIVE.includes(order.status)
  && todayIso() <= catalog.conference.name_changes_until;

function openSubstitution(delegate, button) {
  const form = $("substitute-form");
  replacing = { delegate, button };
  clearErrors(form);
  form.reset();
  form.organisation.value = delegate.organisation;
  form.country.value = delegate.country;
  $("substitute-heading").textContent = t("order.substituteHeading",
    { name: fullName(delegate) });
  $("substitute").hidden = false;
  $("substitute-heading").focus();
}

function closeSubstitution() {
  $("substitute").hidden = true;
  if (replacing && document.contains(replacing.button)) { replacing.button.focus(); }
  replacing = null;
}

async function sendColleague(event) {
  event.preventDefault();
  const form = $("substitute-form");
  const body = Object.fromEntries(COLLEAGUE_FIELDS.map((name) => [name, form[name].value.trim()]));
  if (!body.family_name) { delete body.family_name; }
  const problems = ["given_name", "email", "organisation", "country"].filter((name) => !body[name])
    .map((name) => ({ field: name, message: name === "country" ? t("validation.chooseCountry")
      : t("validation.required", { field: t(`fieldNames.${name}`) }) }));
  if (problems.length) { showErrors(form, problems); return; }
  const button = $("substitute-send");
  const label = button.textContent;
  busy(button, true, t("order.substituteSending"));
  const path = `${orderPath()}/delegates/${encodeURIComponent(replacing.delegate.id)}/substitute`;
  const answer = await api("POST", path, { body, headers: orderHeaders(token) });
  busy(button, false, label);
  if (!answer.ok) {
    showErrors(form, [{ field: answer.error.field, message: answer.error.message }]);
    return;
  }
  const done = t("order.substituted", { old: fullName(replacing.delegate),
    name: fullName(answer.data), email: answer.data.email });
  $("substitute").hidden = true;
  replacing = null;
  const fresh = await api("GET", orderPath(), { headers: orderHeaders(token) });
  if (fresh.ok) { order = fresh.data; }
  showOrder();
  say(done, "ok");
  $("main").focus();
}

// ---- Changing a delegate's booking -----------------------------------------------------

let changing = null;  // the delegate whose booking the form changes, and the button
let changeForm = null;

const delegatePath = (delegate) => `${orderPath()}/delegates/${encodeURIComponent(delegate.id)}`;

// The changes asked of the order's delegates, oldest first; null if not to be had.
async function orderChanges() {
  const answer = await api("GET", `${orderPath()}/changes`, { headers: orderHeaders(token) });
  return answer.ok ? answer.data.items : null;
}

async function reloadCatalog() {
  const answer = await api("GET", "/api/catalog");
  if (answer.ok) { catalog = answer.data; }
  return answer.ok ? catalog : null;
}

async function reloadOrder() {
  const answer = await api("GET", orderPath(), { headers: orderHeaders(token) });
  if (answer.ok) { order = answer.data; }
  showOrder();
}

async function openChange(delegate, button) {
  changing = { delegate, button };
  $("change-heading").textContent = t("change.headingFor", { name: fullName(delegate) });
  $("change").hidden = false;
  changeNote("");
  $("change-form-holder").hidden = true;  // until it is known whether it may be changed
  $("change-heading").focus();
  await drawChange();
}

function closeChange() {
  $("change").hidden = true;
  if (changing && document.contains(changing.button)) { changing.button.focus(); }
  changing = null;
}

// The form for the delegate being changed, unless a change of theirs waits for its payment
// or changes are closed; their changes so far.
async function drawChange() {
  const { delegate } = changing;
  const changes = ((await orderChanges()) || []).filter((c) => c.registration_id === delegate.id);
  showChangeHistory($("change-history"), $("change-history-none"), changes, catalog,
    order.currency);
  const pending = changes.find((c) => c.status === "pending_payment" && c.order_token);
  if (pending) {
    changeNote(t("change.pendingNote"));
    payChange(pending, delegate);
    return;
  }
  // Asking the price of the booking as it is changes nothing and answers whether it may be
  // changed now (422 no_change) or why not (409: the deadline passed, ...).
  const probe = await api("POST", `${delegatePath(delegate)}/changes/quote`,
    { headers: orderHeaders(token), body: { add_ons: delegate.add_ons } });
  if (!probe.ok && probe.status !== 422) {
    changeNote(probe.error.code === "changes_closed" ? t("change.closed")
      : probe.error.code === "change_pending" ? t("change.pendingNote") : probe.error.message);
    return;
  }
  changeNote("");
  const booking = { ticket_type: delegate.ticket_type, add_ons: delegate.add_ons };
  const refundTo = order.payment_method === "invoice" ? "transfer" : "card";
  if (!changeForm) {
    changeForm = new ChangeForm({
      prefix: "change", catalog, booking, refundTo, reloadCatalog, onClose: closeChange,
      onQuote: (body) => api("POST", `${delegatePath(changing.delegate)}/changes/quote`,
        { headers: orderHeaders(token), body }),
      onConfirm: confirmChange,
    });
    $("change-form-holder").replaceChildren(changeForm.form);
  } else {
    changeForm.refundTo = refundTo;
    changeForm.reset(booking, catalog);
  }
}

function confirmChange(body) {
  const { delegate } = changing;
  return submitChange(changeForm, `${delegatePath(delegate)}/changes`,
    { name: `change:${delegate.id}`, headers: orderHeaders(token) }, body, {
      onClosed: drawChange,
      onApplied: (change) => changeApplied(change, delegate),
      onPending: (change) => payChange(change, delegate),
    });
}

function payChange(change, delegate) {
  payChangeDifference({
    change, catalog, currency: order.currency,
    heading: t("change.payHeadingFor", { name: fullName(delegate) }), payer: order.buyer,
    listChanges: orderChanges, onApplied: (done) => changeApplied(done, delegate),
    onDropped: async (message) => {
      $("change").hidden = true;
      changing = null;
      await reloadOrder();
      say(message, "warn");
      $("main").focus();
    },
  });
}

// In effect: the order as it is now, and what the change gave back.
async function changeApplied(change, delegate) {
  $("change").hidden = true;
  changing = null;
  await Promise.all([reloadCatalog(), reloadOrder()]);
  const refund = change.refund_due ? changePriceText({ ...change, currency: order.currency },
    order.payment_method === "invoice" ? "transfer" : "card") : "";
  say(`${t("change.appliedFor", { name: fullName(delegate) })} ${refund}`.trim(), "ok");
  $("main").focus();
  followDocuments(shownDocuments === null ? null : JSON.parse(shownDocuments).length);
}

// A change that waits for its payment (the page was left before paying): paid here.
async function showPendingChange() {
  if (order.status !== "confirmed") { return; }
  const pending = ((await orderChanges()) || []).find(
    (c) => c.status === "pending_payment" && c.order_token);
  const delegate = pending && order.delegates.find((d) => d.id === pending.registration_id);
  if (delegate) { payChange(pending, delegate); }
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

// How to pay an invoice order by bank transfer: amount, due date, the RF reference and the
// bank, and the invoice's number once payments has issued it. False when nothing is to pay.
function showBankTransfer() {
  const o = order;
  const invoice = o.invoice;
  const open = o.payment_method === "invoice" && o.status === "pending_payment" && invoice;
  $("bank-transfer").hidden = !open;
  if (!open) { return false; }
  const amount = money(Math.max(o.amount_due - o.amount_paid, 0), o.currency);
  const due = invoice.due_on ? formatDate(invoice.due_on) : "";
  const bank = invoice.bank || {};
  $("transfer-intro").textContent = t("order.transferIntro", { amount, date: due });
  $("transfer-amount").textContent = amount;
  $("due-on").textContent = due;
  $("payment-reference").textContent = invoice.payment_reference
    ? groupsOfFour(invoice.payment_reference) : t("order.issuing");
  $("account-holder").textContent = bank.account_holder || "";
  $("iban").textContent = groupsOfFour(bank.iban);
  $("bic").textContent = bank.bic || "";
  $("bank-name").textContent = bank.bank_name || "";
  $("invoice-number").textContent = invoice.invoice_number || t("order.issuing");
  return true;
}

const issued = () => Boolean(order.invoice && order.invoice.invoice_number
                             && order.invoice.payment_reference);

// Payments issues the invoice a moment after the booking: ask for the order again until it
// has, for a while; then its documents list has it.
async function followInvoice() {
  const started = Date.now();
  while (!issued()) {
    if (Date.now() - started > ISSUE_WAIT_MS) {
      $("invoice-status").textContent = t("order.issuingSlow");
      return;
    }
    await sleep(ISSUE_POLL_MS);
    const answer = await api("GET", orderPath(), { headers: orderHeaders(token) });
    if (answer.ok) {
      order = answer.data;
      showSummary();
      if (!showBankTransfer()) { return; }
    }
  }
  $("invoice-status").textContent = t("order.invoiceIssued",
    { number: order.invoice.invoice_number });
  await showDocuments();
}

// The order's invoices, receipts and credit notes, from payments; how many (null when
// payments could not say). Drawn again only when they changed.
let shownDocuments = null;

async function showDocuments() {
  const failed = (key) => {
    $("documents").hidden = false;
    $("documents-error").textContent = t(key);
    $("documents-error").hidden = false;
  };
  let config;
  try { config = await pageConfig(); } catch { failed("documents.unavailable"); return null; }
  const headers = orderHeaders(token);
  const answer = await api("GET",
    `${config.payments_url}/api/orders/${encodeURIComponent(order.id)}/documents`, { headers });
  if (!answer.ok) { failed("documents.unavailable"); return null; }
  $("documents").hidden = false;
  $("documents-error").hidden = true;
  const seen = JSON.stringify(answer.data);
  if (seen !== shownDocuments) {
    shownDocuments = seen;
    $("documents-none").hidden = answer.data.length > 0;
    $("document-list").replaceChildren(...documentItems(answer.data, {
      base: config.payments_url, headers, currency: order.currency,
      onFailed: () => failed("documents.failed") }));
  }
  return answer.data.length;
}

// After a change that issues a document (a credit note after a cancellation): look again
// for a while until there are more than `before`.
async function followDocuments(before) {
  const started = Date.now();
  while (Date.now() - started < DOCUMENTS_WAIT_MS) {
    await sleep(DOCUMENTS_POLL_MS);
    const count = await showDocuments();
    if (count !== null && before !== null && count > before) { return; }
  }
}

function showPayment() {
  const o = order;
  if (o.status !== "pending_payment" || !o.amount_due) { return; }
  if (o.payment_method === "invoice") {  // paid by bank transfer: never a card form here
    if (showBankTransfer()) { followInvoice(); }
    return;
  }
  $("payment").hidden = false;
  $("amount-due").textContent = t("order.amountDue", { amount: money(o.amount_due, o.currency) });
  $("hold-until").textContent = o.hold_expires_at
    ? t("order.holdUntil", { time: formatDateTime(o.hold_expires_at) }) : "";
  $("last-payment-error").textContent = o.last_payment_error
    ? t("order.lastPaymentError", { reason: o.last_payment_error }) : "";
  payWhenReady({
    path: orderPath(), headers: orderHeaders(token), amount: money(o.amount_due, o.currency),
    payer: o.buyer,
    onPaid: ({ processing }) => {
      if (processing) { noteDebitProcessing(o.id); }
      location.assign(privateLink(`/confirmation/${encodeURIComponent(o.id)}`, token));
    },
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
  const documentsBefore = shownDocuments === null ? null : JSON.parse(shownDocuments).length;
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
  showBankTransfer();
  followDocuments(documentsBefore);
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
  showDocuments();
  showPendingChange();
  $("receipt").addEventListener("click", downloadReceipt);
  $("country").replaceChildren(make("option", { value: "" }, t("register.chooseCountry")),
    ...countryOptions(catalog.countries));
  $("substitute-form").addEventListener("submit", sendColleague);
  $("substitute-back").addEventListener("click", closeSubstitution);
  const open = disclosure($("cancel-start"), $("cancel-confirm"), $("cancel-question"));
  $("cancel-no").addEventListener("click", () => open(false));
  $("cancel-yes").addEventListener("click", () => cancel(`${orderPath()}/cancel`,
    $("cancel-yes"), $("cancel-error"), t("order.cancelled")));
});
