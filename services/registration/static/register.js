// The registration page: one order books one or several delegates (the catalog's prices
// and what is left shown for each), the booking contact and billing details, an estimate
// per delegate and for the order, checked in the page and by the server; then, once
// payments has prepared it, paying the order by card, or, when the catalog offers it and
// the buyer chooses it, paying by invoice: the order's page then shows how to transfer.
// A sold-out item offers its waiting list, and a place offered from it is booked here
// (waiting-list.js). The link in a "hold expired" email opens the form filled in again.
"use strict";

const MAX_DELEGATES = 50;
const DELEGATE_TEXT = ["given_name", "name_order", "organisation", "country", "email"];
const DELEGATE_OPTIONAL = ["family_name", "pronouns", "dietary_needs", "accessibility_needs",
  "member_code", "discount_code"];
const BUYER_OPTIONAL = ["billing_address", "vat_number", "purchase_order"];
// What the booking contact takes from delegate 1 when they are the same person.
const BUYER_FROM_DELEGATE = { "buyer.name": "given_name", "buyer.email": "email",
  "buyer.organisation": "organisation", "buyer.country": "country" };
const EMAIL = /^[^\s@]+@[^\s@]+$/;

let catalog = null;
let countries = [];
let delegatesMade = 0;
// The form content last sent without a definitive answer, and its Idempotency-Key: sending
// the same content again re-uses the key, so that a retry never books twice.
let submission = null;

const sections = () => [...document.querySelectorAll("#delegates .delegate")];
const field = (section, name) => $(`${section.dataset.uid}-${name}`);
const buyerIsDelegate = () => $("buyer-is-delegate").checked;
const byInvoice = () => $("payment_method-invoice").checked && !$("pay-by").hidden;
const submitLabel = () => t(byInvoice() ? "register.submitInvoice" : "register.submit");

// ---- One delegate's section -----------------------------------------------------------

function chosenTicket(section) {
  const checked = section.querySelector(".ticket-choices input:checked");
  return checked && catalog.ticket_types.find((ticket) => ticket.code === checked.value);
}

function chosenAddOns(section) {
  return [...section.querySelectorAll(".add-on-choices input:checked")]
    .map((input) => catalog.add_ons.find((addOn) => addOn.code === input.value));
}

function priceText(member, nonMember) {
  if (!member && !nonMember) { return t("common.free"); }
  return `${t("register.memberPrice", { price: money(member) })} · ` +
         t("register.nonMemberPrice", { price: money(nonMember) });
}

function leftText(remaining) {
  return remaining > 0 ? t("register.left", { count: remaining }) : t("register.soldOut");
}

function ticketDetails(ticket) {
  const parts = [];
  if (ticket.early_bird_now) {
    parts.push(make("span", {}, priceText(ticket.early_bird_member, ticket.early_bird_non_member)),
      make("span", { className: "early" },
        t("register.earlyBird", { date: formatDate(ticket.early_bird_until) })),
      make("span", {}, t("register.thenPrices", {
        member: money(ticket.price_member), nonMember: money(ticket.price_non_member) })));
  } else {
    parts.push(make("span", {}, priceText(ticket.price_member, ticket.price_non_member)));
  }
  if (ticket.requires_code) {
    parts.push(make("span", { className: "tag" }, t("register.needsCode")));
  }
  parts.push(make("span", { className: ticket.remaining > 0 ? "left" : "left none" },
    leftText(ticket.remaining)));
  if (ticket.remaining <= 0) { parts.push(joinButton("ticket_type", ticket)); }
  return parts;
}

function choice(type, name, code, title, details, disabled, checked) {
  const id = `${name}-${code}`;
  return make("div", { className: "choice" },
    make("input", { type, name, value: code, id, disabled, checked,
                    "aria-describedby": `${id}-details` }),
    make("label", { for: id }, title),
    make("p", { className: "details", id: `${id}-details` }, ...details));
}

