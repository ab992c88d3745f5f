// The organisers' dashboard: counts, revenue, capacity left, the newest orders with their
// delegates and search, and the CSV exports. The admin token is asked once and kept for
// this tab.
"use strict";

const ADMIN_KEY = "adminToken";
const RECENT = 20;

let ticketNames = {};

function adminToken() { return sessionStorage.getItem(ADMIN_KEY); }

async function adminApi(path) {
  const answer = await api("GET", path, { bearer: adminToken() });
  if (answer.status === 401 || answer.status === 403) { signOut(t("admin.wrongToken")); }
  return answer;
}

function signOut(reason) {
  sessionStorage.removeItem(ADMIN_KEY);
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

function cells(...values) {
  return values.map(([value, numeric]) => make("td", { className: numeric ? "num" : null },
    String(value)));
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
}

// Each order as a row group: the order (booking contact, how many delegates, status,
// amount), then one row per delegate (ticket, status, share).
function orderRows(order) {
  const count = order.delegates.length;
  const head = make("tr", { className: "order-row" },
    make("th", { scope: "row" }, order.reference),
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

async function openDashboard() {
  const stats = await adminApi("/api/admin/stats");
  if (!stats.ok) {
    if (adminToken()) { showErrors($("sign-in"), [stats.error]); }
    return;
  }
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  showStats(stats.data);
  await search();
}

async function exportCsv(name) {
  const ok = await download(`/api/admin/exports/${name}.csv`, `${name}.csv`,
    { Authorization: `Bearer ${adminToken()}` });
  $("export-error").textContent = ok ? "" : t("admin.exportFailed");
  $("export-error").hidden = ok;
}

document.addEventListener("DOMContentLoaded", () => {
  translatePage();
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
