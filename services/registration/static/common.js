// What every page uses: STRINGS lookup, the fetch helper, the page's configuration, errors
// shown by their field, money and date formatting, the private tokens, downloads and an
// order's documents, the refund policy, and paying an order by card (or SEPA Direct Debit,
// where payments offers it) once payments has prepared it.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKENS_KEY = "privateTokens";
const PREPARING_POLL_MS = 700;
const PREPARING_SLOW_MS = 15000;
const PREPARING_MAX_WAIT_MS = 5000;

// STRINGS["a.b"] with {placeholders} filled in.
function t(key, values = {}) {
  const template = key.split(".").reduce((node, part) => node && node[part], STRINGS);
  if (typeof template !== "string") { throw new Error(`no string ${key}`); }
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}

// Elements with data-t="key" (in the page, or in `root`) show that string.
function translatePage(root = document) {
  document.documentElement.lang = STRINGS.locale.split("-")[0];
  for (const node of root.querySelectorAll("[data-t]")) {
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

// A name written as its owner asked: given name first, or family name first (王 小明).
function fullName(person) {
  const parts = [person.given_name, person.family_name];
  if (person.name_order === "family_first") { parts.reverse(); }
  return parts.filter(Boolean).join(" ");
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

// The page's status line (#status, a live region).
function say(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

// fetch, JSON in and out: {ok, status, data, error: {code, message, field}, retryAfter}
// (retryAfter: the seconds a 202, 429 or 503 asks to wait, or null). `raw` (a string or a
// File) is sent as it is, with `contentType`, instead of a JSON `body`. `path` may be a
// full URL: payments and notifications answer the pages from their own origins.
async function api(method, path, { body, raw, contentType, headers = {}, bearer } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) { sent["Content-Type"] = "application/json"; }
  if (raw !== undefined) { sent["Content-Type"] = contentType; }
  if (bearer) { sent.Authorization = `Bearer ${bearer}`; }
  let response;
  try {
    response = await fetch(path, {
      method, headers: sent,
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: t("common.networkError") } };
  }
  const data = await response.json().catch(() => null);
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  if (response.ok) { return { ok: true, status: response.status, data, retryAfter }; }
  const error = (data && data.error) || {};
  return {
    ok: false, status: response.status, retryAfter,
    error: { code: error.code, field: error.field,
             message: error.message || t("common.unexpectedError") },
  };
}

// Where Stripe.js comes from and where payments and notifications answer
// ({stripe_js_url, publishable_key, payments_url, notifications_url}); asked once.
let configLoading = null;

function pageConfig() {
  configLoading = configLoading || api("GET", "/api/page-config").then((answer) => {
    if (!answer.ok) {
      configLoading = null;
      throw new Error(answer.error.message);
    }
    const base = (url) => (url || "").replace(/\/+$/, "");
    return { ...answer.data, payments_url: base(answer.data.payments_url),
             notifications_url: base(answer.data.notifications_url) };
  });
  return configLoading;
}

// "RF18539007547034" as "RF18 5390 0754 7034": references and IBANs, read in groups.
function groupsOfFour(text) {
  return (text || "").replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

// The headers that open a buyer's order and a delegate's registration.
const orderHeaders = (token) => ({ "X-Order-Token": token });
const delegateHeaders = (token) => ({ "X-Registration-Token": token });

// A key no other submission shares (Idempotency-Key).
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// A file fetched with the headers it needs, as an object URL; null if it is not there.
async function fileUrl(path, headers) {
  let response;
  try { response = await fetch(path, { headers }); } catch { return null; }
  return response.ok ? URL.createObjectURL(await response.blob()) : null;
}

// Fetch a file with the headers it needs and hand it to the browser as a download.
async function download(path, filename, headers) {
  const url = await fileUrl(path, headers);
  if (!url) { return false; }
  const link = make("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return true;
}

// An order's documents ([{kind, number, issued_on, amount, url}], url a path on payments) as
// <li>s, each with a button that downloads its PDF with `headers`; onFailed() when one
// could not be had.
function documentItems(documents, { base, headers, currency, onFailed }) {
  return documents.map((document_) => {
    const name = t(`documents.${document_.kind}`, { number: document_.number });
    const button = make("button", { type: "button", className: "secondary" },
      t("documents.download"), make("span", { className: "visually-hidden" }, ` ${name}`),
      ` ${t("documents.pdf")}`);
    button.addEventListener("click", async () => {
      button.disabled = true;
      const ok = await download(base + document_.url, `${document_.number}.pdf`, headers);
      button.disabled = false;
      if (!ok) { onFailed(); }
    });
    return make("li", { className: "document", "data-kind": document_.kind },
      make("span", { className: "document-name" }, name),
      make("span", { className: "document-details" }, t("documents.details", {
        date: formatDate(document_.issued_on), amount: money(document_.amount, currency) })),
      button);
  });
}

// ---- Private tokens ------------------------------------------------------------------
// Orders' and registrations' tokens, by id, for this tab.

function storedToken(id) {
  return JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "{}")[id] || null;
}

function storeToken(id, token) {
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "{}");
  tokens[id] = token;
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
}

// The token arrives after '#' in a private link: keep it for this tab, drop it from the URL.
function takeToken(id) {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    storeToken(id, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return storedToken(id);
}

// The id in /confirmation/<id>, /orders/<id> or /manage/<id>.
function idFromPath() {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
}

// A private link of this site: path#token=...
function privateLink(path, token) {
  return `${path}#token=${encodeURIComponent(token)}`;
}

// What a failed load of a private page says.
function loadProblem(failed) {
  const known = { 401: "common.noToken", 403: "common.wrongToken", 404: "common.notFound" };
  return known[failed.status] ? t(known[failed.status]) : failed.error.message;
}

// ---- Errors shown by their field -------------------------------------------------------
// A field "x" (or "x[3]") has its input or fieldset #x and its message #x-error; the API's
// "buyer.country" and "delegates[1].email" are #buyer-country and #delegates-1-email.

function fieldKey(field) {
  return (field || "").replace(/\[\d+\]$/, "").replace(/\[(\d+)\]/g, "-$1")
    .replace(/\./g, "-");
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

// errors: [{field, message, inSummary?}] (inSummary: how the summary says it, the message
// by default); a field the form does not show goes in the summary only.
function showErrors(form, errors) {
  clearErrors(form);
  const summary = form.querySelector(".error-summary");
  const list = make("ul");
  let first = null;
  for (const { field, message, inSummary = message } of errors) {
    const key = fieldKey(field);
    const target = key && $(key);
    if (target && $(`${key}-error`) && form.contains(target) && target.getClientRects().length) {
      setFieldError(key, message);
      first = first || key;
      const link = make("a", { href: `#${key}` }, inSummary);
      link.addEventListener("click", (event) => { event.preventDefault(); focusField(key); });
      list.append(make("li", {}, link));
    } else {
      list.append(make("li", {}, inSummary));
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

// ---- Countries ------------------------------------------------------------------------

// <option>s for every country the server accepts ([{code, name}]), named in the page's
// language when the browser knows the country, sorted by that name.
function countryOptions(countries) {
  const local = new Intl.DisplayNames([STRINGS.locale], { type: "region", fallback: "none" });
  const named = countries.map(({ code, name }) => ({ code, name: local.of(code) || name }));
  named.sort((a, b) => a.name.localeCompare(b.name, STRINGS.locale));
  return named.map(({ code, name }) => make("option", { value: code }, name));
}

// ---- Prices and the refund policy -----------------------------------------------------

// A table of price lines [{description, detail?, amount}] with its total, and the VAT in it
// when `vat` is given.
function priceTable({ lines, total, totalLabel = t("register.totalLine"), vat, rate, currency,
                      totalId, caption }) {
  const body = make("tbody", {}, ...lines.map((line) => make("tr", {},
    make("th", { scope: "row" }, line.description,
      line.detail ? make("span", { className: "line-detail" }, line.detail) : null),
    make("td", {}, money(line.amount, currency)))));
  const foot = make("tfoot", {},
    make("tr", { className: "sum" }, make("th", { scope: "row" }, totalLabel),
      make("td", { id: totalId }, money(total, currency))));
  if (vat !== undefined) {
    foot.append(make("tr", {}, make("th", { scope: "row" }, t("register.vatLine", { rate })),
      make("td", {}, money(vat, currency))));
  }
  return make("table", { className: "lines" },
    caption ? make("caption", { className: "visually-hidden" }, caption) : null, body, foot);
}

function policySteps(catalog) {
  return [...catalog.conference.refund_policy].sort((a, b) => a.until.localeCompare(b.until));
}

function refundPercentToday(catalog) {
  const today = todayIso();
  const step = policySteps(catalog).find((s) => today <= s.until);
  return step ? step.refund_percent : 0;
}

function refundToday(catalog, paid) {
  return Math.round((paid * refundPercentToday(catalog)) / 100);
}

// The policy's steps as <li>s in `list`.
function showPolicy(list, catalog) {
  const steps = policySteps(catalog);
  list.replaceChildren(...steps.map((step) => make("li", {},
    t("policy.step", { date: formatDate(step.until), percent: step.refund_percent }))));
  if (steps.length) {
    list.append(make("li", {},
      t("policy.after", { date: formatDate(steps[steps.length - 1].until) })));
  }
}

// A button that opens a confirmation panel (its question focused); returns open(bool).
function disclosure(start, panel, question) {
  const open = (isOpen) => {
    panel.hidden = !isOpen;
    start.setAttribute("aria-expanded", String(isOpen));
    (isOpen ? question : start).focus();
  };
  start.addEventListener("click", () => open(panel.hidden));
  return open;
}

// ---- Stripe ---------------------------------------------------------------------------

// Load Stripe.js from where the server says, once; resolves to Stripe(publishable key).
let stripeLoading = null;

function loadStripe() {
  stripeLoading = stripeLoading || (async () => {
    const config = await pageConfig();
    await new Promise((resolve, reject) => {
      const script = make("script", { src: config.stripe_js_url });
      script.addEventListener("load", resolve);
      script.addEventListener("error", () => reject(new Error(t("card.loadFailed"))));
      document.head.append(script);
    });
    return window.Stripe(config.publishable_key);
  })();
  return stripeLoading;
}

// Ask `${path}/payment` until payments has prepared it (202 meanwhile, said in #payment-
// status): the 200 answer, or the refusal as it came (nothing due, paid by the buyer).
async function readyPayment(path, headers) {
  const status = $("payment-status");
  const started = Date.now();
  for (;;) {
    const answer = await api("GET", `${path}/payment`, { headers });
    const retry = answer.status === 202 || answer.status === 0 || answer.status === 429
      || answer.status >= 500;
    if (!retry) { return answer; }
    const text = t(Date.now() - started > PREPARING_SLOW_MS
      ? "payment.preparingSlow" : "payment.preparing");
    if (status.textContent !== text) { status.textContent = text; }
    await sleep(Math.min(answer.retryAfter * 1000 || PREPARING_POLL_MS, PREPARING_MAX_WAIT_MS));
  }
}

// ---- SEPA Direct Debit ----------------------------------------------------------------

// The IBAN's length in each country of the SEPA scheme, by the IBAN's first two letters.
const SEPA_IBAN_LENGTHS = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24,
  FI: 18, FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21,
  LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24,
  SI: 19, SK: 24, SM: 27, VA: 22,
};
const DEBIT_WATCH_MS = 10000;
const DEBIT_POLL_MS = 1000;
const DEBIT_POLL_SLOW_MS = 30000;  // following a debit being processed, for days
const DEBITS_KEY = "debitsProcessing";

// An IBAN as typed ("de89 3704 ...") as Stripe takes it ("DE893704...").
function normalIban(typed) {
  return (typed || "").replace(/\s+/g, "").toUpperCase();
}

// ISO 13616's check: the IBAN with its first four characters moved to the end, letters as
// 10 to 35, leaves 1 when divided by 97.
function ibanRemainder(iban) {
  let remainder = 0;
  for (const char of iban.slice(4) + iban.slice(0, 4)) {
    const value = parseInt(char, 36);
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder;
}

function regionName(code) {
  const names = new Intl.DisplayNames([STRINGS.locale], { type: "region", fallback: "code" });
  try { return names.of(code); } catch { return code; }
}

// What is wrong with an IBAN as typed (spaces and lower case are fine), or "".
function ibanProblem(typed) {
  const iban = normalIban(typed);
  if (!iban) { return t("sepa.ibanRequired"); }
  if (!/^[A-Z0-9]+$/.test(iban)) { return t("sepa.ibanCharacters"); }
  const country = iban.slice(0, 2);
  if (!/^[A-Z]{2}$/.test(country)) { return t("sepa.ibanCountry"); }
  const length = SEPA_IBAN_LENGTHS[country];
  if (!length) { return t("sepa.ibanNotSepa", { country: regionName(country) }); }
  if (iban.length !== length) {
    return t("sepa.ibanLength", { country: regionName(country), length, count: iban.length });
  }
  return /^\d\d$/.test(iban.slice(2, 4)) && ibanRemainder(iban) === 1 ? "" : t("sepa.ibanCheck");
}

// A debit that was still being processed when the page moved on, by order id, for this
// tab: the confirmation says so instead of "waiting".
function noteDebitProcessing(id) {
  const ids = JSON.parse(sessionStorage.getItem(DEBITS_KEY) || "[]");
  sessionStorage.setItem(DEBITS_KEY, JSON.stringify([...new Set([...ids, id])]));
}

function debitProcessing(id) {
  return JSON.parse(sessionStorage.getItem(DEBITS_KEY) || "[]").includes(id);
}

// The choice of card or SEPA Direct Debit, and the debit's form (account holder, IBAN, the
// mandate beside the button), put around the card's in #card-form, once. `payer` ({name})
// fills in the account holder.
function addDebitForm(payer) {
  if ($("debit-fields")) { return; }
  const form = $("card-form");
  const cardFields = make("div", { id: "card-fields" });
  cardFields.append($("card-label"), $("card-hint"), $("card-element"), $("card-error"));
  const choice = (value, label, hint) => make("div", { className: "choice" },
    make("input", { type: "radio", name: "pay-with", id: `pay-with-${value}`, value,
                    checked: value === "card",
                    "aria-describedby": hint ? `pay-with-${value}-details` : null }),
    make("label", { for: `pay-with-${value}` }, t(label)),
    hint ? make("p", { className: "details", id: `pay-with-${value}-details` }, t(hint)) : null);
  const field = (id, label, input, hint) => make("div", { className: "field" },
    make("label", { for: id }, make("span", {}, t(label)), " ",
      make("span", { className: "req" }, t("common.required"))),
    hint ? make("p", { className: "hint", id: `${id}-hint` }, t(hint)) : null,
    input,
    make("p", { className: "field-error", id: `${id}-error`, hidden: true }));
  const name = make("input", { id: "debit-name", autocomplete: "name", maxlength: 120,
                               required: true });
  name.value = payer.name || "";
  const iban = make("input", { id: "debit-iban", className: "code", autocomplete: "off",
                               autocapitalize: "characters", spellcheck: "false",
                               maxlength: 50, required: true,
                               "aria-describedby": "debit-iban-hint" });
  // Read in groups of four once typed, as on a bank statement.
  iban.addEventListener("blur", () => {
    if (/^[A-Za-z0-9\s]+$/.test(iban.value)) { iban.value = groupsOfFour(normalIban(iban.value)); }
  });
  form.prepend(
    make("fieldset", { id: "pay-with", className: "choices pay-with" },
      make("legend", {}, t("sepa.legend")),
      choice("card", "sepa.card"), choice("sepa_debit", "sepa.debit", "sepa.debitHint")),
    cardFields,
    make("div", { id: "debit-fields", hidden: true },
      field("debit-name", "sepa.name", name),
      field("debit-iban", "sepa.iban", iban, "sepa.ibanHint"),
      make("p", { className: "field-error", id: "debit-error", role: "alert", hidden: true }),
      make("p", { className: "mandate", id: "debit-mandate" }, t("sepa.mandate"))));
}

const byDebit = () => Boolean($("pay-with-sepa_debit") && $("pay-with-sepa_debit").checked);

// The debit's form checked in the page, each problem by its field (the first focused);
// true when it can be sent.
function debitFormOk() {
  const problems = [["debit-name", $("debit-name").value.trim() ? "" : t("sepa.nameRequired")],
                    ["debit-iban", ibanProblem($("debit-iban").value)]];
  for (const [key, message] of problems) { setFieldError(key, message); }
  const wrong = problems.find(([, message]) => message);
  if (wrong) { focusField(wrong[0]); }
  return !wrong;
}

// ---- Paying ---------------------------------------------------------------------------

// Pay the order (or registration) at `path` in the page's payment block: #payment-status,
// #card-form with #card-element, #card-error and #pay. Says "preparing" until payments is
// ready, then shows the card form; a SetupIntent collects the card, the server charges it,
// and Stripe.js authenticates it (3-D Secure) when asked. Where payments offers SEPA Direct
// Debit, the buyer may choose it instead: the same SetupIntent turns `payer`'s IBAN into a
// PaymentMethod, charged the same way; a debit still being processed is watched for a while
// (one that fails at once has payments prepare a new intent: the buyer can try again).
// onPaid({processing}) once the payment went through or is being processed; onRefused(error)
// when there is nothing to pay here (already paid, or paid by someone else).
async function payWhenReady({ path, headers, amount, payer = {}, onPaid, onRefused }) {
  const status = $("payment-status");
  const container = $("card-element");
  const errorHolder = $("card-error");
  const button = $("pay");
  const payLabel = t("card.pay", { amount });
  const showError = (message) => {
    errorHolder.textContent = message;
    errorHolder.hidden = !message;
    describedBy(container, errorHolder.id, Boolean(message));
  };
  // A refused debit: said beside the button, and by the IBAN.
  const showDebitError = (message) => {
    const holder = $("debit-error");
    holder.textContent = message;
    holder.hidden = !message;
    describedBy($("debit-iban"), holder.id, Boolean(message));
  };
  $("card-form").hidden = true;
  status.textContent = t("payment.preparing");
  const ready = await readyPayment(path, headers);
  if (!ready.ok) {
    status.textContent = "";
    onRefused(ready.error);
    return;
  }
  const config = await pageConfig().catch(() => ({}));
  const debits = (config.payment_methods || []).includes("sepa_debit");
  if (debits) { addDebitForm(payer); }
  status.textContent = t(debits ? "payment.readyWithDebit" : "payment.ready");
  $("card-form").hidden = false;
  busy(button, true, payLabel);
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

  if (debits) {
    $("pay-with").addEventListener("change", () => {
      const debit = byDebit();
      $("card-fields").hidden = debit;
      $("debit-fields").hidden = !debit;
      showError("");
      showDebitError("");
      for (const key of ["debit-name", "debit-iban"]) { setFieldError(key, ""); }
      describedBy(button, "debit-mandate", debit);  // what paying this way agrees to
    });
    for (const input of [$("debit-name"), $("debit-iban")]) {  // Enter pays, as in a form
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !button.disabled) { event.preventDefault(); button.click(); }
      });
    }
  }

  // Turn the card or the account into a PaymentMethod with a SetupIntent's secret.
  const setUpCard = (secret) => stripe.confirmCardSetup(secret, { payment_method: { card } });
  const setUpDebit = (secret) => stripe.confirmSepaDebitSetup(secret, {
    payment_method: {
      sepa_debit: { iban: normalIban($("debit-iban").value) },
      billing_details: { name: $("debit-name").value.trim(), email: payer.email },
    },
  });

  // One try: {problem} (why it did not go through, `field` when it is the IBAN's), or
  // {status, intent} (the intent it was made on). A declined try has payments prepare a
  // new intent: each try waits until it is ready.
  async function attempt(debit) {
    const again = await readyPayment(path, headers);
    if (!again.ok) { return { problem: again.error.message }; }
    const setup = await api("POST", `${path}/card-setup`, { headers });
    if (!setup.ok) { return { problem: setup.error.message }; }
    const confirmed = await (debit ? setUpDebit : setUpCard)(setup.data.client_secret);
    if (confirmed.error) {
      const error = confirmed.error;
      const ofIban = debit && /iban/i.test(`${error.param || ""} ${error.code || ""}`);
      return { problem: error.message || t(debit ? "sepa.declined" : "card.declined"),
               field: ofIban ? "debit-iban" : null };
    }
    const method = confirmed.setupIntent.payment_method;
    const paid = await api("POST", `${path}/pay`, {
      headers, body: { payment_method: typeof method === "string" ? method : method.id },
    });
    if (!paid.ok) { return { problem: paid.error.message }; }
    if (paid.data.status === "declined") {
      return { problem: debit ? t("sepa.declined") : paid.data.message || t("card.declined") };
    }
    if (paid.data.status === "requires_action") {
      const authenticated = await stripe.confirmCardPayment(paid.data.client_secret);
      if (authenticated.error) {
        return { problem: authenticated.error.message || t("card.authFailed") };
      }
    }
    return { status: paid.data.status, intent: again.data.payment_intent_id };
  }

  // A debit being processed: "failed" when payments prepares another intent meanwhile (the
  // bank refused it), "paid" when nothing is due any more, else "processing".
  async function debitOutcome(intent) {
    const until = Date.now() + DEBIT_WATCH_MS;
    while (Date.now() < until) {
      await sleep(DEBIT_POLL_MS);
      const answer = await api("GET", `${path}/payment`, { headers });
      if (answer.ok && answer.data.payment_intent_id !== intent) { return "failed"; }
      if (!answer.ok && answer.error.code === "nothing_due") { return "paid"; }
    }
    return "processing";
  }

  button.addEventListener("click", async () => {
    const debit = byDebit();
    showError("");
    if (debit) {
      showDebitError("");
      if (!debitFormOk()) { return; }  // said by the fields: nothing sent
    }
    busy(button, true, t("card.paying"));
    let outcome;
    try {
      outcome = await attempt(debit);
      if (debit && outcome.status === "processing") {
        status.textContent = t("sepa.processing");
        const settled = await debitOutcome(outcome.intent);
        if (settled === "failed") { outcome = { problem: t("sepa.declined") }; }
        if (settled === "paid") { outcome = { status: "succeeded" }; }
      }
    } catch {
      outcome = { problem: t("common.unexpectedError") };
    }
    if (outcome.problem) {
      status.textContent = "";
      if (outcome.field) {
        setFieldError(outcome.field, outcome.problem);
      } else {
        (debit ? showDebitError : showError)(outcome.problem);
      }
      busy(button, false, payLabel);
      (outcome.field ? $(outcome.field) : button).focus();
      return;
    }
    const processing = debit && outcome.status === "processing";
    status.textContent = t(processing ? "sepa.processing" : "card.paid");
    $("card-form").hidden = processing;  // sent: nothing more to type here
    onPaid({ processing });
  });
}
