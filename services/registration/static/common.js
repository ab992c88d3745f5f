// What every page uses: STRINGS lookup, the fetch helper, errors shown by their field,
// money and date formatting, the delegate's token, downloads, and paying by card.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKENS_KEY = "registrationTokens";

// STRINGS["a.b"] with {placeholders} filled in.
function t(key, values = {}) {
  const template = key.split(".").reduce((node, part) => node && node[part], STRINGS);
  if (typeof template !== "string") { throw new Error(`no string ${key}`); }
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

// Elements with data-t="key" show that string.
function translatePage() {
  document.documentElement.lang = STRINGS.locale.split("-")[0];
  for (const node of document.querySelectorAll("[data-t]")) {
    node.textContent = t(node.dataset.t);
  }
}

function make(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) { continue; }
    if (name === "className") {
      node.className = value;
    } else {
      node.setAttribute(name, value === true ? "" : value);
    }
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function money(cents, currency = "EUR") {
  return new Intl.NumberFormat(STRINGS.locale, { style: "currency", currency }).format(cents / 100);
}

function formatDate(isoDate) {
  return new Intl.DateTimeFormat(STRINGS.locale, { dateStyle: "long", timeZone: "UTC" })
    .format(new Date(`${isoDate.slice(0, 10)}T00:00:00Z`));
}

function formatDateTime(iso) {
  return new Intl.DateTimeFormat(STRINGS.locale, { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(iso));
}

function todayIso() {
  return new Date().toISOString().slice(0, 10);
}

// fetch, JSON in and out: {ok, status, data, error: {code, message, field}}.
async function api(method, path, { body, token, bearer } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; }
  if (token) { headers["X-Registration-Token"] = token; }
  if (bearer) { headers.Authorization = `Bearer ${bearer}`; }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: t("common.networkError") } };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) { return { ok: true, status: response.status, data }; }
  const error = (data && data.error) || {};
  return {
    ok: false, status: response.status,
    error: { code: error.code, field: error.field,
             message: error.message || t("common.unexpectedError") },
  };
}

// Fetch a file with the headers it needs and hand it to the browser as a download.
async function download(path, filename, headers) {
  let response;
  try { response = await fetch(path, { headers }); } catch { return false; }
  if (!response.ok) { return false; }
  const url = URL.createObjectURL(await response.blob());
  const link = make("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return true;
}

// The delegate's private tokens, by registration id, for this tab.
function storedToken(registrationId) {
  return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "{}")[registrationId] || null;
}

function storeToken(registrationId, token) {
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "{}");
  tokens[registrationId] = token;
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
}

// The registration id in /confirmation/<id> or /manage/<id>.
function registrationIdFromPath() {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
}

// ---- Errors shown by their field -------------------------------------------------------
// A field "x" (or "x[3]") has its input or fieldset #x and its message #x-error.

function fieldKey(field) {
  return (field || "").replace(/\[\d+\]$/, "");
}

function describedBy(node, id, add) {
  const ids = (node.getAttribute("aria-describedby") || "").split(" ").filter((v) => v && v !== id);
  if (add) { ids.push(id); }
  if (ids.length) {
    node.setAttribute("aria-describedby", ids.join(" "));
  } else {
    node.removeAttribute("aria-describedby");
  }
}

function setFieldError(key, message) {
  const target = $(key);
  const holder = $(`${key}-error`);
  holder.textContent = message || "";
  holder.hidden = !message;
  const controls = target.tagName === "FIELDSET"
    ? [target, ...target.querySelectorAll("input")] : [target];
  for (const control of controls) {
    describedBy(control, holder.id, Boolean(message));
    if (message) {
      control.setAttribute("aria-invalid", "true");
    } else {
      control.removeAttribute("aria-invalid");
    }
  }
}

function focusField(key) {
  const target = $(key);
  const focusable = target.tagName === "FIELDSET"
    ? target.querySelector("input:not(:disabled)") || target : target;
  focusable.focus();
}

function clearErrors(form) {
  for (const holder of form.querySelectorAll(".field-error")) {
    setFieldError(holder.id.replace(/-error$/, ""), "");
  }
  const summary = form.querySelector(".error-summary");
  summary.hidden = true;
  summary.replaceChildren();
}

