// Bank transfers at the desk: importing the bank's statement (camt.053), which pays the
// orders whose payment reference its credits quote, and deciding about the transfers
// nobody could match: assign one to an order (found by its reference or id), or dismiss it
// with a note.
"use strict";

const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let deciding = null;  // the unmatched transfer being decided

function transferWords(transfer) {
  return {
    amount: money(transfer.amount, transfer.currency), date: formatDate(transfer.received_on),
    payer: transfer.payer || t("desk.unknownPayer"),
    reference: transfer.reference || t("desk.noReference"),
  };
}

function transferLine(transfer) {
  return make("li", {}, t("desk.transferLine", transferWords(transfer)));
}

// ---- The statement --------------------------------------------------------------------

function showImported(outcome) {
  const parts = [make("p", {}, t("desk.statementImported",
    { matched: outcome.matched.length, unmatched: outcome.unmatched.length }))];
  if (outcome.already_imported) {
    parts.push(make("p", {}, t("desk.statementAgain", { count: outcome.already_imported })));
  }
  for (const [key, list, id] of [["desk.matchedHeading", outcome.matched, "imported-matched"],
    ["desk.unmatchedNew", outcome.unmatched, "imported-unmatched"]]) {
    if (!list.length) { continue; }
    parts.push(make("h3", { id: `${id}-heading` }, t(key)),
      make("ul", { id, "aria-labelledby": `${id}-heading` }, ...list.map(transferLine)));
  }
  $("statement-result").replaceChildren(...parts);
}

function importStatement(event) {
  event.preventDefault();
  const form = $("statement-form");
  const file = $("statement-statement").files[0];
  if (!file) {
    showErrors(form, [{ field: "statement-statement", message: t("desk.chooseStatement") }]);
    return;
  }
  clearErrors(form);
  confirmAction({
    name: "statement", content: `${file.name}:${file.size}:${file.lastModified}`,
    title: t("desk.statementTitle"), yes: t("desk.statementYes"), busyLabel: t("desk.importing"),
    text: t("desk.statementText", { name: file.name, size: Math.ceil(file.size / 1024) }),
    returnFocus: $("statement-submit"),
    send: (key) => paymentsApi("/api/admin/statements", { method: "POST", raw: file,
      contentType: "application/xml", headers: { "Idempotency-Key": key } }),
    refused: (error) => showRefusal(form, "statement", error),
    done: (outcome) => {
      form.reset();
      showImported(outcome);
      showUnmatched();
      search();
      refreshStats();
    },
  });
}

// ---- Transfers nobody could match -----------------------------------------------------

function unmatchedRow(transfer, index) {
  const words = transferWords(transfer);
  const about = `unmatched-${index}`;
  const assign = make("button", { type: "button", className: "secondary",
    "aria-describedby": about }, t("desk.assignStart"));
  const dismiss = make("button", { type: "button", className: "secondary",
    "aria-describedby": about }, t("desk.dismissStart"));
  assign.addEventListener("click", () => decide(transfer, "assign", assign));
  dismiss.addEventListener("click", () => decide(transfer, "dismiss", dismiss));
  return make("tr", { "data-id": transfer.id },
    make("td", {}, words.date), make("td", { className: "num" }, words.amount),
    make("td", {}, transfer.payer || ""), make("td", {}, transfer.reference || ""),
    make("td", {}, make("span", { id: about, className: "visually-hidden" },
      t("desk.decideName", words)), make("div", { className: "actions" }, assign, dismiss)));
}

async function showUnmatched() {
  const answer = await paymentsApi("/api/admin/transfers?status=unmatched");
  const error = $("unmatched-error");
  error.hidden = answer.ok;
  if (!answer.ok) {
    error.textContent = answer.error.message;
    return;
  }
  const items = answer.data.items;
  $("unmatched-none").hidden = items.length > 0;
  $("unmatched-region").hidden = !items.length;
  $("unmatched").tBodies[0].replaceChildren(...items.map(unmatchedRow));
}

