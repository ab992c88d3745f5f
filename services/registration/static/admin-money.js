// What the money desk does to the order open: record a bank transfer, refund part or all,
// cancel it with or without a refund, correct its billing details, send an email again.
// Each is confirmed in the dialog and sent once (admin-actions.js); afterwards the order is
// followed until what the action causes has happened.
"use strict";

const BILLING_FIELDS = ["name", "organisation", "country", "billing_address", "vat_number",
  "purchase_order"];
const BILLING_LABELS = { name: "register.buyerName", organisation: "register.organisation",
  country: "register.country", billing_address: "register.billingAddress",
  vat_number: "register.vatNumber", purchase_order: "register.purchaseOrder" };

const orderAt = (order, more = "") => `/api/admin/orders/${enc(order.id)}${more}`;
const withKey = (key) => ({ "Idempotency-Key": key });

// Checked in the page: [{field, message}] for showErrors, or [] when it can be sent.
function amountProblems(field, text, required) {
  if (!text) { return required ? [{ field, message: t("desk.amountRequired") }] : []; }
  return euros(text) ? [] : [{ field, message: t("desk.amountFormat") }];
}

function recordTransfer(event) {
  event.preventDefault();
  const form = $("transfer-form");
  const { order } = detail;
  const amountText = $("transfer-amount").value.trim();
  const body = { amount: euros(amountText), received_on: $("transfer-received_on").value,
                 reference: $("transfer-reference").value.trim(),
                 payer: $("transfer-payer").value.trim() || undefined };
  const problems = amountProblems("transfer-amount", amountText, true);
  if (!body.received_on) {
    problems.push({ field: "transfer-received_on", message: t("desk.dateRequired") });
  }
  if (problems.length) { showErrors(form, problems); return; }
  clearErrors(form);
  const amount = money(body.amount, order.currency);
  const before = { status: order.status, documents: documentCount() };
  confirmAction({
    name: `transfer:${order.id}`, content: JSON.stringify(body),
    title: t("desk.transferTitle"), yes: t("desk.transferYes"), busyLabel: t("desk.recording"),
    text: t("desk.transferText", { amount, date: formatDate(body.received_on),
                                   reference: order.reference }),
    returnFocus: $("transfer-submit"),
    send: (key) => paymentsApi(orderAt(order, "/transfers"),
      { method: "POST", body, headers: withKey(key) }),
    refused: (error) => showRefusal(form, "transfer", error),
    done: () => {
      form.reset();
      $("transfer-received_on").value = todayIso();
      news(t("desk.transferRecorded", { amount }));
      follow((now) => now.order.status !== before.status || documentCount() > before.documents);
    },
  });
}

function refund(event) {
  event.preventDefault();
  const form = $("refund-form");
  const { order } = detail;
  const amountText = $("refund-amount").value.trim();
  const reason = $("refund-reason").value.trim();
  const problems = amountProblems("refund-amount", amountText, false);
  if (!reason) { problems.push({ field: "refund-reason", message: t("desk.reasonRequired") }); }
  if (problems.length) { showErrors(form, problems); return; }
  clearErrors(form);
  const body = { reason, amount: amountText ? euros(amountText) : undefined };
  const before = documentCount();
  confirmAction({
    name: `refund:${order.id}`, content: JSON.stringify(body), danger: true,
    title: t("desk.refundTitle"), yes: t("desk.refundYes"), busyLabel: t("desk.refunding"),
    text: body.amount
      ? t("desk.refundText", { amount: money(body.amount, order.currency),
                               reference: order.reference, reason })
      : t("desk.refundAllText", { reference: order.reference, reason }),
    returnFocus: $("refund-submit"),
    send: (key) => paymentsApi(orderAt(order, "/refund"),
      { method: "POST", body, headers: withKey(key) }),
    refused: (error) => showRefusal(form, "refund", error),
    done: (made) => {
      form.reset();
      news(t("desk.refunded", { amount: money(made.amount, order.currency) }));
      follow(() => documentCount() > before);
    },
  });
}

