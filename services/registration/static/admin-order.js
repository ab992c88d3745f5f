// One order at the money desk: its buyer and billing details, delegates, money, card
// payments, bank transfers, documents and emails, read from registration, payments and
// notifications. Each part is drawn again only when it changed; after an action the order
// is read again for a while, as what follows it happens a second or two later. The admin
// may change a delegate's confirmed booking (change.js's form, loaded before this script),
// confirmed in the dialog and sent with its Idempotency-Key as the other actions.
"use strict";

const FOLLOW_POLL_MS = 1000;
const FOLLOW_WAIT_MS = 15000;
const OPEN = ["pending_payment", "confirmed"];

// The order open: {id, order, money (or null), messages (or null)}; null when none is.
let detail = null;
let drawn = {};  // what each part shows now, as JSON
let follows = 0;  // the newest follow-up; an older one stops

async function readOrder(id) {
  const path = `/api/admin/orders/${enc(id)}`;
  const [order, moneyAnswer, messages] = await Promise.all([
    adminApi(path), paymentsApi(`${path}/money`), notificationsApi(`${path}/messages`)]);
  return { order, money: moneyAnswer, messages };
}

// Draw `part` with `data` unless it shows that already (the focus stays where it is).
function drawOnce(part, data, draw) {
  const seen = JSON.stringify(data);
  if (drawn[part] === seen) { return; }
  drawn[part] = seen;
  draw(data);
}

// Put `children` in `list`; a focus that was in it goes to `fallback`, not to the page's
// start.
function redraw(list, fallback, children) {
  const focused = list.contains(document.activeElement);
  list.replaceChildren(...children);
  if (focused) { fallback.focus(); }
}

function facts(list, pairs) {
  list.replaceChildren(...pairs.filter(Boolean).flatMap(([key, value, id]) => [
    make("dt", {}, t(key)), make("dd", { id }, value || t("desk.notGiven"))]));
}

function showBuyer(order) {
  const b = order.buyer;
  const invoice = order.invoice;
  facts($("detail-buyer"), [
    ["desk.contact", b.name], ["desk.email", b.email], ["desk.organisation", b.organisation],
    ["desk.country", countryName(b.country)],
    ["desk.billingAddress", b.billing_address, "detail-billing-address"],
    ["desk.vatNumber", b.vat_number], ["desk.purchaseOrder", b.purchase_order],
    ["desk.paymentMethod", named("methods", order.payment_method), "detail-method"],
    invoice && invoice.due_on ? ["desk.dueOn", formatDate(invoice.due_on)] : null,
    ["desk.ordered", formatDateTime(order.created_at)]]);
}

function showDelegates(order) {
  redraw($("detail-delegates").tBodies[0], $("detail-heading"),
    order.delegates.map((d) => make("tr", {},
      make("th", { scope: "row" }, d.reference),
      ...cells([fullName(d)], [d.email], [ticketNames[d.ticket_type] || d.ticket_type],
        [t(`statuses.${d.status}`)], [money(d.amount_due, order.currency), true]),
      role === "admin" ? make("td", {}, changeButton(d)) : null)));
}

