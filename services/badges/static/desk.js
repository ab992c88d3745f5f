// The registration desk: sign in with the desk token, scan QR codes, find delegates,
// check them in and print their badge. The token lives in this tab's sessionStorage.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "deskToken";

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${token()}`,
               ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401) { signOut("The desk token was not accepted."); }
  return response;
}

function say(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  const error = $("sign-in-error");
  error.hidden = !reason;
  error.textContent = reason || "";
  $("desk-token").focus();
}

function openDesk() {
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  $("scan").focus();
}

async function errorText(response) {
  try { return (await response.json()).error.message; } catch { return "Something went wrong."; }
}

async function checkIn(path, body) {
  const response = await api("POST", path, body);
  if (!response.ok) { say(await errorText(response), "bad"); return null; }
  const result = await response.json();
  say(result.message, result.status === "checked_in" ? "ok" : "warn");
  return result;
}

async function printBadge(registrationId) {
  const response = await api("GET", `/api/badges/${encodeURIComponent(registrationId)}.pdf`);
  if (!response.ok) { say(await errorText(response), "bad"); return; }
  const url = URL.createObjectURL(await response.blob());
  window.open(url, "_blank");
}

function describe(badge) {
  const arrived = badge.checked_in_at
    ? `checked in ${new Date(badge.checked_in_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`
    : "not checked in";
  const printed = badge.printed_count
    ? `badge printed ${badge.printed_count}×` : "badge not printed yet";
  const withdrawn = badge.status === "active" ? "" : " · CANCELLED";
  return `${badge.organisation} · ${badge.ticket_type_name} · ${badge.reference} · ` +
         `${arrived} · ${printed}${withdrawn}`;
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
      const checkAndPrint = document.createElement("button");
      checkAndPrint.type = "button";
      checkAndPrint.textContent = "Check in & print badge";
      checkAndPrint.setAttribute("aria-label", `Check in and print the badge of ${badge.name}`);
      checkAndPrint.addEventListener("click", async () => {
        if (await checkIn(`/api/badges/${encodeURIComponent(badge.registration_id)}/checkin`)) {
          await printBadge(badge.registration_id);
          await search();
        }
      });
      const reprint = document.createElement("button");
      reprint.type = "button";
      reprint.className = "secondary";
      reprint.textContent = "Print badge";
      reprint.setAttribute("aria-label", `Print the badge of ${badge.name}`);
      reprint.addEventListener("click", async () => {
        await printBadge(badge.registration_id);
        await search();
      });
      actions.append(checkAndPrint, reprint);
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
  const response = await api("GET", `/api/desk/search?q=${encodeURIComponent(q)}`);
  if (response.ok) { showResults((await response.json()).items); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("desk-token").value.trim());
    const probe = await api("GET", "/api/desk/search?q=a");
    if (probe.ok) { $("desk-token").value = ""; openDesk(); }
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("scan-form").addEventListener("submit", async (event) => {
    event.preventDefault();  // a USB scanner types the code, then Enter
    const code = $("scan").value.trim();
    $("scan").value = "";
    if (code) { await checkIn("/api/checkin", { token: code }); }
    $("scan").focus();
  });
  let typing;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(search, 200);
  });
  if (token()) { openDesk(); } else { signOut(); }
});