// Draw a delegate's ticket types and add-ons, keeping what is chosen and still available.
function renderChoices(section) {
  const uid = section.dataset.uid;
  const ticketWas = chosenTicket(section);
  const addOnsWere = new Set(chosenAddOns(section).map((addOn) => addOn.code));
  section.querySelector(".ticket-choices").replaceChildren(...catalog.ticket_types.map(
    (ticket) => choice("radio", `${uid}-ticket_type`, ticket.code, ticket.name,
      ticketDetails(ticket), ticket.remaining <= 0,
      ticketWas && ticketWas.code === ticket.code && ticket.remaining > 0)));
  section.querySelector(".add-on-choices").replaceChildren(...catalog.add_ons.map(
    (addOn) => choice("checkbox", `${uid}-add_ons`, addOn.code, addOn.name,
      [make("span", {}, money(addOn.price)),
       make("span", { className: addOn.remaining > 0 ? "left" : "left none" },
         leftText(addOn.remaining)),
       make("span", { className: "not-for", hidden: true }, t("register.notWithTicket")),
       addOn.remaining <= 0 ? joinButton("add_on", addOn) : null],
      addOn.remaining <= 0, addOnsWere.has(addOn.code) && addOn.remaining > 0)));
  fitAddOnsToTicket(section);
}

// Add-ons limited to some ticket types cannot be chosen with the others.
function fitAddOnsToTicket(section) {
  const ticket = chosenTicket(section);
  for (const addOn of catalog.add_ons) {
    const input = $(`${section.dataset.uid}-add_ons-${addOn.code}`);
    const excluded = Boolean(ticket && addOn.ticket_types
                             && !addOn.ticket_types.includes(ticket.code));
    input.disabled = excluded || addOn.remaining <= 0;
    if (input.disabled) { input.checked = false; }
    input.parentElement.querySelector(".not-for").hidden = !excluded;
  }
}

// The template's "P-" ids, and the labels and descriptions pointing at them, made unique.
function delegateSection() {
  delegatesMade += 1;
  const uid = `d${delegatesMade}`;
  const fragment = $("delegate-template").content.cloneNode(true);
  const pointers = ["id", "for", "aria-describedby", "aria-labelledby"];
  for (const node of fragment.querySelectorAll(pointers.map((name) => `[${name}]`).join())) {
    for (const name of pointers) {
      const value = node.getAttribute(name);
      if (value) { node.setAttribute(name, value.replace(/\bP-/g, `${uid}-`)); }
    }
  }
  translatePage(fragment);
  const section = fragment.querySelector(".delegate");
  section.dataset.uid = uid;
  section.id = uid;
  section.querySelector(`#${uid}-country`)
    .append(...countries.map((option) => option.cloneNode(true)));
  section.querySelector(".remove-delegate")
    .addEventListener("click", () => removeDelegate(section));
  return section;
}

// Headings and remove buttons say each delegate's number; delegate 1 stays.
function numberDelegates() {
  const all = sections();
  all.forEach((section, index) => {
    const number = index + 1;
    section.querySelector("h2").textContent = t("register.delegateHeading", { number });
    const remove = section.querySelector(".remove-delegate");
    remove.textContent = t("register.removeDelegate", { number });
    remove.hidden = index === 0;
  });
  $("add-delegate").disabled = all.length >= MAX_DELEGATES;
}

// Another delegate's section, at the end of the form.
function appendDelegate() {
  const section = delegateSection();
  for (const control of section.querySelectorAll("[autocomplete]")) {
    control.setAttribute("autocomplete", "off");  // the browser's autofill is about oneself
  }
  $("delegates").append(section);
  renderChoices(section);
  return section;
}

function addDelegate() {
  const first = sections()[0];
  const from = (name) => field(first, name).value
    || (buyerIsDelegate() ? "" : $(`buyer-${name}`).value);
  const section = appendDelegate();
  field(section, "organisation").value = from("organisation");
  field(section, "country").value = from("country");
  numberDelegates();
  showEstimate();
  const number = sections().length;
  $("delegates-status").textContent = [t("register.delegateAdded", { number }),
    number >= MAX_DELEGATES ? t("register.tooMany", { count: MAX_DELEGATES }) : ""].join(" ");
  field(section, "given_name").focus();
}

function removeDelegate(section) {
  const number = sections().indexOf(section) + 1;
  section.remove();
  numberDelegates();
  showEstimate();
  $("delegates-status").textContent = t("register.delegateRemoved", { number });
  $("add-delegate").focus();
}