function cancelOrder(event) {
  event.preventDefault();
  const form = $("cancel-form");
  const { order } = detail;
  const body = { refund: $("cancel-refund-yes").checked };
  clearErrors(form);
  const before = documentCount();
  confirmAction({
    name: `cancel:${order.id}`, content: JSON.stringify(body), danger: true,
    title: t("desk.cancelTitle"), yes: t("desk.cancelYes"), busyLabel: t("desk.cancelling"),
    text: t(body.refund ? "desk.cancelTextRefund" : "desk.cancelTextKeep",
      { reference: order.reference }),
    returnFocus: $("detail-heading"),
    send: (key) => adminApi(orderAt(order, "/cancel"),
      { method: "POST", body, headers: withKey(key) }),
    refused: (error) => showRefusal(form, "cancel", error),
    done: () => {
      news(t("desk.cancelled"));
      follow(() => documentCount() > before);
    },
  });
}

// ---- Billing details ------------------------------------------------------------------

function openBilling(open) {
  const form = $("billing-form");
  form.hidden = !open;
  $("billing-start").setAttribute("aria-expanded", String(open));
  if (!open) { $("billing-start").focus(); return; }
  clearErrors(form);
  for (const name of BILLING_FIELDS) { $(`billing-${name}`).value = detail.order.buyer[name] || ""; }
  $("billing-name").focus();
}

function correctBilling(event) {
  event.preventDefault();
  const form = $("billing-form");
  const { order } = detail;
  const body = {};
  for (const name of BILLING_FIELDS) {
    const value = $(`billing-${name}`).value.trim();
    if (value !== (order.buyer[name] || "")) { body[name] = value; }
  }
  if (!Object.keys(body).length) {
    showErrors(form, [{ field: null, message: t("desk.nothingChanged") }]);
    return;
  }
  clearErrors(form);
  const changes = Object.entries(body).map(([name, value]) => `${t(BILLING_LABELS[name])}: ${
    (name === "country" ? countryName(value) : value) || t("desk.notGiven")}`).join("; ");
  const before = documentCount();
  confirmAction({
    name: `billing:${order.id}`, content: JSON.stringify(body),
    title: t("desk.billingTitle"), yes: t("desk.billingYes"), busyLabel: t("desk.saving"),
    text: t("desk.billingText", { reference: order.reference, changes }),
    returnFocus: $("billing-start"),
    send: (key) => adminApi(orderAt(order, "/billing"),
      { method: "PATCH", body, headers: withKey(key) }),
    refused: (error) => showRefusal(form, "billing", error),
    done: () => {
      form.hidden = true;
      $("billing-start").setAttribute("aria-expanded", "false");
      news(t("desk.billingSaved"));
      // Payments credits the invoice there was and issues a new one.
      follow(() => before === 0 || documentCount() >= before + 2);
    },
  });
}

// ---- Emails ---------------------------------------------------------------------------

function resendMessage(message, kind, button) {
  const error = $("detail-messages-error");
  error.hidden = true;
  const before = detail.messages ? detail.messages.length : 0;
  const date = formatDateTime(message.created_at);
  confirmAction({
    name: `resend:${message.message_id}`, content: message.message_id,
    title: t("desk.resendTitle"), yes: t("desk.resendYes"), busyLabel: t("desk.resending"),
    text: t("desk.resendText", { kind, date }),
    returnFocus: button,
    send: (key) => notificationsApi(`/api/admin/messages/${enc(message.message_id)}/resend`,
      { method: "POST", headers: withKey(key) }),
    refused: (refusal) => {
      error.textContent = refusal.message;
      error.hidden = false;
    },
    done: () => {
      news(t("desk.resent"));
      follow(() => (detail.messages ? detail.messages.length : 0) > before);
    },
  });
}

function setUpMoney() {
  $("transfer-form").addEventListener("submit", recordTransfer);
  $("refund-form").addEventListener("submit", refund);
  $("cancel-form").addEventListener("submit", cancelOrder);
  $("billing-form").addEventListener("submit", correctBilling);
  $("billing-start").addEventListener("click",
    () => openBilling($("billing-form").hidden));
  $("billing-close").addEventListener("click", () => openBilling(false));
}
