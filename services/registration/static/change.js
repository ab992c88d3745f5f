// Changing a confirmed booking: what the delegate's page (manage.js), the buyer's order page
// (order.js) and the money desk (admin-order.js) share. The form (the ticket type, each
// time slot's workshops as radio buttons, the other add-ons as checkboxes; sold-out and
// unavailable ones marked), its price asked first (".../changes/quote") and a refusal
// shown by the field it names; a change told in words; one Idempotency-Key per
// submission; and paying the difference of a change that costs more in the page's payment
// block (common.js's payWhenReady), or giving the change up.
"use strict";

const CHANGE_POLL_MS = 1000;
const CHANGE_WAIT_MS = 30000;
// The card form as the page was served: paying a difference starts from a fresh copy, as
// payWhenReady binds its button and mounts the card once per call.
const changePristineCardForm = document.getElementById("card-form")
  ? document.getElementById("card-form").cloneNode(true) : null;

// ---- In words -------------------------------------------------------------------------

function changeNames(catalog) {
  return {
    ticket: Object.fromEntries(catalog.ticket_types.map((x) => [x.code, x.name])),
    addOn: Object.fromEntries(catalog.add_ons.map((x) => [x.code, x.name])),
  };
}

// What a change does to a booking ({ticket_type, add_ons} before and after), in words:
// "added Gala dinner (11 June); dropped …".
function changeWhat(before, after, catalog) {
  const names = changeNames(catalog);
  const parts = [];
  if (after.ticket_type && after.ticket_type !== before.ticket_type) {
    parts.push(t("change.whatTicket", { from: names.ticket[before.ticket_type]
      || before.ticket_type, to: names.ticket[after.ticket_type] || after.ticket_type }));
  }
  const list = (codes) => codes.map((code) => names.addOn[code] || code).join("; ");
  const added = after.add_ons.filter((code) => !before.add_ons.includes(code));
  const dropped = before.add_ons.filter((code) => !after.add_ons.includes(code));
  if (added.length) { parts.push(t("change.whatAdded", { names: list(added) })); }
  if (dropped.length) { parts.push(t("change.whatDropped", { names: list(dropped) })); }
  return parts.join("; ");
}

// What a quote ({difference, refund_due, payment_method, currency}) means for the money:
// "You pay €95.00 more." / "€47.50 will be refunded to the card you paid with." / ...
// `refundTo`: "card", or "transfer" for a booking paid by bank transfer.
function changePriceText(quote, refundTo = "card") {
  const amount = (cents) => money(cents, quote.currency);
  if (quote.difference > 0) {
    return t(quote.payment_method === "invoice" ? "change.payMoreInvoice" : "change.payMore",
      { amount: amount(quote.difference) });
  }
  if (quote.difference === 0) { return t("change.noDifference"); }
  const lower = -quote.difference;
  if (!quote.refund_due) { return t("change.refundNone", { lower: amount(lower) }); }
  if (quote.refund_due < lower) {
    return t("change.refundPart", { lower: amount(lower), amount: amount(quote.refund_due) });
  }
  return t(refundTo === "transfer" ? "change.refundAllTransfer" : "change.refundAll",
    { amount: amount(quote.refund_due) });
}

// What a change asked cost or gave back, as its status says.
function changeMoneyText(change, currency) {
  const amount = (cents) => money(cents, currency);
  if (change.status === "pending_payment") {
    return t("change.waiting", { amount: amount(change.difference) });
  }
  if (change.status === "cancelled" || change.status === "expired") {
    return t(`change.${change.status}`);
  }
  if (change.difference > 0) { return t("change.paid", { amount: amount(change.difference) }); }
  if (change.difference === 0) { return t("change.samePrice"); }
  return change.refund_due ? t("change.refunded", { amount: amount(change.refund_due) })
    : t("change.notRefunded", { amount: amount(-change.difference) });
}

// The changes asked of a booking, oldest first, in `list` (a <ul>); `none` (a <p>) says
// when there are none.
function showChangeHistory(list, none, changes, catalog, currency) {
  none.hidden = changes.length > 0;
  list.hidden = !changes.length;
  list.replaceChildren(...changes.map((change) => make("li", {
    className: "change-item", "data-status": change.status },
  t("change.historyItem", { date: formatDateTime(change.created_at),
    what: changeWhat(change.before, change.after, catalog),
    amount: changeMoneyText(change, currency) }))));
}