// ---- Booking again after a hold expired ------------------------------------------------
// The email's link (/?rebook=<order id>#token=<the buyer's token>) names the order and,
// after '#', which no server sees, the token: the page asks for the order as its buyer
// sees it and fills in the buyer and each delegate, with the tickets and add-ons still to
// be had. Codes are not kept: they are typed again.

const REBOOK_FIELDS = ["given_name", "family_name", "name_order", "pronouns", "organisation",
  "country", "email"];

// The expired order the page was opened to book again: {order} or {problem}; or null.
async function expiredOrder() {
  const id = new URLSearchParams(location.search).get("rebook");
  if (!id) { return null; }
  const token = takeToken(id);
  if (!token) { return { problem: t("common.noToken") }; }
  const answer = await api("GET", `/api/orders/${encodeURIComponent(id)}`,
    { headers: orderHeaders(token) });
  return answer.ok ? { order: answer.data } : { problem: loadProblem(answer) };
}

function checkIfOffered(id) {
  const input = $(id);
  if (input && !input.disabled) { input.checked = true; }
}

function fillDelegate(section, delegate) {
  for (const name of REBOOK_FIELDS) {
    if (delegate[name]) { field(section, name).value = delegate[name]; }
  }
  checkIfOffered(`${section.dataset.uid}-ticket_type-${delegate.ticket_type}`);
  fitAddOnsToTicket(section);
  for (const code of delegate.add_ons) {
    checkIfOffered(`${section.dataset.uid}-add_ons-${code}`);
  }
}

// The form as the order was booked: delegate 1 in the first section, a section for each
// other delegate, the booking contact (unless delegate 1 was it), billing and payment.
function fillFromOrder(order) {
  const [first, ...others] = order.delegates;
  fillDelegate(sections()[0], first);
  for (const delegate of others) { fillDelegate(appendDelegate(), delegate); }
  const { buyer } = order;
  const apart = buyer.name !== fullName(first) || buyer.email !== first.email;
  $("buyer-is-delegate").checked = !apart;
  $("buyer-contact").hidden = !apart;
  const contact = apart ? ["name", "email", "organisation", "country"] : [];
  for (const name of [...contact, ...BUYER_OPTIONAL]) {
    if (buyer[name]) { $(`buyer-${name}`).value = buyer[name]; }
  }
  if (order.payment_method === "invoice" && !$("pay-by").hidden) {
    $("payment_method-invoice").checked = true;
    fitBillingToMethod();
  }
}

// ---- Estimates ------------------------------------------------------------------------

// A delegate's price lines and total by the catalog (codes are left to the server).
function delegateEstimate(section) {
  const ticket = chosenTicket(section);
  if (!ticket) { return null; }
  const member = field(section, "member_code").value.trim() !== "";
  const early = ticket.early_bird_now;
  const price = early
    ? (member ? ticket.early_bird_member : ticket.early_bird_non_member)
    : (member ? ticket.price_member : ticket.price_non_member);
  const label = [t(member ? "register.memberLabel" : "register.nonMemberLabel"),
    early ? t("register.earlyBirdLabel") : null].filter(Boolean).join(", ");
  const lines = [
    { description: t("register.ticketLine", { name: ticket.name, label }), amount: price },
    ...chosenAddOns(section).map((addOn) => ({ description: addOn.name, amount: addOn.price }))];
  return { ticket, lines, total: lines.reduce((sum, line) => sum + line.amount, 0) };
}

