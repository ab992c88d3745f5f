// One order at the money desk: its buyer and billing details, delegates, money, card
// payments, bank transfers, documents and emails, read from registration, payments and
// notifications. Each part is drawn again only when it changed; after an action the order
// is read again for a while, as what follows it happens a second or two later.
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
  $("detail-delegates").tBodies[0].replaceChildren(...order.delegates.map((d) => make("tr", {},
    make("th", { scope: "row" }, d.reference),
    ...cells([fullName(d)], [d.email], [ticketNames[d.ticket_type] || d.ticket_type],
      [t(`statuses.${d.status}`)], [money(d.amount_due, order.currency), true]))));
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

function setUpOrder() {
  $("back-to-orders").addEventListener("click", () => closeOrder());
}