// ---- One Idempotency-Key per submission -----------------------------------------------

const changeKeys = {};  // by booking: {content, key} of a change sent without an answer

// POST the change `body` to `path`: the same key again only when the same change is sent
// again after its answer was lost (no answer, 429, 5xx); a new one for a new submission.
async function sendChange(path, { name, body, headers = {}, bearer }) {
  const content = JSON.stringify(body);
  const pending = changeKeys[name];
  const key = pending && pending.content === content ? pending.key : randomKey();
  changeKeys[name] = { content, key };
  const answer = await api("POST", path, { body, bearer,
                                           headers: { ...headers, "Idempotency-Key": key } });
  if (answer.ok || !(answer.status === 0 || answer.status === 429 || answer.status >= 500)) {
    delete changeKeys[name];
  }
  return answer;
}

// What the delegate's and the buyer's pages do when their form confirms a change: send it
// (`send`: sendChange's arguments but the body) and then, refused because the booking can
// no longer change here, `onClosed()` redraws the section to say why; refused otherwise,
// the form shows it by its field; applied, `onApplied(change)`; waiting for the
// difference, `onPending(change)` with the page's payment block.
async function submitChange(form, path, send, body, { onClosed, onApplied, onPending }) {
  form.confirmBusy(true);
  const answer = await sendChange(path, { ...send, body });
  form.confirmBusy(false);
  if (!answer.ok) {
    if (answer.error.code === "change_pending" || answer.error.code === "changes_closed") {
      await onClosed();
      $("change-note").focus();
      return;
    }
    await form.refuse(answer.error, body);
    return;
  }
  const change = answer.data;
  if (change.status === "applied") {
    await onApplied(change);
    return;
  }
  changeNote(t("change.pendingNote"));
  await onPending(change);
  $("payment-heading").focus();
}

// ---- The form -------------------------------------------------------------------------

// The common start of the names of `addOns` ("Pre-conference workshop (9 June)" of
// "Pre-conference workshop (9 June): Tinkering for inclusion"), or null.
function changeSlotName(addOns) {
  const heads = addOns.map((addOn) => addOn.name.split(": ")[0]);
  const alike = addOns.every((addOn) => addOn.name.includes(": "))
    && heads.every((head) => head === heads[0]);
  return alike ? heads[0] : null;
}

