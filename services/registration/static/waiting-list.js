// The waiting list on the registration page. A sold-out ticket type or add-on offers to
// join its list (a dialog: name and email; the answer is the same whether or not the
// address was on it). The link in a waiting-list email (/?offer=<id>#token=…) shows that
// place above the form: a place offered is held for its holder, the booking is filled in
// from what they told us and books with it; they may give it up instead, or leave the list
// while they wait. register.js draws the form and asks here where a booking goes.
"use strict";

let place = null;  // the place of whoever opened the page from their link: {id, token, entry}
let joining = null;  // what the join dialog is about: {kind, item, opener}

const placeHeaders = () => ({ "X-Waiting-List-Token": place.token });
const placeOffered = () => Boolean(place && place.entry.status === "offered");

// ---- Joining a list ---------------------------------------------------------------------

function joinButton(kind, item) {
  const button = make("button", { type: "button", className: "secondary join",
    "aria-label": t("waitingList.joinFor", { name: item.name }) }, t("waitingList.join"));
  button.addEventListener("click", () => openJoin(kind, item, button));
  return button;
}

const JOIN_FIELDS = ["given_name", "family_name", "email"];

function clearJoinErrors() {
  for (const name of JOIN_FIELDS) { setFieldError(`join-${name}`, ""); }
  $("join-error").hidden = true;
}

// The dialog's problems, each by its field, or above its buttons when it names none it
// shows; the focus on the first.
function showJoinErrors(problems) {
  clearJoinErrors();
  for (const { field: name, message } of problems) {
    if (JOIN_FIELDS.includes(name)) {
      setFieldError(`join-${name}`, message);
    } else {
      $("join-error").textContent = message;
      $("join-error").hidden = false;
    }
  }
  const first = problems.find((problem) => JOIN_FIELDS.includes(problem.field));
  (first ? $(`join-${first.field}`) : $("join-error")).focus();
}

// The dialog, filled in from delegate 1 where it is still empty.
function openJoin(kind, item, opener) {
  joining = { kind, item, opener };
  clearJoinErrors();
  $("join-about").textContent = t("waitingList.joinAbout", { name: item.name });
  $("join-done").textContent = "";
  $("join-fields").hidden = false;
  $("join-submit").hidden = false;
  const first = sections()[0];
  for (const name of ["given_name", "family_name", "email"]) {
    const input = $(`join-${name}`);
    input.value = input.value || field(first, name).value.trim();
  }
  $("join").showModal();
  $("join-given_name").focus();
}

function joinProblems(body) {
  const problems = [];
  if (!body.given_name) {
    problems.push({ field: "given_name",
                    message: t("validation.required", { field: t("fieldNames.given_name") }) });
  }
  if (!body.email) {
    problems.push({ field: "email",
                    message: t("validation.required", { field: t("fieldNames.email") }) });
  } else if (!EMAIL.test(body.email)) {
    problems.push({ field: "email", message: t("validation.email") });
  }
  return problems;
}

async function sendJoin(event) {
  event.preventDefault();
  const body = { given_name: $("join-given_name").value.trim(),
                 family_name: $("join-family_name").value.trim(),
                 email: $("join-email").value.trim(), kind: joining.kind,
                 code: joining.item.code };
  const problems = joinProblems(body);
  if (problems.length) { showJoinErrors(problems); return; }
  clearJoinErrors();
  busy($("join-submit"), true, t("waitingList.joining"));
  const answer = await api("POST", "/api/waiting-list", { body });
  busy($("join-submit"), false, t("waitingList.joinSubmit"));
  if (!answer.ok) { showJoinErrors([answer.error]); return; }
  $("join-fields").hidden = true;
  $("join-submit").hidden = true;
  $("join-done").textContent = t("waitingList.joined");
  $("join-close").focus();
}

// ---- The place of the link's holder -------------------------------------------------

const PLACE_WORDS = {
  offered: { heading: "offeredHeading", text: "offeredText", leave: "giveUp",
             question: "giveUpQuestion", yes: "giveUpYes" },
  waiting: { heading: "waitingHeading", text: "waitingText", leave: "leave",
             question: "leaveQuestion", yes: "leaveYes" },
  taken: { heading: "takenHeading", text: "takenText" },
  lapsed: { heading: "lapsedHeading", text: "lapsedText" },
  left: { heading: "leftHeading", text: "leftText" },
};