function showEstimate() {
  const currency = catalog.conference.currency;
  const rate = catalog.conference.vat_rate_percent;
  const orderLines = [];
  let total = 0;
  let complete = true;
  sections().forEach((section, index) => {
    const number = index + 1;
    const uid = section.dataset.uid;
    const estimate = delegateEstimate(section);
    const holder = section.querySelector(".delegate-estimate");
    if (!estimate) {
      complete = false;
      holder.replaceChildren(make("p", { className: "hint" }, t("register.noTicketYet")));
      orderLines.push({ description: t("register.noTicketLine", { number }), amount: 0 });
      return;
    }
    holder.replaceChildren(priceTable({
      lines: estimate.lines, total: estimate.total, totalLabel: t("register.subtotalLine"),
      currency, totalId: `${uid}-estimate-total`,
      caption: t("register.delegateEstimate", { number }) }));
    const name = fullName({ name_order: field(section, "name_order").value,
                            given_name: field(section, "given_name").value.trim(),
                            family_name: field(section, "family_name").value.trim() });
    orderLines.push({
      description: t("register.delegateLine", { number, ticket: estimate.ticket.name }),
      detail: name || null, amount: estimate.total });
    total += estimate.total;
  });
  const vat = total - Math.round((total * 100) / (100 + Number(rate)));
  const notes = [t("register.totalNote")];
  if (sections().some((section) => field(section, "discount_code").value.trim())) {
    notes.push(t("register.codeNote"));
  }
  $("estimate").replaceChildren(
    priceTable({ lines: orderLines, total, vat, rate, currency, totalId: "estimate-total" }),
    ...notes.map((note) => make("p", { className: "hint" }, note)));
  const summary = complete ? `${t("register.totalHeading")}: ${money(total, currency)}` : "";
  if ($("estimate-live").textContent !== summary) { $("estimate-live").textContent = summary; }
}

// ---- Checking and sending -------------------------------------------------------------

function collectDelegate(section) {
  const ticket = chosenTicket(section);
  const delegate = Object.fromEntries(DELEGATE_TEXT.map(
    (name) => [name, field(section, name).value.trim()]));
  delegate.ticket_type = ticket ? ticket.code : "";
  delegate.add_ons = chosenAddOns(section).map((addOn) => addOn.code);
  for (const name of DELEGATE_OPTIONAL) {
    const value = field(section, name).value.trim();
    if (value) { delegate[name] = value; }
  }
  return delegate;
}

function collect() {
  const delegates = sections().map(collectDelegate);
  const first = delegates[0];
  const buyer = buyerIsDelegate()
    ? { name: fullName(first), email: first.email, organisation: first.organisation,
        country: first.country }
    : Object.fromEntries(["name", "email", "organisation", "country"].map(
      (name) => [name, $(`buyer-${name}`).value.trim()]));
  for (const name of BUYER_OPTIONAL) {
    const value = $(`buyer-${name}`).value.trim();
    if (value) { buyer[name] = value; }
  }
  return { buyer, delegates, payment_method: byInvoice() ? "invoice" : "card" };
}

// What the page can tell is wrong before asking the server, in the order of the form,
// each with the API's name for its field.
function pageProblems(body) {
  const problems = [];
  const problem = (path, key, values) => problems.push({ field: path, message: t(key, values) });
  const taken = {};  // places this order takes, by ticket type or add-on code
  const allSections = sections();
  body.delegates.forEach((delegate, index) => {
    const at = (name) => `delegates[${index}].${name}`;
    const section = allSections[index];
    const ticket = chosenTicket(section);
    if (!ticket) { problem(at("ticket_type"), "validation.chooseTicket"); }
    const addOns = chosenAddOns(section);
    const groups = {};
    for (const addOn of addOns.filter((a) => a.exclusive_group)) {
      (groups[addOn.exclusive_group] = groups[addOn.exclusive_group] || []).push(addOn.name);
    }
    const clash = Object.values(groups).find((names) => names.length > 1);
    if (clash) { problem(at("add_ons"), "validation.exclusive", { names: clash.join("; ") }); }
    for (const [item, name] of [[ticket, "ticket_type"], ...addOns.map((a) => [a, "add_ons"])]) {
      if (!item) { continue; }
      taken[item.code] = (taken[item.code] || 0) + 1;
      if (taken[item.code] > item.remaining) {
        problem(at(name), "validation.tooFewLeft", { count: item.remaining, name: item.name });
      }
    }
    for (const name of ["given_name", "organisation"]) {
      if (!delegate[name]) {
        problem(at(name), "validation.required", { field: t(`fieldNames.${name}`) });
      }
    }
    if (!delegate.country) { problem(at("country"), "validation.chooseCountry"); }
    if (!delegate.email) {
      problem(at("email"), "validation.required", { field: t("fieldNames.email") });
    } else if (!EMAIL.test(delegate.email)) {
      problem(at("email"), "validation.email");
    }
    if (ticket && ticket.requires_code && !delegate.discount_code) {
      problem(at("discount_code"), "validation.codeRequired");
    }
  });
  if (!buyerIsDelegate()) {
    for (const name of ["name", "organisation"]) {
      if (!body.buyer[name]) {
        problem(`buyer.${name}`, "validation.required", { field: t(`fieldNames.${name}`) });
      }
    }
    if (!body.buyer.email) {
      problem("buyer.email", "validation.required", { field: t("fieldNames.email") });
    } else if (!EMAIL.test(body.buyer.email)) {
      problem("buyer.email", "validation.email");
    }
    if (!body.buyer.country) { problem("buyer.country", "validation.chooseCountry"); }
  }
  if (body.payment_method === "invoice" && !body.buyer.billing_address) {
    problem("buyer.billing_address", "validation.billingAddressForInvoice");
  }
  return problems;
}