class ChangeForm {
  // prefix           the start of every id in the form
  // catalog          GET /api/catalog's answer; booking: {ticket_type, add_ons}
  // organiser        may choose ticket types that need a code
  // refundTo         "card" or "transfer": where a refund goes, as said
  // confirmLabel     the button that confirms the change, once priced
  // onQuote(body)    the quote's api() answer; onConfirm(body, quote): the page's
  // reloadCatalog()  the catalog again (after a place sold out meanwhile)
  // onClose()        when given, a button that closes the form
  constructor({ prefix, catalog, booking, organiser = false, refundTo = "card",
                confirmLabel = t("change.confirm"), onQuote, onConfirm, reloadCatalog,
                onClose }) {
    Object.assign(this, { prefix, catalog, booking, organiser, refundTo, confirmLabel,
                          onQuote, onConfirm, reloadCatalog });
    this.quoted = null;
    this.choices = make("div", { className: "change-choices" });
    this.seeButton = make("button", { type: "submit", id: `${prefix}-see` },
      t("change.seePrice"));
    const actions = make("div", { className: "actions" }, this.seeButton);
    if (onClose) {
      const close = make("button", { type: "button", className: "secondary",
                                     id: `${prefix}-close` }, t("change.close"));
      close.addEventListener("click", onClose);
      actions.append(close);
    }
    this.difference = make("p", { className: "difference", id: `${prefix}-difference`,
                                  tabindex: "-1" });
    this.lines = make("div", { id: `${prefix}-lines` });
    this.confirmButton = make("button", { type: "button", id: `${prefix}-confirm` },
      confirmLabel);
    this.quoteBlock = make("div", { className: "change-quote", id: `${prefix}-quote`,
                                    hidden: true },
    make("h3", { id: `${prefix}-quote-heading` }, t("change.quoteHeading")),
    this.lines, this.difference, make("div", { className: "actions" }, this.confirmButton));
    this.form = make("form", { id: `${prefix}-form`, className: "change-form",
                               novalidate: true },
    make("div", { className: "error-summary", role: "alert", tabindex: "-1", hidden: true }),
    this.choices, actions, this.quoteBlock);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.quote();
    });
    this.form.addEventListener("change", (event) => {
      if (event.target.name === `${prefix}-ticket_type`) { this.fit(); }
      this.hideQuote();
    });
    this.confirmButton.addEventListener("click", () => {
      if (this.quoted) { this.onConfirm(this.quoted.body, this.quoted.quote); }
    });
    this.render();
  }

  // Start again from `booking` (and the catalog as it is now, when given).
  reset(booking, catalog) {
    this.booking = booking;
    if (catalog) { this.catalog = catalog; }
    this.choices.replaceChildren();
    this.render();
    clearErrors(this.form);
    this.hideQuote();
  }

  choice(type, name, code, title, details, { disabled, checked, addOn }) {
    const id = `${name}-${code}`;
    return make("div", { className: "choice" },
      make("input", { type, name, value: code, id, disabled, checked,
                      "data-add-on": addOn ? code : null,
                      "aria-describedby": details.length ? `${id}-details` : null }),
      make("label", { for: id }, title),
      details.length ? make("p", { className: "details", id: `${id}-details` }, ...details)
        : null);
  }

  fieldset(id, legend, hint, children) {
    return make("fieldset", { id, className: "choices",
                              "aria-describedby": hint ? `${id}-hint` : null },
    make("legend", {}, legend),
    hint ? make("p", { className: "hint", id: `${id}-hint` }, hint) : null,
    make("p", { className: "field-error", id: `${id}-error`, hidden: true }),
    ...children);
  }

  // Sold out, or how many are left; "In this booking now" for what it holds.
  details(item, held) {
    return [
      item.price !== undefined ? make("span", {}, money(item.price)) : null,
      held ? make("span", { className: "held" }, t("change.current")) : null,
      make("span", { className: item.remaining > 0 ? "left" : "left none" },
        item.remaining > 0 ? t("register.left", { count: item.remaining })
          : t("register.soldOut")),
      item.price !== undefined
        ? make("span", { className: "not-for", hidden: true }, t("change.notWithTicket"))
        : null,
    ].filter(Boolean);
  }

  // Draw the choices, keeping what is chosen where it can still be chosen, else what the
  // booking holds.
  render() {
    const p = this.prefix;
    const booking = this.booking;
    const held = new Set(booking.add_ons);
    const wanted = this.choices.childElementCount ? this.wanted() : booking;
    const soldOut = (item, holds) => item.remaining <= 0 && !holds;
    const tickets = this.catalog.ticket_types.filter((ticket) => this.organiser
      || !ticket.requires_code || ticket.code === booking.ticket_type);
    const ticketChosen = tickets.some((ticket) => ticket.code === wanted.ticket_type
      && !soldOut(ticket, ticket.code === booking.ticket_type))
      ? wanted.ticket_type : booking.ticket_type;
    const parts = [this.fieldset(`${p}-ticket_type`, t("change.ticketLegend"), null,
      tickets.map((ticket) => {
        const holds = ticket.code === booking.ticket_type;
        return this.choice("radio", `${p}-ticket_type`, ticket.code, ticket.name,
          this.details(ticket, holds), { disabled: soldOut(ticket, holds),
                                         checked: ticket.code === ticketChosen });
      }))];
    const slots = new Map();
    const extras = [];
    for (const addOn of this.catalog.add_ons) {
      if (addOn.exclusive_group) {
        if (!slots.has(addOn.exclusive_group)) { slots.set(addOn.exclusive_group, []); }
        slots.get(addOn.exclusive_group).push(addOn);
      } else {
        extras.push(addOn);
      }
    }
    const open = (addOn) => !soldOut(addOn, held.has(addOn.code));
    for (const [group, addOns] of slots) {
      const slot = changeSlotName(addOns);
      const chosen = addOns.find((a) => wanted.add_ons.includes(a.code) && open(a))
        || addOns.find((a) => held.has(a.code));
      const name = `${p}-slot-${group}`;
      parts.push(this.fieldset(name, slot || t("change.slotLegend"), t("change.slotHint"), [
        this.choice("radio", name, "none", t("change.slotNone"), [], { checked: !chosen }),
        ...addOns.map((addOn) => this.choice("radio", name, addOn.code,
          slot ? addOn.name.slice(slot.length + 2) : addOn.name,
          this.details(addOn, held.has(addOn.code)),
          { disabled: !open(addOn), checked: chosen === addOn, addOn: true }))]));
    }
    if (extras.length) {
      parts.push(this.fieldset(`${p}-extras`, t("change.extrasLegend"), null,
        extras.map((addOn) => this.choice("checkbox", `${p}-extras`, addOn.code, addOn.name,
          this.details(addOn, held.has(addOn.code)),
          { disabled: !open(addOn), checked: wanted.add_ons.includes(addOn.code) && open(addOn),
            addOn: true }))));
    }
    this.choices.replaceChildren(...parts);
    this.fit();
  }

  // Add-ons limited to some ticket types cannot be kept or chosen with the others.
  fit() {
    const ticket = this.wanted().ticket_type;
    const held = new Set(this.booking.add_ons);
    for (const addOn of this.catalog.add_ons) {
      const input = this.form.querySelector(`input[data-add-on="${CSS.escape(addOn.code)}"]`);
      if (!input) { continue; }
      const excluded = Boolean(addOn.ticket_types && !addOn.ticket_types.includes(ticket));
      input.disabled = excluded || (addOn.remaining <= 0 && !held.has(addOn.code));
      if (input.disabled && input.checked) {
        input.checked = false;
        if (input.type === "radio") {
          input.closest("fieldset").querySelector("input[value='none']").checked = true;
        }
      }
      const notFor = input.parentElement.querySelector(".not-for");
      if (notFor) { notFor.hidden = !excluded; }
    }
  }

  // What the booking should hold: {ticket_type, add_ons} (every add-on, kept or new).
  wanted() {
    const ticket = this.form.querySelector(`input[name="${this.prefix}-ticket_type"]:checked`);
    return { ticket_type: ticket ? ticket.value : this.booking.ticket_type,
             add_ons: [...this.form.querySelectorAll("input[data-add-on]:checked")]
               .map((input) => input.value) };
  }

  unchanged(body) {
    const sorted = (codes) => JSON.stringify([...codes].sort());
    return body.ticket_type === this.booking.ticket_type
      && sorted(body.add_ons) === sorted(this.booking.add_ons);
  }

  hideQuote() {
    this.quoted = null;
    this.quoteBlock.hidden = true;
  }

  async quote() {
    const body = this.wanted();
    this.hideQuote();
    if (this.unchanged(body)) {
      showErrors(this.form, [{ field: null, message: t("change.nothingChanged") }]);
      return;
    }
    clearErrors(this.form);
    busy(this.seeButton, true, t("change.quoting"));
    const answer = await this.onQuote(body);
    busy(this.seeButton, false, t("change.seePrice"));
    if (!answer.ok) {
      await this.refuse(answer.error, body);
      return;
    }
    const quote = answer.data;
    this.quoted = { body, quote };
    this.lines.replaceChildren(priceTable({
      lines: quote.price_lines, total: quote.amount_due, totalLabel: t("change.newTotal"),
      currency: quote.currency, caption: t("change.quoteCaption") }));
    this.difference.textContent = changePriceText(quote, this.refundTo);
    this.quoteBlock.hidden = false;
    this.difference.focus();
  }

  confirmBusy(isBusy) {
    busy(this.confirmButton, isBusy, isBusy ? t("change.confirming") : this.confirmLabel);
    this.seeButton.disabled = isBusy;
  }

  // Where the API's field is in the form: "ticket_type", or "add_ons[i]" (the i-th add-on
  // of `body`) as the slot or the other add-ons it is among.
  fieldOf(field, body) {
    if (field === "ticket_type") { return `${this.prefix}-ticket_type`; }
    const index = /^add_ons\[(\d+)\]$/.exec(field || "");
    const addOn = index && this.catalog.add_ons.find((a) => a.code === body.add_ons[index[1]]);
    if (!addOn) { return null; }
    return addOn.exclusive_group ? `${this.prefix}-slot-${addOn.exclusive_group}`
      : `${this.prefix}-extras`;
  }

  // A refusal by the field it names (a place sold out meanwhile: marked so first).
  async refuse(error, body) {
    this.hideQuote();
    if (error.code === "sold_out" && this.reloadCatalog) {
      const catalog = await this.reloadCatalog();
      if (catalog) {
        this.catalog = catalog;
        this.render();
      }
    }
    showErrors(this.form, [{ field: this.fieldOf(error.field, body), message: error.message }]);
  }
}

