// After paying: follow the registration until the payment is confirmed (the webhook may
// take a moment), then say what happens next.
"use strict";

const POLL_MS = 1500;
const FINAL = ["confirmed", "cancelled", "expired"];

function say(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

function show(registration) {
  $("booking").hidden = false;
  $("reference").textContent = registration.reference;
  $("badge-name").textContent = [registration.given_name, registration.family_name]
    .filter(Boolean).join(" ");
  $("ticket").textContent = registration.price_lines
    .filter((line) => line.kind === "ticket").map((line) => line.description).join(", ");
  $("paid").textContent = money(registration.amount_paid, registration.currency);
}

async function follow(id, token) {
  const answer = await api("GET", `/api/registrations/${encodeURIComponent(id)}`, { token });
  if (!answer.ok && answer.status !== 0) {
    say(answer.status === 404 ? t("common.notFound") : t("common.wrongToken"), "bad");
    return;
  }
  if (answer.ok) {
    const registration = answer.data;
    show(registration);
    if (FINAL.includes(registration.status)) {
      const confirmed = registration.status === "confirmed";
      say(t(`confirmation.${registration.status}`), confirmed ? "ok" : "bad");
      $("next").hidden = !confirmed;
      return;
    }
    say(t("confirmation.waiting"), "warn");
  }
  setTimeout(() => follow(id, token), POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  const id = registrationIdFromPath();
  const token = storedToken(id);
  if (!token) { say(t("common.noToken"), "bad"); return; }
  const link = $("manage-link");
  link.href = `/manage/${encodeURIComponent(id)}`;
  link.hidden = false;
  follow(id, token);
});