function showPlace() {
  const { entry } = place;
  const words = PLACE_WORDS[entry.status];
  $("place").hidden = false;
  $("place-heading").textContent = t(`waitingList.${words.heading}`);
  $("place-text").textContent = t(`waitingList.${words.text}`, { name: entry.item.name,
    time: entry.offer_expires_at && formatDateTime(entry.offer_expires_at) });
  $("place-leave").hidden = !words.leave;
  $("place-confirm").hidden = true;
  $("place-leave").setAttribute("aria-expanded", "false");
  if (words.leave) {
    $("place-leave").textContent = t(`waitingList.${words.leave}`);
    $("place-question").textContent = t(`waitingList.${words.question}`);
    $("place-yes").textContent = t(`waitingList.${words.yes}`);
  }
}

function placeProblem(message) {
  $("place").hidden = false;
  $("place-heading").textContent = t("waitingList.loadFailed");
  $("place-text").textContent = message;
}

// The place a link opens (?offer=<id>, its token after '#'), if the page was opened so.
async function openPlace() {
  const id = new URLSearchParams(location.search).get("offer");
  if (!id) { return; }
  const token = takeToken(id);
  if (!token) { placeProblem(t("common.noToken")); return; }
  const answer = await api("GET", `/api/waiting-list/${encodeURIComponent(id)}`,
    { headers: { "X-Waiting-List-Token": token } });
  if (!answer.ok) { placeProblem(loadProblem(answer)); return; }
  place = { id, token, entry: answer.data };
  showPlace();
}

// The place as it is now, after a booking with it was refused (the offer may have ended).
async function refreshPlace() {
  if (!place) { return; }
  const answer = await api("GET", `/api/waiting-list/${encodeURIComponent(place.id)}`,
    { headers: placeHeaders() });
  if (answer.ok) {
    place.entry = answer.data;
    showPlace();
  }
}

// The place held for the offer's holder is left for them (catalog: as GET /api/catalog).
function holdOfferedPlace(catalog) {
  if (!placeOffered()) { return; }
  const { kind, code } = place.entry.item;
  const item = (kind === "ticket_type" ? catalog.ticket_types : catalog.add_ons)
    .find((candidate) => candidate.code === code);
  if (item) { item.remaining += 1; }
  if (kind === "ticket_type") { catalog.remaining += 1; }
}

// Delegate 1 as the offer's holder told us, with the item offered chosen.
function fillFromOffer(section) {
  if (!placeOffered()) { return; }
  const { entry } = place;
  for (const name of ["given_name", "family_name", "email"]) {
    field(section, name).value = entry[name];
  }
  const group = entry.item.kind === "ticket_type" ? "ticket_type" : "add_ons";
  $(`${section.dataset.uid}-${group}-${entry.item.code}`).checked = true;
  fitAddOnsToTicket(section);
}

// Where a booking goes: through the place offered (one order per offer), or as any other.
function bookingRequest() {
  return placeOffered()
    ? { path: `/api/waiting-list/${encodeURIComponent(place.id)}/order`, headers: placeHeaders() }
    : { path: "/api/orders", headers: {} };
}

function notePlaceBooked() {
  if (!placeOffered()) { return; }
  place.entry = { ...place.entry, status: "taken" };
  showPlace();
}

async function leavePlace() {
  const wasOffered = placeOffered();
  const yes = $("place-yes");
  const label = yes.textContent;
  busy(yes, true, t("waitingList.leaving"));
  const answer = await api("POST", `/api/waiting-list/${encodeURIComponent(place.id)}/leave`,
    { headers: placeHeaders() });
  busy(yes, false, label);
  $("place-error").hidden = answer.ok;
  if (!answer.ok) {
    $("place-error").textContent = answer.error.message;
    return;
  }
  place.entry = answer.data;
  showPlace();
  $("place-heading").focus();
  if (wasOffered) { await showCatalogAgain(); }  // the place held is gone from the form
}

function setUpWaitingList() {
  $("join-form").addEventListener("submit", sendJoin);
  $("join-close").addEventListener("click", () => $("join").close());
  $("join").addEventListener("close", () => joining && joining.opener.focus());
  const open = disclosure($("place-leave"), $("place-confirm"), $("place-question"));
  $("place-no").addEventListener("click", () => open(false));
  $("place-yes").addEventListener("click", leavePlace);
}