// ---- Paying the difference ------------------------------------------------------------

// Pay the difference of `change` (pending_payment, with its order_token) in the page's
// payment block: #payment with #payment-heading, #amount-due, #hold-until, #payment-status
// and #card-form (common.js), and this page's #change-paying-for, #change-invoice(-link)
// and #change-give-up(-panel, -error). Once paid, `listChanges()` (the booking's changes
// as the server has them now, or null) is asked until the change has taken effect:
// onApplied(change); given up or lapsed unpaid: onDropped(message).
async function payChangeDifference({ change, catalog, currency, heading, payer, listChanges,
                                     onApplied, onDropped }) {
  if (changePristineCardForm) {
    $("card-form").replaceWith(changePristineCardForm.cloneNode(true));
  }
  const path = `/api/orders/${encodeURIComponent(change.order_id)}`;
  const headers = orderHeaders(change.order_token);
  const amount = money(change.difference, currency);
  let settled = false;
  const finish = () => {
    settled = true;
    $("payment").hidden = true;
    $("change-give-up-panel").hidden = true;
    $("change-paying-for").hidden = true;
    $("change-invoice").hidden = true;
  };
  // Has the change taken effect, or been dropped? Asked until it has, for a while; then
  // `otherwise` is said.
  const follow = async (waitMs = CHANGE_WAIT_MS, otherwise = t("change.followingSlow")) => {
    const until = Date.now() + waitMs;
    for (;;) {
      const changes = await listChanges();
      const now = changes && changes.find((c) => c.id === change.id);
      if (now && now.status === "applied") {
        finish();
        onApplied(now);
        return;
      }
      if (now && (now.status === "cancelled" || now.status === "expired")) {
        finish();
        onDropped(t(`change.${now.status}`));
        return;
      }
      if (Date.now() > until) {
        $("payment-status").textContent = otherwise;
        return;
      }
      await sleep(CHANGE_POLL_MS);
    }
  };
  $("payment-heading").textContent = heading;
  $("amount-due").textContent = t("change.amountDue", { amount });
  $("hold-until").textContent = "";
  $("last-payment-error").textContent = "";
  $("payment-status").textContent = "";
  $("change-paying-for").textContent = t("change.payingFor",
    { what: changeWhat(change.before, change.after, catalog) });
  $("change-paying-for").hidden = false;
  $("change-invoice").hidden = true;
  $("change-give-up-error").hidden = true;
  $("change-give-up-panel").hidden = false;
  $("payment").hidden = false;
  $("change-give-up").onclick = async () => {
    const button = $("change-give-up");
    const error = $("change-give-up-error");
    error.hidden = true;
    busy(button, true, t("change.givingUp"));
    const answer = await api("POST", `${path}/cancel`, { headers });
    busy(button, false, t("change.giveUp"));
    if (answer.ok) {
      finish();
      onDropped(t("change.dropped"));
      return;
    }
    error.textContent = answer.error.message;
    error.hidden = false;
    follow(0, "");  // paid meanwhile, perhaps
  };
  const order = await api("GET", path, { headers });
  if (order.ok && order.data.hold_expires_at) {
    $("hold-until").textContent = t("change.holdUntil",
      { time: formatDateTime(order.data.hold_expires_at) });
  }
  if (order.ok && order.data.payment_method === "invoice") {  // a supplementary invoice
    $("card-form").hidden = true;
    $("change-invoice-link").href = privateLink(path.replace("/api", ""), change.order_token);
    $("change-invoice").hidden = false;
    $("payment-status").textContent = t("change.invoiceWaiting", { amount });
    return;
  }
  if (settled) { return; }
  payWhenReady({
    path, headers, amount, payer,
    onPaid: ({ processing }) => {
      if (processing) {
        $("payment-status").textContent = t("change.processing");
        return;
      }
      $("payment-status").textContent = t("change.following");
      $("change-give-up-panel").hidden = true;
      follow();
    },
    onRefused: (error) => follow(CHANGE_POLL_MS * 5, error.message),
  });
}

// On a page with a change section (the delegate's, the buyer's): say why the form is not
// offered now (``text``), or offer it again (no text).
function changeNote(text) {
  $("change-note").textContent = text || "";
  $("change-note").hidden = !text;
  $("change-form-holder").hidden = Boolean(text);
}
