// The organisers' dashboard: signing in with the admin or the finance token; for the admin,
// counts, revenue, capacity left and the CSV exports; for both, the newest orders with their
// delegates and search, each order opened at the money desk (admin-order.js), and the bank
// transfers (admin-transfers.js). What the finance token may not see is not shown. The
// token is asked once and kept for this tab.
"use strict";

const ADMIN_KEY = "adminToken";
const RECENT = 20;

let ticketNames = {};
let role = null;  // "admin" or "finance", once signed in
let catalog = null;
let config = null;  // the page's configuration: where payments and notifications answer

function adminToken() { return sessionStorage.getItem(ADMIN_KEY); }

// An organiser's request (to registration, or a full URL); a token refused signs out.
async function adminApi(path, { method = "GET", ...options } = {}) {
  const answer = await api(method, path, { bearer: adminToken(), ...options });
  if (answer.status === 401) { signOut(t("admin.wrongToken")); }
  return answer;
}

const paymentsApi = (path, options) => adminApi(`${config.payments_url}${path}`, options);
const notificationsApi = (path, options) => adminApi(`${config.notifications_url}${path}`,
  options);
const enc = encodeURIComponent;

function signOut(reason) {
  sessionStorage.removeItem(ADMIN_KEY);
  role = null;
  if ($("confirm").open) { $("confirm").close(); }
  closeOrder({ quietly: true });
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  if (reason) {
    showErrors($("sign-in"), [{ field: "admin-token", message: reason }]);
  } else {
    clearErrors($("sign-in"));
    $("admin-token").focus();
  }
}

// A table cell for each [value, numeric?].
function cells(...values) {
  return values.map(([value, numeric]) => make("td", { className: numeric ? "num" : null },
    String(value)));
}

// What a code means, in the desk's words when they have one (STRINGS.desk[group][code]).
function named(group, code) {
  const words = STRINGS.desk[group];
  return (words && words[code]) || String(code || "").replace(/_/g, " ");
}

function countryName(code) {
  const local = new Intl.DisplayNames([STRINGS.locale], { type: "region", fallback: "none" });
  return (code && local.of(code)) || code || "";
}

function showStats(stats) {
  const currency = stats.revenue.currency;
  $("by-status").replaceChildren(...Object.keys(STRINGS.statuses).flatMap((status) => [
    make("dt", {}, t(`statuses.${status}`)),
    make("dd", { id: `count-${status}` }, String(stats.by_status[status] || 0))]));
  $("capacity-left").textContent = t("admin.capacityLeft", stats.conference);
  for (const key of ["gross", "refunded", "net", "vat"]) {
    $(`revenue-${key}`).textContent = money(stats.revenue[key], currency);
  }
  ticketNames = Object.fromEntries(stats.by_ticket_type.map((row) => [row.code, row.name]));
  $("by-ticket-type").replaceChildren(...stats.by_ticket_type.map((row) => make("tr",
    { "data-code": row.code }, make("th", { scope: "row" }, row.name),
    ...cells([row.confirmed, true], [row.pending, true], [row.capacity, true],
      [row.remaining, true]))));
  $("by-add-on").replaceChildren(...stats.add_ons.map((row) => make("tr",
    { "data-code": row.code }, make("th", { scope: "row" }, row.name),
    ...cells([row.held, true], [row.capacity, true], [row.remaining, true]))));
  $("unprintable").hidden = !stats.unprintable.length;
  $("unprintable-list").replaceChildren(...stats.unprintable.map((row) => make("li", {},
    t("admin.unprintableRow", { reference: row.reference, name: row.name,
      characters: [...row.characters].join(" ") }))));
}

// Each order as a row group: the order (its reference opens it; booking contact, how many
// delegates, status, amount), then one row per delegate (ticket, status, share).
function orderRows(order) {
  const count = order.delegates.length;
  const open = make("button", { type: "button", className: "link", "data-order": order.id },
    order.reference);
  open.addEventListener("click", () => openOrder(order.id));
  const head = make("tr", { className: "order-row" },
    make("th", { scope: "row" }, open),
    ...cells([order.buyer.name], [order.buyer.organisation],
      [count === 1 ? t("admin.oneDelegate") : t("admin.delegateCount", { count })],
      [t(`statuses.${order.status}`)], [money(order.amount_due, order.currency), true],
      [formatDateTime(order.created_at)]));
  const delegates = order.delegates.map((d) => make("tr", { className: "delegate-row" },
    ...cells([d.reference], [fullName(d)], [d.organisation],
      [ticketNames[d.ticket_type] || d.ticket_type], [t(`statuses.${d.status}`)],
      [money(d.amount_due, order.currency), true], [""])));
  return make("tbody", { className: "order", "data-id": order.id }, head, ...delegates);
}

