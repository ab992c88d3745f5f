// The registration desk: sign in with the desk token; scan a QR code (USB scanner, or the
// tablet's camera) for a large verdict: green (checked in now: the badge prints at once),
// amber (already in, since when), red (may not come in, and why); find delegates by name,
// and send a colleague instead of one (desk-colleague.js). Without the network it goes on
// with today's list (desk-offline.js). The token lives in this tab's sessionStorage; the
// printer choice, the list and the queue in localStorage.
import { cameraAvailable, startCamera } from "./desk-camera.js";
import { ColleagueForm } from "./desk-colleague.js";
import { OfflineDesk } from "./desk-offline.js";
import { loadPrinters, printBadge } from "./desk-print.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "deskToken";
const HEADLINES = {
  checked_in: "Checked in", already_checked_in: "Already checked in",
  invalid_ticket: "Not our ticket", not_found: "Unknown ticket", unpaid: "Not paid",
  expired: "Expired unpaid", cancelled: "Cancelled", wrong_day: "Wrong day",
  replaced: "Replaced", print: "Printing the badge", offline: "No connection",
  unverifiable: "Search the name", no_list: "No list for today",
  colleague: "Ready to check in",
};
const CHECK_IN_WAIT_MS = 6000;  // then the desk goes on without the network
const REQUEST_WAIT_MS = 20000;
const LIST_REFRESH_MS = 5 * 60 * 1000;  // today's list taken again, while online
const BADGE_WAIT_MS = 30000;  // for a colleague's badge: badges makes it within seconds
const BADGE_POLL_MS = 500;
const STATUS_WORDS = { pending: "awaits payment", withdrawn: "cancelled", replaced: "replaced",
                       expired: "expired unpaid" };
let stopCamera = null;
let busy = Promise.resolve();
let onScreen = 0;  // which verdict is on screen: each new scan or search counts one up

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(method, path, body, waitMs = REQUEST_WAIT_MS) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${token()}`,
               ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(waitMs),
  });
  if (response.status === 401) { signOut("The desk token was not accepted."); }
  return response;
}

const offline = new OfflineDesk(api);
const colleagues = new ColleagueForm(api, showColleague);

function unreachable(error) {
  return error instanceof TypeError || error?.name === "TimeoutError";
}

// The desk's one way of telling a time: "Thu 10 Jun, 09:12", in the conference's zone.
function localTime(iso, timeZone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone, weekday: "short", day: "numeric", month: "short", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return `${parts.weekday} ${parts.day} ${parts.month}, ${parts.hour}:${parts.minute}`;
}

function showError(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

// Before any new scan or search: nothing of the last one stays on screen.
function clearMessages() {
  onScreen += 1;
  colleagues.close();
  $("verdict").hidden = true;
  $("verdict").className = "verdict";
  for (const id of ["verdict-headline", "verdict-name", "verdict-message", "verdict-ticket",
                    "verdict-print"]) { $(id).textContent = ""; }
  $("verdict-add-ons").replaceChildren();
  for (const id of ["verdict-attention", "verdict-unprintable", "verdict-check-in-button",
                    "verdict-print-button"]) {
    $(id).hidden = true;
  }
  for (const id of ["search-error", "camera-error", "sync-report"]) { showError(id, ""); }
}

function showVerdict(tone, code, person, message) {
  $("verdict").className = `verdict ${tone}`;
  $("verdict-headline").textContent = HEADLINES[code] || "Not admitted";
  $("verdict-name").textContent = person?.name || "";
  $("verdict-message").textContent = message;
  if (person?.ticket_type_name) {
    $("verdict-ticket").textContent = [person.ticket_type_name, person.organisation,
                                       person.reference].filter(Boolean).join(" · ");
  }
  $("verdict-add-ons").replaceChildren(...(person?.add_on_names || []).map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    return item;
  }));
  if (person?.attention) {
    $("verdict-attention").textContent = `Note: ${person.attention}`;
    $("verdict-attention").hidden = false;
  }
  if (person?.unprintable) {
    $("verdict-unprintable").textContent = "The badge has characters no font could print " +
      `(${person.unprintable}): check the name with the delegate before printing.`;
    $("verdict-unprintable").hidden = false;
  }
  $("verdict").hidden = false;
}

function tellPrint(text, ok) {
  $("verdict-print").textContent = text;
  $("verdict-print").className = ok ? "" : "error";
}

async function print(person) {
  $("verdict-print-button").hidden = true;
  tellPrint("Printing…", true);
  try {
    await printBadge(api, person.registration_id, $("printer").value, tellPrint);
  } catch (error) {
    if (!unreachable(error)) { throw error; }
    tellPrint("The badge cannot be printed without the network.", false);
  }
  $("verdict-print-button").hidden = false;
}

async function showCheckIn(response) {
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error || { code: "error", message: "Something went wrong." };
    showVerdict("bad", error.code, null, error.message);
    return;
  }
  const arrived = answer.status === "checked_in";
  offline.remember(answer.registration_id, answer.checked_in_at);
  showVerdict(arrived ? "ok" : "warn", answer.status, answer, arrived
    ? "Checked in now."
    : `Already checked in: ${localTime(answer.checked_in_at, answer.timezone)}.`);
  $("verdict-print-button").onclick = () => print(answer);
  if (arrived && !answer.unprintable) {
    await print(answer);
  } else {
    $("verdict-print-button").hidden = false;
  }
}

// A verdict reached without the network; the badge is printed once it is back.
function showOfflineVerdict(verdict) {
  const since = verdict.since && localTime(verdict.since, verdict.person.timezone);
  showVerdict(verdict.tone, verdict.code, verdict.person,
              since ? `Already checked in: ${since}.` : verdict.message);
  if (verdict.tone !== "bad") { tellPrint("Print the badge once the network is back.", true); }
  showConnection();
}

// One scan or check-in at a time, in the order they came; a network failure said in red.
function serially(task) {
  busy = busy.then(task).catch(() => {
    showVerdict("bad", "offline", null, "The desk cannot reach the server: try again.");
  });
  return busy;
}

// Online if the server answers in time; else from today's list, in this browser.
async function checkIn(online, withoutNetwork) {
  if (navigator.onLine) {
    try {
      await showCheckIn(await online());
      sendQueued();
      return;
    } catch (error) {
      if (!unreachable(error)) { throw error; }
    }
  }
  showOfflineVerdict(await withoutNetwork());
}

function scan(code) {
  return serially(async () => {
    clearMessages();
    await checkIn(() => api("POST", "/api/checkin", { token: code }, CHECK_IN_WAIT_MS),
                  () => offline.scan(code));
  });
}

function showConnection() {
  const day = offline.today();
  const waiting = offline.queue().length;
  const list = day ? `today's list: ${day.items.length} people` : "no list for today yet";
  $("connection").textContent = [
    navigator.onLine ? "Online" : "Offline: tickets checked in this browser",
    list, waiting ? `${waiting} check-ins to send` : ""].filter(Boolean).join(" · ");
  $("connection").className = navigator.onLine ? "connection" : "connection offline";
}

