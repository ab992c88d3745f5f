// Lost links: a delegate or a buyer asks for the private links of their bookings again.
// The answer is the same whether or not the address has bookings.
"use strict";

async function sendLinks(event) {
  event.preventDefault();
  const form = $("links-form");
  const email = $("email").value.trim();
  if (!email) {
    showErrors(form, [{ field: "email",
      message: t("validation.required", { field: t("fieldNames.email") }) }]);
    return;
  }
  clearErrors(form);
  busy($("send"), true, t("links.sending"));
  const answer = await api("POST", "/api/links", { body: { email } });
  busy($("send"), false, t("links.send"));
  if (answer.ok) {
    $("status").textContent = t("links.sent");
    form.hidden = true;
  } else if (answer.error.field) {
    showErrors(form, [answer.error]);
  } else {
    $("status").textContent = answer.error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  $("links-form").addEventListener("submit", sendLinks);
});