// Decide about one transfer: the form for `how` ("assign" or "dismiss") below the list.
function decide(transfer, how, button) {
  deciding = { transfer, button };
  $("decide").hidden = false;
  $("decide-about").textContent = t("desk.decideAbout", transferWords(transfer));
  for (const name of ["assign", "dismiss"]) {
    const form = $(`${name}-form`);
    form.hidden = name !== how;
    form.reset();
    clearErrors(form);
  }
  $(how === "assign" ? "assign-order_id" : "dismiss-note").focus();
}

function stopDeciding() {
  const back = deciding && deciding.button;
  deciding = null;
  $("decide").hidden = true;
  if (back && back.isConnected) { back.focus(); }
}

// The order a reference (or an id) names, or null.
async function findOrder(text) {
  if (ORDER_ID.test(text)) {
    const answer = await adminApi(`/api/admin/orders/${enc(text)}`);
    return answer.ok ? answer.data : null;
  }
  const answer = await adminApi(`/api/admin/orders?q=${enc(text)}&limit=20`);
  return (answer.ok && answer.data.items.find(
    (order) => order.reference.toUpperCase() === text.toUpperCase())) || null;
}

async function assign(event) {
  event.preventDefault();
  const form = $("assign-form");
  const { transfer } = deciding;
  const text = $("assign-order_id").value.trim();
  const order = text ? await findOrder(text) : null;
  if (!order) {
    showErrors(form, [{ field: "assign-order_id",
                        message: t(text ? "desk.noSuchOrder" : "desk.orderRequired") }]);
    return;
  }
  clearErrors(form);
  const words = transferWords(transfer);
  confirmAction({
    name: `assign:${transfer.id}`, content: order.id,
    title: t("desk.assignTitle"), yes: t("desk.assignYes"), busyLabel: t("desk.assigning"),
    text: t("desk.assignText", { ...words, reference: order.reference, buyer: order.buyer.name }),
    returnFocus: $("assign-submit"),
    send: (key) => paymentsApi(`/api/admin/transfers/${enc(transfer.id)}/assign`,
      { method: "POST", body: { order_id: order.id }, headers: { "Idempotency-Key": key } }),
    refused: (error) => showRefusal(form, "assign", error),
    done: () => {
      stopDeciding();
      $("statement-result").replaceChildren(make("p", {},
        t("desk.assigned", { reference: order.reference })));
      showUnmatched();
      search();
      refreshStats();
      $("unmatched-heading").focus();
    },
  });
}

function dismiss(event) {
  event.preventDefault();
  const form = $("dismiss-form");
  const { transfer } = deciding;
  const note = $("dismiss-note").value.trim();
  if (!note) {
    showErrors(form, [{ field: "dismiss-note", message: t("desk.noteRequired") }]);
    return;
  }
  clearErrors(form);
  confirmAction({
    name: `dismiss:${transfer.id}`, content: note, danger: true,
    title: t("desk.dismissTitle"), yes: t("desk.dismissYes"), busyLabel: t("desk.dismissing"),
    text: t("desk.dismissText", { ...transferWords(transfer), note }),
    returnFocus: $("dismiss-submit"),
    send: (key) => paymentsApi(`/api/admin/transfers/${enc(transfer.id)}/dismiss`,
      { method: "POST", body: { note }, headers: { "Idempotency-Key": key } }),
    refused: (error) => showRefusal(form, "dismiss", error),
    done: () => {
      stopDeciding();
      $("statement-result").replaceChildren(make("p", {}, t("desk.dismissed")));
      showUnmatched();
      $("unmatched-heading").focus();
    },
  });
}

function setUpTransfers() {
  $("statement-form").addEventListener("submit", importStatement);
  $("assign-form").addEventListener("submit", assign);
  $("dismiss-form").addEventListener("submit", dismiss);
  for (const button of document.querySelectorAll(".decide-close")) {
    button.addEventListener("click", stopDeciding);
  }
}