// errors: [{field, message}]; a field the form does not have goes in the summary only.
function showErrors(form, errors) {
  clearErrors(form);
  const summary = form.querySelector(".error-summary");
  const list = make("ul");
  let first = null;
  for (const { field, message } of errors) {
    const key = fieldKey(field);
    const known = key && $(`${key}-error`) && form.contains($(key));
    if (known) {
      setFieldError(key, message);
      first = first || key;
      const link = make("a", { href: `#${key}` }, message);
      link.addEventListener("click", (event) => { event.preventDefault(); focusField(key); });
      list.append(make("li", {}, link));
    } else {
      list.append(make("li", {}, message));
    }
  }
  const heading = errors.length === 1 ? t("common.errorSummaryOne")
    : t("common.errorSummaryMany", { count: errors.length });
  summary.append(make("p", {}, heading), list);
  summary.hidden = false;
  if (first) { focusField(first); } else { summary.focus(); }
}

function busy(button, isBusy, label) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", String(isBusy));
  button.textContent = label;
}

// ---- Stripe ---------------------------------------------------------------------------

// Load Stripe.js from where the server says, once; resolves to Stripe(publishable key).
let stripeLoading = null;

function loadStripe() {
  stripeLoading = stripeLoading || (async () => {
    const config = await api("GET", "/api/page-config");
    if (!config.ok) { throw new Error(config.error.message); }
    await new Promise((resolve, reject) => {
      const script = make("script", { src: config.data.stripe_js_url });
      script.addEventListener("load", resolve);
      script.addEventListener("error", () => reject(new Error(t("card.loadFailed"))));
      document.head.append(script);
    });
    return window.Stripe(config.data.publishable_key);
  })();
  return stripeLoading;
}

// A card form in `container` and a pay button that pays registration `id`:
// a SetupIntent collects the card, then the server charges it (3-D Secure when asked).
// `before` (optional) runs first on each try; onPaid once the payment went through or is
// being processed.
async function cardPayment({ id, token, container, errorHolder, button, amount, before, onPaid }) {
  const payLabel = t("card.pay", { amount });
  busy(button, true, payLabel);
  const showError = (message) => {
    errorHolder.textContent = message;
    errorHolder.hidden = !message;
    describedBy(container, errorHolder.id, Boolean(message));
  };
  let stripe;
  try {
    stripe = await loadStripe();
  } catch {
    showError(t("card.loadFailed"));
    return;
  }
  const card = stripe.elements().create("card");
  card.mount(container);
  busy(button, false, payLabel);

  const path = `/api/registrations/${encodeURIComponent(id)}`;

  async function attempt() {
    if (before) {
      const ready = await before();
      if (!ready.ok) { return ready.error.message; }
    }
    const setup = await api("POST", `${path}/card-setup`, { token });
    if (!setup.ok) { return setup.error.message; }
    const confirmed = await stripe.confirmCardSetup(setup.data.client_secret, {
      payment_method: { card },
    });
    if (confirmed.error) { return confirmed.error.message || t("card.declined"); }
    const method = confirmed.setupIntent.payment_method;
    const paid = await api("POST", `${path}/pay`, {
      token, body: { payment_method: typeof method === "string" ? method : method.id },
    });
    if (!paid.ok) { return paid.error.message; }
    if (paid.data.status === "declined") { return paid.data.message || t("card.declined"); }
    if (paid.data.status === "requires_action") {
      const authenticated = await stripe.confirmCardPayment(paid.data.client_secret);
      if (authenticated.error) { return authenticated.error.message || t("card.authFailed"); }
    }
    return null;
  }

  button.addEventListener("click", async () => {
    showError("");
    busy(button, true, t("card.paying"));
    let problem;
    try {
      problem = await attempt();
    } catch {
      problem = t("common.unexpectedError");
    }
    if (problem) {
      showError(problem);
      busy(button, false, payLabel);
      button.focus();
      return;
    }
    onPaid();
  });
}

// ---- Prices ---------------------------------------------------------------------------

// A table of price lines [{description, amount}] with the total and the VAT in it.
function priceTable({ lines, total, vat, rate, currency, totalId }) {
  const body = make("tbody", {}, ...lines.map((line) => make("tr", {},
    make("th", { scope: "row" }, line.description),
    make("td", {}, money(line.amount, currency)))));
  const foot = make("tfoot", {},
    make("tr", { className: "sum" }, make("th", { scope: "row" }, t("register.totalLine")),
      make("td", { id: totalId }, money(total, currency))),
    make("tr", {}, make("th", { scope: "row" }, t("register.vatLine", { rate })),
      make("td", {}, money(vat, currency))));
  return make("table", { className: "lines" }, body, foot);
}