async function sendQueued() {
  if (!token()) { return; }
  const results = await offline.send();
  if (results) {
    const refused = results.filter((result) => result.outcome === "refused");
    const sent = results.length - refused.length;
    showError("sync-report", refused.length ? "Refused on sending: " +
              refused.map((result) => result.message).join(" ") : "");
    $("sync-sent").textContent = `${sent} check-ins made offline sent.`;
  }
  showConnection();
}

function describe(badge) {
  const arrived = badge.checked_in_at
    ? `checked in ${localTime(badge.checked_in_at, badge.timezone)}` : "not checked in";
  const printed = badge.printed_count === undefined ? "" : badge.printed_count
    ? `badge printed ${badge.printed_count}×` : "badge not printed yet";
  const state = STATUS_WORDS[badge.status]?.toUpperCase();
  return [badge.organisation, badge.ticket_type_name, badge.reference, arrived, printed, state]
    .filter(Boolean).join(" · ");
}

function button(text, label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.className = className;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

function checkInFound(badge) {
  const path = `/api/badges/${encodeURIComponent(badge.registration_id)}/checkin`;
  return serially(async () => {
    clearMessages();
    await checkIn(() => api("POST", path, undefined, CHECK_IN_WAIT_MS),
                  () => offline.checkIn(badge.registration_id));
    await search();
  });
}

async function found(reference) {
  const response = await api("GET", `/api/desk/search?q=${encodeURIComponent(reference)}`);
  const items = response.ok ? (await response.json()).items : [];
  return items.find((item) => item.reference === reference);
}

// The colleague's badge once badges has heard of them and of the delegate replaced (a
// second or two); null if that takes too long or the desk has moved on.
async function colleagueBadge(colleague, delegate, shown) {
  const deadline = Date.now() + BADGE_WAIT_MS;
  while (Date.now() < deadline && shown === onScreen) {
    const [badge, replaced] = await Promise.all([found(colleague.reference),
                                                 found(delegate.reference)]);
    if (badge?.badge_version && replaced?.status === "replaced") { return badge; }
    await new Promise((resolve) => { setTimeout(resolve, BADGE_POLL_MS); });
  }
  return null;
}

// The colleague sent instead of ``delegate``: green, ready to check in with the delegate's
// ticket; checking in and printing offered once their badge is made; the list shows the
// delegate replaced.
async function showColleague(delegate, colleague, nameOrder) {
  clearMessages();
  const shown = onScreen;
  const names = [colleague.given_name, colleague.family_name].filter(Boolean);
  const person = {
    name: (nameOrder === "family_first" ? names.reverse() : names).join(" "),
    organisation: colleague.organisation, reference: colleague.reference,
    ticket_type_name: delegate.ticket_type_name, add_on_names: delegate.add_on_names,
  };
  showVerdict("ok", "colleague", person, `Comes instead of ${delegate.name}, whose ticket ` +
              "no longer admits anyone.");
  tellPrint(`Making ${person.name}'s badge…`, true);
  $("scan").focus();
  let badge = null;
  try {
    badge = await colleagueBadge(colleague, delegate, shown);
  } catch (error) {
    if (!unreachable(error)) { throw error; }
  }
  if (shown !== onScreen) { return; }
  if (!badge) {
    tellPrint("The badge is not made yet: search the name in a moment.", false);
    return;
  }
  tellPrint("The badge is ready.", true);
  $("verdict-check-in-button").onclick = () => checkInFound(badge);
  $("verdict-print-button").onclick = () => print(badge);
  $("verdict-check-in-button").hidden = $("verdict-print-button").hidden = false;
  await search();
  offline.refresh().catch(() => {});
}

function showResults(items) {
  const list = $("results");
  list.replaceChildren();
  for (const badge of items) {
    const item = document.createElement("li");
    const who = document.createElement("div");
    who.className = "who";
    const name = document.createElement("strong");
    name.textContent = badge.name;
    const details = document.createElement("span");
    details.textContent = describe(badge);
    who.append(name, details);
    const actions = document.createElement("div");
    actions.className = "actions";
    if (badge.status === "active") {
      actions.append(
        button("Check in", `Check in ${badge.name}`, "", () => checkInFound(badge)),
        button("Print badge", `Print the badge of ${badge.name}`, "secondary", async () => {
          clearMessages();
          showVerdict("info", "print", badge, "");
          await print(badge);
          await search();
        }));
      if (!badge.checked_in_at && navigator.onLine) {
        actions.append(button("Send a colleague instead",
                              `Send a colleague instead of ${badge.name}`, "secondary", () => {
          clearMessages();
          colleagues.open(badge);
        }));
      }
    }
    item.append(who, actions);
    list.append(item);
  }
  if (!items.length && $("search").value.trim()) {
    const none = document.createElement("li");
    none.textContent = "Nobody found.";
    list.append(none);
  }
}

async function search() {
  const q = $("search").value.trim();
  if (!q) { showResults([]); return; }
  let response;
  try {
    if (navigator.onLine) {
      response = await api("GET", `/api/desk/search?q=${encodeURIComponent(q)}`);
    }
  } catch (error) {
    if (!unreachable(error)) { throw error; }
  }
  if (!response) {
    showResults(offline.search(q));
  } else if (response.ok) {
    showResults((await response.json()).items);
  } else if (response.status !== 401) {
    showError("search-error", "The search did not work; try again.");
  }
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  offline.forget();
  stopCamera?.();
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  showError("sign-in-error", reason);
  $("desk-token").focus();
}

async function openDesk() {
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  $("camera-start").hidden = !cameraAvailable();
  $("scan").focus();
  showConnection();
  try {
    await loadPrinters(api, $("printer"));
    await offline.refresh();
  } catch (error) {
    if (!unreachable(error)) { throw error; }
  }
  await sendQueued();
}

async function toggleCamera(on) {
  clearMessages();
  if (!on) {
    stopCamera?.();
    stopCamera = null;
  } else {
    try {
      stopCamera = await startCamera($("camera"), scan);
    } catch (error) {
      showError("camera-error", `The camera cannot be used: ${error.message}`);
    }
  }
  $("camera-start").hidden = Boolean(stopCamera);
  $("camera-stop").hidden = !stopCamera;
  $("scan").focus();
}

function start() {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("desk-token").value.trim());
    try {
      const probe = await api("GET", "/api/desk/printers");
      if (probe.ok) { $("desk-token").value = ""; await openDesk(); }
    } catch (error) {
      if (!unreachable(error)) { throw error; }
      signOut("The desk signs in with the network: try again once it is back.");
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("scan-form").addEventListener("submit", async (event) => {
    event.preventDefault();  // a USB scanner types the code, then Enter
    const code = $("scan").value.trim();
    $("scan").value = "";
    if (code) { await scan(code); }
    $("scan").focus();
  });
  $("camera-start").addEventListener("click", () => toggleCamera(true));
  $("camera-stop").addEventListener("click", () => toggleCamera(false));
  let typing;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    clearMessages();
    typing = setTimeout(search, 200);
  });
  window.addEventListener("online", sendQueued);
  setInterval(() => { if (token() && navigator.onLine) { offline.refresh().catch(() => {}); } },
              LIST_REFRESH_MS);
  window.addEventListener("offline", () => {
    showConnection();
    colleagues.close();
    search();
  });
  if (token()) { openDesk(); } else { signOut(); }
}

start();