// The API's field name ("delegates[1].email", "buyer.country") as the id of its control.
function controlOf(path) {
  const delegate = /^delegates\[(\d+)\]\.(.+)$/.exec(path || "");
  if (delegate) {
    const section = sections()[Number(delegate[1])];
    return section ? `${section.dataset.uid}-${delegate[2]}` : path;
  }
  if (buyerIsDelegate() && BUYER_FROM_DELEGATE[path]) {
    return controlOf(`delegates[0].${BUYER_FROM_DELEGATE[path]}`);
  }
  return path;
}

// Each problem by its control; the summary says which delegate's it is, in a group.
function showProblems(problems) {
  const group = sections().length > 1;
  showErrors($("register-form"), problems.map((problem) => {
    const delegate = /^delegates\[(\d+)\]/.exec(problem.field || "");
    return { ...problem, field: controlOf(problem.field),
             inSummary: group && delegate ? t("register.delegateProblem", {
               number: Number(delegate[1]) + 1, message: problem.message }) : problem.message };
  }));
}

async function loadCatalog() {
  const answer = await api("GET", "/api/catalog");
  if (!answer.ok) { throw new Error(answer.error.message); }
  catalog = answer.data;
  holdOfferedPlace(catalog);
  $("places-left").textContent = t("register.placesLeft", { count: catalog.remaining });
}

// What is left now, in every delegate's choices and the estimate.
async function showCatalogAgain() {
  await loadCatalog().then(() => sections().forEach(renderChoices), () => null);
  showEstimate();
}

async function placeOrder(event) {
  event.preventDefault();
  const form = $("register-form");
  const body = collect();
  const problems = pageProblems(body);
  if (problems.length) { showProblems(problems); return; }
  clearErrors(form);
  const content = JSON.stringify(body);
  if (!submission || submission.content !== content) {
    submission = { content, key: randomKey() };
  }
  busy($("submit"), true, t("register.submitting"));
  const booking = bookingRequest();
  const placed = await api("POST", booking.path,
    { body, headers: { ...booking.headers, "Idempotency-Key": submission.key } });
  busy($("submit"), false, submitLabel());
  const answered = placed.ok || (placed.status >= 400 && placed.status < 500
                                 && placed.status !== 429);
  if (answered) { submission = null; }
  if (!placed.ok) {
    if (placed.status === 409) {  // sold out meanwhile, or the offer ended: as it is now
      await refreshPlace();
      await showCatalogAgain();
    }
    if (placed.error.code === "invoice_not_offered") {  // no longer: card only from now on
      await loadCatalog().then(showPaymentMethods, () => null);
    }
    showProblems([placed.error]);
    return;
  }
  const order = placed.data;
  notePlaceBooked();
  storeToken(order.id, order.token);
  for (const delegate of order.delegates) { storeToken(delegate.id, delegate.token); }
  if (order.status === "confirmed") {
    goToConfirmation(order);
    return;
  }
  if (order.payment_method === "invoice") {  // no card: the order's page says how to pay
    location.assign(privateLink(`/orders/${encodeURIComponent(order.id)}`, order.token));
    return;
  }
  showPayment(order);
}

