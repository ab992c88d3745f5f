// The dashboard's waiting lists (admin): each list anyone joined, how many wait, the offers
// open, booked and lapsed, those who left, and the conversion of the offers that ended.
"use strict";

async function showWaitingLists() {
  const answer = await adminApi("/api/admin/waiting-lists");
  if (!answer.ok) { return; }
  const { lists, offer_hours: hours } = answer.data;
  const percent = new Intl.NumberFormat(STRINGS.locale, { style: "percent" });
  $("waiting-lists-hint").textContent = t("admin.waitingListsHint", { hours });
  $("waiting-lists-none").hidden = lists.length > 0;
  $("waiting-lists-region").hidden = !lists.length;
  $("waiting-lists").replaceChildren(...lists.map((list) => make("tr", { "data-code": list.code },
    make("th", { scope: "row" }, list.name),
    ...cells([list.waiting, true], [list.offered, true], [list.taken, true],
      [list.lapsed, true], [list.left, true],
      [list.conversion === null ? t("desk.notGiven") : percent.format(list.conversion), true]))));
}
