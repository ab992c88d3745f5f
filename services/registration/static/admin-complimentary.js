// A complimentary booking (admin only): a booking contact and one delegate, booked free of
// charge and confirmed at once, no payment and no code.
"use strict";

const COMP_BUYER = ["name", "email", "organisation", "country"];
const COMP_DELEGATE = ["given_name", "family_name", "email", "ticket_type"];

function fillComplimentary() {
  $("comp-delegates-0-ticket_type").replaceChildren(...catalog.ticket_types.map(
    (ticket) => make("option", { value: ticket.code }, ticket.name)));
}

function complimentaryProblems(body) {
  const problems = [];
  const need = (field, value, key, values) => {
    if (!value) { problems.push({ field, message: t(key, values) }); }
  };
  const { buyer } = body;
  const [delegate] = body.delegates;
  need("comp-buyer-name", buyer.name, "validation.required", { field: t("fieldNames.name") });
  need("comp-buyer-email", buyer.email, "validation.required", { field: t("fieldNames.email") });
  need("comp-buyer-organisation", buyer.organisation, "validation.required",
    { field: t("fieldNames.organisation") });
  need("comp-buyer-country", buyer.country, "validation.chooseCountry");
  need("comp-delegates-0-given_name", delegate.given_name, "validation.required",
    { field: t("fieldNames.given_name") });
  need("comp-delegates-0-email", delegate.email, "validation.required",
    { field: t("fieldNames.email") });
  need("comp-delegates-0-ticket_type", delegate.ticket_type, "validation.chooseTicket");
  return problems;
}

function bookComplimentary(event) {
  event.preventDefault();
  const form = $("comp-form");
  const value = (id) => $(id).value.trim();
  const buyer = Object.fromEntries(COMP_BUYER.map((name) => [name, value(`comp-buyer-${name}`)]));
  const delegate = Object.fromEntries(COMP_DELEGATE.map(
    (name) => [name, value(`comp-delegates-0-${name}`)]).filter(([, text]) => text));
  const body = { buyer, delegates: [{ ...delegate, organisation: buyer.organisation,
                                      country: buyer.country, add_ons: [] }] };
  const problems = complimentaryProblems(body);
  $("comp-done").textContent = "";
  if (problems.length) { showErrors(form, problems); return; }
  clearErrors(form);
  const ticket = catalog.ticket_types.find((each) => each.code === delegate.ticket_type);
  confirmAction({
    name: "complimentary", content: JSON.stringify(body),
    title: t("desk.compTitle"), yes: t("desk.compYes"), busyLabel: t("desk.booking"),
    text: t("desk.compText", { name: fullName(delegate), ticket: ticket ? ticket.name : "",
                               buyer: buyer.name }),
    returnFocus: $("comp-submit"),
    send: (key) => adminApi("/api/admin/complimentary",
      { method: "POST", body, headers: { "Idempotency-Key": key } }),
    refused: (error) => showRefusal(form, "comp", error),
    done: (order) => {
      form.reset();
      $("comp-done").textContent = t("desk.compBooked", { reference: order.reference });
      search();
      refreshStats();
    },
  });
}

function setUpComplimentary() {
  $("comp-form").addEventListener("submit", bookComplimentary);
}