// What the order is worth, what came in and went back, and what is left (or paid over).
function showMoney(answer, currency) {
  const error = $("detail-money-error");
  if (!answer.ok) {
    $("detail-money").replaceChildren();
    error.textContent = answer.status === 403 ? t("desk.notAllowed")
      : t("desk.moneyUnavailable");
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const m = answer.data;
  facts($("detail-money"), [
    ["desk.amountDue", money(m.amount_due, currency), "money-due"],
    ["desk.amountReceived", money(m.amount_received, currency), "money-received"],
    ["desk.amountRefunded", money(m.amount_refunded, currency), "money-refunded"],
    ["desk.outstanding", m.outstanding < 0
      ? t("desk.paidOver", { amount: money(-m.outstanding, currency) })
      : money(m.outstanding, currency), "money-outstanding"],
    m.payment_reference
      ? ["desk.paymentReference", groupsOfFour(m.payment_reference), "money-reference"] : null,
  ]);
}

// Card payments, each followed by its refunds.
function showPayments(payments, currency) {
  $("detail-payments-none").hidden = payments.length > 0;
  $("detail-payments-region").hidden = !payments.length;
  $("detail-payments").tBodies[0].replaceChildren(...payments.flatMap((p) => [
    make("tr", { className: "payment-row" },
      make("td", {}, formatDateTime(p.created_at)),
      make("td", { className: "code" }, p.payment_intent_id || ""),
      ...cells([named("paymentStatuses", p.status)], [money(p.amount, currency), true],
        [money(p.amount_received, currency), true], [money(p.amount_refunded, currency), true],
        [p.receipt_number || ""])),
    ...(p.refunds || []).map((refund) => make("tr", { className: "refund-row" },
      make("td", {}, formatDateTime(refund.created_at)),
      ...cells([t("desk.refundRow")], [refund.reason || ""], [""], [""],
        [money(refund.amount, currency), true], [""]))),
  ]));
}

function showTransfers(transfers, currency) {
  $("detail-transfers-none").hidden = transfers.length > 0;
  $("detail-transfers-region").hidden = !transfers.length;
  $("detail-transfers").tBodies[0].replaceChildren(...transfers.map((transfer) => make("tr",
    { className: "transfer-row", "data-status": transfer.status },
    ...cells([formatDate(transfer.received_on)],
      [money(transfer.amount, transfer.currency || currency), true],
      [named("transferStatuses", transfer.status)], [transfer.payer || ""],
      [transfer.reference || ""],
      [[named("sources", transfer.source), transfer.note].filter(Boolean).join(": ")]))));
}

function showDocuments(documents, currency) {
  const error = $("detail-documents-error");
  error.hidden = true;
  $("detail-documents-none").hidden = documents.length > 0;
  redraw($("detail-documents"), $("detail-documents-heading"), documentItems(documents, {
    base: config.payments_url, headers: { Authorization: `Bearer ${adminToken()}` }, currency,
    onFailed: () => {
      error.textContent = t("documents.failed");
      error.hidden = false;
    } }));
}

function messageRow(message, index) {
  const kind = [named("messageKinds", message.kind),
    message.registration_id ? t("desk.messageTo") : null].filter(Boolean).join(" ");
  const about = `message-${index}`;
  const resend = make("button", { type: "button", className: "secondary",
    "aria-describedby": about }, t("desk.resend"));
  resend.addEventListener("click", () => resendMessage(message, kind, resend));
  return make("tr", { className: "message-row", "data-kind": message.kind },
    make("td", {}, formatDateTime(message.created_at)),
    make("td", { id: about }, kind),
    ...cells([[named("messageStatuses", message.status), message.last_error]
      .filter(Boolean).join(": ")], [message.attempts, true],
    [message.sent_at ? formatDateTime(message.sent_at) : t("desk.notGiven")]),
    make("td", {}, resend));
}

// The emails about the order, each with "Send again"; not shown to a sign-in that may not
// see them.
function showMessages(answer) {
  const section = $("detail-messages-section");
  section.hidden = answer.status === 403;
  if (section.hidden) { return; }
  const error = $("detail-messages-error");
  error.textContent = answer.ok ? "" : t("desk.messagesUnavailable");
  error.hidden = answer.ok;
  if (!answer.ok) { return; }
  const items = answer.data.items;
  $("detail-messages-none").hidden = items.length > 0;
  $("detail-messages-region").hidden = !items.length;
  redraw($("detail-messages").tBodies[0], $("detail-messages-region"), items.map(messageRow));
}

function showStatus(order) {
  const status = $("detail-status");
  status.textContent = t(`statuses.${order.status}`);
  status.className = `status ${{ confirmed: "ok", pending_payment: "warn" }[order.status]
    || "bad"}`;
}

function render(read) {
  const order = read.order.data;
  detail = { id: order.id, order, money: read.money.ok ? read.money.data : null,
             messages: read.messages.ok ? read.messages.data.items : null };
  $("detail-heading").textContent = t("desk.orderHeading", { reference: order.reference });
  showStatus(order);
  drawOnce("buyer", [order.buyer, order.payment_method, order.invoice], () => showBuyer(order));
  drawOnce("delegates", order.delegates, () => showDelegates(order));
  drawOnce("money", [read.money.status, read.money.data],
    () => showMoney(read.money, order.currency));
  const m = detail.money || { payments: [], transfers: [], documents: [] };
  drawOnce("payments", m.payments, () => showPayments(m.payments, order.currency));
  drawOnce("transfers", m.transfers, () => showTransfers(m.transfers, order.currency));
  drawOnce("documents", m.documents, () => showDocuments(m.documents, order.currency));
  drawOnce("messages", [read.messages.status, read.messages.data],
    () => showMessages(read.messages));
  fitActions();
}

// The actions this order allows now.
function fitActions() {
  const { order } = detail;
  const open = OPEN.includes(order.status);
  $("cancel-form").hidden = !open;
  $("cancel-closed").hidden = open;
  const m = detail.money;
  const left = m ? m.amount_received - m.amount_refunded : 0;
  $("refund-form").hidden = left <= 0;
  $("refund-none").hidden = left > 0;
  $("refund-amount-hint").textContent = t("desk.refundAmountHint",
    { amount: money(Math.max(left, 0), order.currency) });
}

function news(text) {
  $("detail-news").textContent = text;
}

async function openOrder(id) {
  follows += 1;
  drawn = {};
  detail = null;
  news("");
  for (const form of document.querySelectorAll("#order-detail form")) {
    form.reset();
    clearErrors(form);
  }
  $("billing-form").hidden = true;
  $("billing-start").setAttribute("aria-expanded", "false");
  closeDeskChange({ quietly: true });
  $("transfer-received_on").value = todayIso();
  $("overview").hidden = true;
  $("order-detail").hidden = false;
  $("detail-heading").textContent = t("desk.loading");
  $("detail-status").textContent = "";
  $("detail-heading").focus();
  const read = await readOrder(id);
  if (!read.order.ok) {
    $("detail-status").textContent = read.order.error.message;
    $("detail-status").className = "status bad";
    return;
  }
  render(read);
  $("detail-heading").focus();
}

// Back to the list, its rows up to date, the focus on the order that was open.
function closeOrder({ quietly = false } = {}) {
  const id = detail && detail.id;
  follows += 1;
  detail = null;
  $("order-detail").hidden = true;
  $("overview").hidden = false;
  if (quietly) { return; }
  refreshStats();
  search().then(() => {
    const button = id && document.querySelector(`#orders button[data-order="${CSS.escape(id)}"]`);
    if (button) { button.focus(); }
  });
}

// Read the open order again every second until `settled(detail)` or for a while.
async function follow(settled) {
  follows += 1;
  const mine = follows;
  const started = Date.now();
  while (detail && mine === follows) {
    const read = await readOrder(detail.id);
    if (!detail || mine !== follows || !read.order.ok) { return; }
    render(read);
    if (settled(detail) || Date.now() - started > FOLLOW_WAIT_MS) { return; }
    await sleep(FOLLOW_POLL_MS);
  }
}

const documentCount = () => (detail.money ? detail.money.documents.length : 0);

// ---- Changing a delegate's booking (admin) ---------------------------------------------

let deskChanging = null;  // {delegate, form}: the booking the change form is open on

const changesAt = (delegate, more = "") =>
  `/api/admin/registrations/${enc(delegate.id)}/changes${more}`;

// "Change booking" (of whom, for a screen reader) for a confirmed delegate, to the admin.
function changeButton(delegate) {
  if (role !== "admin" || delegate.status !== "confirmed") { return null; }
  const button = make("button", { type: "button", className: "secondary",
                                  "aria-controls": "desk-change", "data-change": delegate.id },
  t("change.deskOpen"), make("span", { className: "visually-hidden" },
    ` ${t("change.deskOpenFor", { name: fullName(delegate) })}`));
  button.addEventListener("click", () => openDeskChange(delegate));
  return button;
}

function deskChangeNote(content) {
  const note = $("desk-change-note");
  note.replaceChildren(...(content || []));
  note.hidden = !content;
  $("desk-change-holder").hidden = Boolean(content);
}

// A change that waits for the buyer to pay its difference: said, with the link that pays it.
function deskPendingNote(change) {
  return [t("change.deskPending", { amount: money(change.difference, detail.order.currency),
                                    reference: change.order_reference }), " ",
  change.order_token ? make("a", { href: privateLink(`/orders/${enc(change.order_id)}`,
    change.order_token) }, t("change.deskPayLink")) : null].filter(Boolean);
}

async function openDeskChange(delegate) {
  const order = detail.order;
  const section = $("desk-change");
  $("desk-change-heading").textContent = t("change.deskHeading", { name: fullName(delegate) });
  section.hidden = false;
  deskChangeNote(null);
  $("desk-change-heading").focus();
  const items = await showDeskChanges(delegate);
  const pending = items.find((c) => c.status === "pending_payment");
  if (pending) { deskChangeNote(deskPendingNote(pending)); }
  const booking = { ticket_type: delegate.ticket_type, add_ons: delegate.add_ons };
  const refundTo = order.payment_method === "invoice" ? "transfer" : "card";
  if (!deskChanging) {
    const form = new ChangeForm({
      prefix: "desk-change", catalog, booking, organiser: true, refundTo,
      confirmLabel: t("change.deskSubmit"), onClose: closeDeskChange,
      onQuote: (body) => adminApi(changesAt(deskChanging.delegate, "/quote"),
        { method: "POST", body }),
      onConfirm: (body, quote) => confirmDeskChange(body, quote),
      reloadCatalog: async () => {
        const answer = await api("GET", "/api/catalog");
        if (answer.ok) { catalog = answer.data; }
        return answer.ok ? catalog : null;
      },
    });
    $("desk-change-holder").replaceChildren(form.form);
    deskChanging = { delegate, form };
  } else {
    deskChanging.delegate = delegate;
    deskChanging.form.refundTo = refundTo;
    deskChanging.form.reset(booking, catalog);
  }
}

// The changes asked of the delegate's booking, listed; and returned.
async function showDeskChanges(delegate) {
  const changes = await adminApi(changesAt(delegate));
  const items = changes.ok ? changes.data.items : [];
  showChangeHistory($("desk-change-history"), $("desk-change-history-none"), items, catalog,
    detail.order.currency);
  return items;
}

function closeDeskChange({ quietly = false } = {}) {
  const section = $("desk-change");
  if (!section) { return; }
  const id = deskChanging && deskChanging.delegate.id;
  section.hidden = true;
  if (quietly || !id) { return; }
  const button = document.querySelector(`#detail-delegates button[data-change="${CSS.escape(id)}"]`);
  (button || $("detail-heading")).focus();
}

function confirmDeskChange(body, quote) {
  const { delegate, form } = deskChanging;
  const order = detail.order;
  const name = fullName(delegate);
  const before = JSON.stringify(order.delegates);
  confirmAction({
    name: `change:${delegate.id}`, content: JSON.stringify(body),
    title: t("change.deskTitle"), yes: t("change.deskYes"), busyLabel: t("change.confirming"),
    text: t("change.deskText", { name, what: changeWhat(delegate, body, catalog),
                                 price: changePriceText(quote, form.refundTo) }),
    returnFocus: form.confirmButton,
    send: (key) => adminApi(changesAt(delegate),
      { method: "POST", body, headers: { "Idempotency-Key": key } }),
    refused: (error) => form.refuse(error, body),
    done: (change) => {
      if (change.status === "pending_payment") {
        news(t("change.deskPending", { amount: money(change.difference, order.currency),
                                       reference: change.order_reference }));
        deskChangeNote(deskPendingNote(change));
        $("desk-change-heading").focus();
        showDeskChanges(delegate);
        return;
      }
      news(t("change.deskApplied", { name }));
      closeDeskChange({ quietly: true });
      $("detail-heading").focus();
      const documents = documentCount();
      follow((now) => JSON.stringify(now.order.delegates) !== before
        && documentCount() >= documents);
    },
  });
}

// The section the change form opens in, below the delegates.
function changeSection() {
  return make("section", { className: "card", id: "desk-change", hidden: true,
                           "aria-labelledby": "desk-change-heading" },
  make("h3", { id: "desk-change-heading", tabindex: "-1" }),
  make("p", { className: "hint" }, t("change.deskIntro")),
  make("p", { id: "desk-change-note", className: "warn-text", hidden: true }),
  make("div", { id: "desk-change-holder" }),
  make("h4", { id: "desk-change-history-heading" }, t("change.historyHeading")),
  make("p", { id: "desk-change-history-none", className: "hint" }, t("change.historyNone")),
  make("ul", { id: "desk-change-history", className: "change-history",
               "aria-labelledby": "desk-change-history-heading", hidden: true }));
}

function setUpOrder() {
  $("back-to-orders").addEventListener("click", () => closeOrder());
  $("detail-delegates").tHead.rows[0].append(
    make("th", { scope: "col", "data-admin-only": true }, t("change.colChange")));
  $("detail-delegates").closest("section").after(changeSection());
}