function showOrders(page, query) {
  $("found").textContent = query ? t("admin.found", { total: page.total })
    : t("admin.recent", { shown: page.items.length, total: page.total });
  const table = $("orders");
  for (const body of table.querySelectorAll("tbody")) { body.remove(); }
  table.append(...(page.items.length ? page.items.map(orderRows)
    : [make("tbody", {}, make("tr", {}, make("td", { colspan: 7 }, t("admin.nobody"))))]));
}

// The newest search's answer wins, whatever order the answers arrive in.
let searches = 0;

async function search() {
  searches += 1;
  const mine = searches;
  const query = $("search").value.trim();
  const answer = await adminApi(
    `/api/admin/orders?q=${encodeURIComponent(query)}&limit=${RECENT}`);
  if (answer.ok && mine === searches) { showOrders(answer.data, query); }
}

// The admin's figures again, after something changed them.
async function refreshStats() {
  if (role !== "admin") { return; }
  const stats = await adminApi("/api/admin/stats");
  if (stats.ok) { showStats(stats.data); }
}

// Signed in when registration lists the orders for this token; the admin's if it may see
// the figures too, else the finance token's, which sees orders and money only.
async function openDashboard() {
  const orders = await adminApi("/api/admin/orders?limit=1");
  if (!orders.ok) {
    if (orders.status === 403) {
      signOut(t("admin.wrongToken"));
    } else if (adminToken()) {
      showErrors($("sign-in"), [{ field: "admin-token", message: orders.error.message }]);
    }
    return;
  }
  const [stats, catalogAnswer, configured] = await Promise.all([
    adminApi("/api/admin/stats"), api("GET", "/api/catalog"), pageConfig().catch(() => null)]);
  if (!catalogAnswer.ok || !configured) {
    showErrors($("sign-in"), [{ field: "admin-token", message: catalogAnswer.ok
      ? t("common.networkError") : catalogAnswer.error.message }]);
    return;
  }
  catalog = catalogAnswer.data;
  config = configured;
  role = stats.status === 403 ? "finance" : "admin";
  ticketNames = Object.fromEntries(catalog.ticket_types.map((ticket) => [ticket.code,
    ticket.name]));
  for (const node of document.querySelectorAll("[data-admin-only]")) {
    node.hidden = role !== "admin";
  }
  if (stats.ok) {
    showStats(stats.data);
    showWaitingLists();
  }
  $("signed-in-as").textContent = t(role === "admin" ? "admin.signedInAdmin"
    : "admin.signedInFinance");
  fillCountries();
  if (role === "admin") { fillComplimentary(); }
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  await Promise.all([search(), showUnmatched()]);
}

// The countries the billing form offers, named in the page's language.
function fillCountries() {
  const options = countryOptions(catalog.countries);
  for (const id of ["billing-country", "comp-buyer-country"]) {
    const select = $(id);
    const first = select.querySelector("option[value='']");
    select.replaceChildren(...(first ? [first] : []),
      ...options.map((option) => option.cloneNode(true)));
  }
}

async function exportCsv(name) {
  const ok = await download(`/api/admin/exports/${name}.csv`, `${name}.csv`,
    { Authorization: `Bearer ${adminToken()}` });
  $("export-error").textContent = ok ? "" : t("admin.exportFailed");
  $("export-error").hidden = ok;
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
  setUpDialog();
  setUpOrder();
  setUpMoney();
  setUpTransfers();
  setUpComplimentary();
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("admin-token").value.trim();
    if (!value) {
      showErrors($("sign-in"), [{ field: "admin-token", message: t("admin.tokenRequired") }]);
      return;
    }
    sessionStorage.setItem(ADMIN_KEY, value);
    $("admin-token").value = "";
    await openDashboard();
  });
  $("sign-out").addEventListener("click", () => signOut());
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () => exportCsv(button.dataset.export));
  }
  let typing;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(search, 250);
  });
  if (adminToken()) { openDashboard(); } else { signOut(); }
});
