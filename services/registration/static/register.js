// The registration page: the catalog with prices and what is left, the form checked in
// the page and by the server, an estimated total, then paying by card.
"use strict";

const OPTIONAL_FIELDS = ["family_name", "pronouns", "dietary_needs", "accessibility_needs",
  "member_code", "discount_code", "billing_address", "billing_vat_number", "purchase_order"];
const EMAIL = /^[^\s@]+@[^\s@]+$/;

let catalog = null;

function chosenTicket() {
  const checked = document.querySelector('input[name="ticket_type"]:checked');
  return checked && catalog.ticket_types.find((ticket) => ticket.code === checked.value);
}

function chosenAddOns() {
  return [...document.querySelectorAll('input[name="add_ons"]:checked')]
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

// Draw the ticket types and add-ons, keeping what is chosen.
function renderChoices() {
  const ticketWas = chosenTicket();
  const addOnsWere = new Set(chosenAddOns().map((addOn) => addOn.code));
  $("ticket-choices").replaceChildren(...catalog.ticket_types.map((ticket) => choice(
    "radio", "ticket_type", ticket.code, ticket.name, ticketDetails(ticket),
    ticket.remaining <= 0, ticketWas && ticketWas.code === ticket.code && ticket.remaining > 0)));
  $("add-on-choices").replaceChildren(...catalog.add_ons.map((addOn) => choice(
    "checkbox", "add_ons", addOn.code, addOn.name,
    [make("span", {}, money(addOn.price)),
     make("span", { className: addOn.remaining > 0 ? "left" : "left none" },
       leftText(addOn.remaining)),
     make("span", { className: "not-for", hidden: true }, t("register.notWithTicket"))],
    addOn.remaining <= 0, addOnsWere.has(addOn.code) && addOn.remaining > 0)));
  $("places-left").textContent = t("register.placesLeft", { count: catalog.remaining });
  fitAddOnsToTicket();
}

// Add-ons limited to some ticket types cannot be chosen with the others.
function fitAddOnsToTicket() {
  const ticket = chosenTicket();
  for (const addOn of catalog.add_ons) {
    const input = $(`add_ons-${addOn.code}`);
    const excluded = Boolean(ticket && addOn.ticket_types
                             && !addOn.ticket_types.includes(ticket.code));
    input.disabled = excluded || addOn.remaining <= 0;
    if (input.disabled) { input.checked = false; }
    input.parentElement.querySelector(".not-for").hidden = !excluded;
  }
}

function showEstimate() {
  const ticket = chosenTicket();
  if (!ticket) {
    $("estimate").replaceChildren(make("p", {}, t("register.noTicketYet")));
    return;
  }
  const member = $("member_code").value.trim() !== "";
  const early = ticket.early_bird_now;
  const price = early
    ? (member ? ticket.early_bird_member : ticket.early_bird_non_member)
    : (member ? ticket.price_member : ticket.price_non_member);
  const label = [t(member ? "register.memberLabel" : "register.nonMemberLabel"),
    early ? t("register.earlyBirdLabel") : null].filter(Boolean).join(", ");
  const lines = [
    { description: t("register.ticketLine", { name: ticket.name, label }), amount: price },
    ...chosenAddOns().map((addOn) => ({ description: addOn.name, amount: addOn.price }))];
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const rate = Number(catalog.conference.vat_rate_percent);
  const vat = total - Math.round((total * 100) / (100 + rate));
  const notes = [t("register.totalNote")];
  if ($("discount_code").value.trim()) { notes.push(t("register.codeNote")); }
  $("estimate").replaceChildren(
    priceTable({ lines, total, vat, rate: catalog.conference.vat_rate_percent,
                 currency: catalog.conference.currency, totalId: "estimate-total" }),
    ...notes.map((note) => make("p", { className: "hint" }, note)));
}

function collect() {
  const form = $("register-form");
  const ticket = chosenTicket();
  const body = {
    given_name: form.given_name.value.trim(),
    organisation: form.organisation.value.trim(),
    country: form.country.value,
    email: form.email.value.trim(),
    ticket_type: ticket ? ticket.code : "",
    add_ons: chosenAddOns().map((addOn) => addOn.code),
  };
  for (const name of OPTIONAL_FIELDS) {
    const value = form[name].value.trim();
    if (value) { body[name] = value; }
  }
  return body;
}

// What the page can tell is wrong before asking the server, in the order of the form.
function pageProblems(body) {
  const problems = [];
  const problem = (field, key, values) => problems.push({ field, message: t(key, values) });
  if (!body.ticket_type) { problem("ticket_type", "validation.chooseTicket"); }
  const groups = {};
  for (const addOn of chosenAddOns().filter((a) => a.exclusive_group)) {
    (groups[addOn.exclusive_group] = groups[addOn.exclusive_group] || []).push(addOn.name);
  }
  const clash = Object.values(groups).find((names) => names.length > 1);
  if (clash) { problem("add_ons", "validation.exclusive", { names: clash.join("; ") }); }
  if (!body.given_name) {
    problem("given_name", "validation.required", { field: t("fieldNames.given_name") });
  }
  if (!body.organisation) {
    problem("organisation", "validation.required", { field: t("fieldNames.organisation") });
  }
  if (!body.country) { problem("country", "validation.chooseCountry"); }
  if (!body.email) {
    problem("email", "validation.required", { field: t("fieldNames.email") });
  } else if (!EMAIL.test(body.email)) {
    problem("email", "validation.email");
  }
  const ticket = chosenTicket();
  if (ticket && ticket.requires_code && !body.discount_code) {
    problem("discount_code", "validation.codeRequired");
  }
  return problems;
}

async function loadCatalog() {
  const answer = await api("GET", "/api/catalog");
  if (!answer.ok) { throw new Error(answer.error.message); }
  catalog = answer.data;
}

function showPayment(created) {
  $("register-form").hidden = true;
  $("payment").hidden = false;
  $("registered-as").textContent = t("register.registeredAs", { reference: created.reference });
  $("amounts").replaceChildren(priceTable({
    lines: created.price_lines, total: created.amount_due, vat: created.vat_amount,
    rate: created.vat_rate_percent, currency: created.currency, totalId: "amount-due" }));
  $("hold-until").textContent = created.hold_expires_at
    ? t("register.holdUntil", { time: formatDateTime(created.hold_expires_at) }) : "";
  $("payment-heading").focus();
  cardPayment({
    id: created.id, token: created.token, container: $("card-element"),
    errorHolder: $("card-error"), button: $("pay"),
    amount: money(created.amount_due, created.currency),
    // Payments may not have answered when we registered: ask for the payment first then.
    before: created.payment ? null : () => api("POST",
      `/api/registrations/${encodeURIComponent(created.id)}/payment`, { token: created.token }),
    onPaid: () => {
      $("pay-status").textContent = t("card.paid");
      location.assign(`/confirmation/${encodeURIComponent(created.id)}`);
    },
  });
}

async function register(event) {
  event.preventDefault();
  const form = $("register-form");
  const body = collect();
  const problems = pageProblems(body);
  if (problems.length) { showErrors(form, problems); return; }
  clearErrors(form);
  busy($("submit"), true, t("register.submitting"));
  const created = await api("POST", "/api/registrations", { body });
  busy($("submit"), false, t("register.submit"));
  if (!created.ok) {
    if (created.status === 409) {  // sold out meanwhile: show what is left now
      await loadCatalog().then(renderChoices, () => null);
      showEstimate();
    }
    showErrors(form, [created.error]);
    return;
  }
  storeToken(created.data.id, created.data.token);
  if (created.data.status === "confirmed") {
    location.assign(`/confirmation/${encodeURIComponent(created.data.id)}`);
    return;
  }
  showPayment(created.data);
}

function fillCountries() {
  const names = Object.entries(STRINGS.countries)
    .sort(([, a], [, b]) => a.localeCompare(b, STRINGS.locale));
  $("country").append(...names.map(([code, name]) => make("option", { value: code }, name)));
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
  fillCountries();
  try {
    await loadCatalog();
  } catch (error) {
    $("loading").textContent = error.message;
    return;
  }
  showConference();
  renderChoices();
  showEstimate();
  $("loading").hidden = true;
  const form = $("register-form");
  form.hidden = false;
  form.addEventListener("change", (event) => {
    if (event.target.name === "ticket_type") { fitAddOnsToTicket(); }
    showEstimate();
  });
  $("member_code").addEventListener("input", showEstimate);
  $("discount_code").addEventListener("input", showEstimate);
  form.addEventListener("submit", register);
});