function goToConfirmation(order) {
  location.assign(privateLink(`/confirmation/${encodeURIComponent(order.id)}`, order.token));
}

// Pay by card or by invoice, when the catalog offers both: paying by invoice needs the
// billing address, and the button says what comes next.
function showPaymentMethods() {
  const conference = catalog.conference;
  const offered = (conference.payment_methods || ["card"]).includes("invoice");
  $("pay-by").hidden = !offered;
  if (!offered) { $("payment_method-card").checked = true; }
  $("payment_method-invoice-label").textContent = t("register.payInvoice",
    { days: Number(conference.invoice_period_days) });
  fitBillingToMethod();
}

function fitBillingToMethod() {
  const required = byInvoice();
  const need = $("billing-address-need");
  need.textContent = t(required ? "common.required" : "common.optional");
  need.className = required ? "req" : "opt";
  $("buyer-billing_address").required = required;
  $("submit").textContent = submitLabel();
}

function showPayment(order) {
  $("register-form").hidden = true;
  $("payment").hidden = false;
  $("order-placed").textContent = t("register.orderPlaced", { reference: order.reference });
  $("amounts").replaceChildren(priceTable({
    lines: order.delegates.map((delegate) => ({
      description: fullName(delegate),
      detail: delegate.price_lines.map((line) => line.description).join(" · "),
      amount: delegate.amount_due })),
    total: order.amount_due, vat: order.vat_amount, rate: order.vat_rate_percent,
    currency: order.currency, totalId: "amount-due" }));
  $("hold-until").textContent = order.hold_expires_at
    ? t("register.holdUntil", { time: formatDateTime(order.hold_expires_at) }) : "";
  $("payment-heading").focus();
  payWhenReady({
    path: `/api/orders/${encodeURIComponent(order.id)}`, headers: orderHeaders(order.token),
    amount: money(order.amount_due, order.currency), payer: order.buyer,
    onPaid: ({ processing }) => {
      if (processing) { noteDebitProcessing(order.id); }
      goToConfirmation(order);
    },
    onRefused: (error) => {
      if (error.code === "nothing_due") {
        goToConfirmation(order);
      } else {
        $("payment-status").textContent = error.message;
      }
    },
  });
}

function showConference() {
  const conference = catalog.conference;
  $("conference-name").textContent = conference.name;
  $("conference-details").textContent = t("register.datesVenue", {
    starts: formatDate(conference.starts_on), ends: formatDate(conference.ends_on),
    venue: conference.venue });
}

document.addEventListener("DOMContentLoaded", async () => {
  translatePage();
  setUpWaitingList();
  await openPlace();
  const rebooking = await expiredOrder();
  try {
    await loadCatalog();
  } catch (error) {
    $("loading").textContent = error.message;
    return;
  }
  countries = countryOptions(catalog.countries);
  $("buyer-country").append(...countries.map((option) => option.cloneNode(true)));
  showConference();
  showPaymentMethods();
  const first = delegateSection();
  $("delegates").append(first);
  renderChoices(first);
  fillFromOffer(first);
  if (rebooking && rebooking.order) { fillFromOrder(rebooking.order); }
  numberDelegates();
  showEstimate();
  $("loading").hidden = true;
  const form = $("register-form");
  form.hidden = false;
  if (rebooking && rebooking.problem) { showErrors(form, [{ message: rebooking.problem }]); }
  form.addEventListener("change", (event) => {
    const section = event.target.closest(".delegate");
    if (section && event.target.type === "radio") { fitAddOnsToTicket(section); }
    if (event.target.name === "payment_method") { fitBillingToMethod(); }
    showEstimate();
  });
  form.addEventListener("input", (event) => {
    if (event.target.closest(".delegate") && event.target.type !== "radio"
        && event.target.type !== "checkbox") {
      showEstimate();
    }
  });
  $("buyer-is-delegate").addEventListener("change", () => {
    $("buyer-contact").hidden = buyerIsDelegate();
  });
  $("add-delegate").addEventListener("click", addDelegate);
  form.addEventListener("submit", placeOrder);
});
