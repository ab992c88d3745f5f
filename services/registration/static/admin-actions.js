// How the money desk acts: every action is asked in an accessible dialog (#confirm, a modal
// <dialog>), sent once (its button disabled while in flight; one Idempotency-Key per
// confirmed action, the same key again when the same action is confirmed again after its
// answer was lost), and a refusal is shown by the field it names. Also euros typed as text.
"use strict";

// The key of each action sent without a definitive answer, by action: {content, key}.
const unanswered = {};
let asking = null;  // the action the dialog asks about
let sending = false;

// "1 380,00", "1380.00", "1.380,00", "1,380.00", "€ 95" as cents; null if not an amount.
function euros(text) {
  const value = String(text || "").replace(/[\s\u00a0\u202f€]/g, "");
  const parts = /^(\d{1,3}(?:([.,'])\d{3})(?:\2\d{3})*|\d+)(?:([.,])(\d{1,2}))?$/.exec(value);
  if (!parts || (parts[2] && parts[2] === parts[3])) { return null; }
  const cents = Number(parts[1].replace(/[.,']/g, "")) * 100
    + Number((parts[4] || "0").padEnd(2, "0"));
  return Number.isSafeInteger(cents) ? cents : null;
}

// The server's refusal by the field it names, in `form` whose controls are `<prefix>-<field>`
// ("buyer.name" is #<prefix>-buyer-name); a field the form does not show goes in its summary.
function showRefusal(form, prefix, error) {
  const field = error.field ? `${prefix}-${fieldKey(error.field)}` : null;
  showErrors(form, [{ field, message: error.message }]);
}

function keyFor(name, content) {
  const pending = unanswered[name];
  if (pending && pending.content === content) { return pending.key; }
  unanswered[name] = { content, key: randomKey() };
  return unanswered[name].key;
}

function dialogError(message) {
  $("confirm-error").textContent = message;
  $("confirm-error").hidden = !message;
}

// Ask about `action` and, once confirmed, do it:
//   name, content   which action with what (the same name and content re-use their key)
//   title, text     the question; yes, busyLabel: the confirm button, before and while sent
//   danger          a destructive action (the focus starts on "Go back")
//   send(key)       the request, with its Idempotency-Key: an api() answer
//   done(data)      after a success; refused(error) after a definitive refusal
//   returnFocus     where the focus goes back when the dialog closes
function confirmAction(action) {
  asking = action;
  $("confirm-title").textContent = action.title;
  $("confirm-text").textContent = action.text;
  dialogError("");
  const yes = $("confirm-yes");
  busy(yes, false, action.yes);
  yes.className = action.danger ? "danger" : "";
  $("confirm-no").disabled = false;
  $("confirm").showModal();
  (action.danger ? $("confirm-no") : yes).focus();
}

function closeDialog() {
  const dialog = $("confirm");
  if (dialog.open) { dialog.close(); }
  const back = asking && asking.returnFocus;
  asking = null;
  if (back && back.isConnected && !back.closest("[hidden]")) { back.focus(); }
}

async function confirmed() {
  const action = asking;
  if (!action || sending) { return; }
  sending = true;
  const yes = $("confirm-yes");
  busy(yes, true, action.busyLabel);
  $("confirm-no").disabled = true;
  dialogError("");
  let answer;
  try {
    answer = await action.send(keyFor(action.name, action.content));
  } catch {
    answer = { ok: false, status: 0, error: { message: t("common.unexpectedError") } };
  }
  sending = false;
  if (!answer.ok && (answer.status === 0 || answer.status === 429 || answer.status >= 500)) {
    // Maybe done, maybe not: confirming again sends the same key, so it is done once.
    busy(yes, false, action.yes);
    $("confirm-no").disabled = false;
    dialogError(`${answer.error.message} ${t("desk.tryAgain")}`);
    yes.focus();
    return;
  }
  delete unanswered[action.name];
  closeDialog();
  if (answer.ok) {
    action.done(answer.data);
  } else if (answer.status !== 401) {  // a refused token has signed out already
    action.refused(answer.error);
  }
}

function setUpDialog() {
  const dialog = $("confirm");
  $("confirm-yes").addEventListener("click", confirmed);
  $("confirm-no").addEventListener("click", () => { if (!sending) { closeDialog(); } });
  dialog.addEventListener("cancel", (event) => {  // Escape
    event.preventDefault();
    if (!sending) { closeDialog(); }
  });
}
