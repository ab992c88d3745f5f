"""Changing a confirmed booking in a real browser (tests/registration/browser.py), at a
phone's width and a desktop's, against registration and payments with localstripe: the
delegate adds an add-on and pays the difference by card, or drops one and sees the refund,
from their booking's page; the buyer swaps a delegate's workshop from the order's page; a
declined card for the difference leaves the booking as it was; an organiser upgrades a
day pass from the money desk, the buyer paying the difference."""

import re

import pytest

from tests.conftest import ADMIN_TOKEN, wait_until
from tests.registration.conftest import delegate, register
from tests.registration.test_booking_changes import held, one_place_in
from tests.registration.test_pages import (  # noqa: F401 - fixtures
    CARD_DECLINED,
    CARD_OK,
    FINANCE,
    browse,
    euro,
    place_order,
    site,
    team,
)

WIDTHS = pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
GALA, WORKSHOP = "gala-dinner", "ws-climate-dialogue"
SLOT = "pre-conference-workshop"
# The first delegate of test_pages.team() holds ws-evaluation; the swap's other choices.
HELD_WORKSHOP, OTHER_WORKSHOP = "ws-evaluation", "ws-inclusive-tinkering"


def viewport(width: int) -> dict:
    return {"width": width, "height": 844 if width < 500 else 900}


def names(api) -> dict:
    return {a["code"]: (a["name"], a["price"]) for a in api.get("/api/catalog").json()["add_ons"]}


def confirmed(stack, **changes) -> dict:
    created = register(stack.registration, **changes)
    assert stack.pay(stack.payment(created)) == "succeeded"
    stack.wait_for_status(created, "confirmed")
    return created


def changes_of(stack, created: dict) -> list[dict]:
    answer = stack.registration.get(f"/api/registrations/{created['id']}/changes",
                                   headers={"X-Registration-Token": created["token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


@WIDTHS
def test_a_delegate_adds_the_gala_dinner_and_pays_the_difference(site, browse, width):  # noqa: F811
    api = site.registration
    created = confirmed(site, add_ons=[])
    gala, price = names(api)[GALA]
    seen = browse("change_add_and_pay", api.base_url, id=created["id"], token=created["token"],
                  add_on=GALA, add_on_name=gala, card=CARD_OK, viewport=viewport(width))

    # The form holds what the booking holds: the ticket, no workshop, no study visit.
    assert seen["preloaded"] == ["full", "none", "none"]
    assert seen["legends"] == ["Ticket type", "Pre-conference workshop (9 June)",
                               "Study visit (13 June)", "Other add-ons"]
    assert seen["unlabelled"] == [] and seen["axe"] == []
    assert seen["history_before"] == "No changes yet."
    # The price first, said and focused.
    assert seen["difference"] == f"You pay {euro(price)} more."
    assert seen["focused_after_quote"] == "change-difference"
    assert seen["new_total"] == euro(created["amount_due"] + price)
    assert seen["page_width"] <= width and seen["page_width_after"] <= width
    # Then the difference to pay, "preparing" first; the booking unchanged meanwhile.
    assert seen["focused_on_payment"] == "payment-heading"
    assert seen["payment_heading"] == "Pay the difference"
    assert seen["amount_due"] == f"Difference to pay: {euro(price)}"
    assert seen["paying_for"] == f"For the change: added {gala}."
    assert seen["preparing"] == "Preparing your payment…"
    assert seen["add_ons_while_unpaid"] == "None"
    assert seen["note_while_unpaid"].startswith("A change of this booking waits for its payment")
    # Paid: the booking with the gala dinner, and the change listed.
    assert seen["status_after"] == "Your booking is changed."
    assert seen["add_ons_after"] == gala
    assert seen["paid_after"] == euro(created["amount_due"] + price)
    assert not seen["payment_visible_after"]
    [listed] = seen["history"]
    assert listed.endswith(f": added {gala}. Paid {euro(price)}.")
    assert seen["preloaded_after"] == ["full", "none", "none", GALA]
    [key] = seen["change_keys"]
    assert re.fullmatch(r"[0-9a-f]{32}", key)

    now = site.status(created)
    assert (now["add_ons"], now["amount_paid"]) == ([GALA], created["amount_due"] + price)
    [change] = changes_of(site, created)
    assert (change["status"], change["difference"]) == ("applied", price)


@WIDTHS
def test_a_delegate_drops_an_add_on_and_sees_the_refund(site, browse, width):  # noqa: F811
    api = site.registration
    created = confirmed(site, add_ons=[GALA, WORKSHOP])
    catalog = names(api)
    (gala, price), (workshop, _) = catalog[GALA], catalog[WORKSHOP]
    seen = browse("change_drop_and_refund", api.base_url, id=created["id"],
                  token=created["token"], drop=GALA, viewport=viewport(width))

    assert "Choose what to change first" in seen["nothing_changed"]
    assert seen["focused_when_unchanged"] == "error-summary"
    refund = f"{euro(price)} will be refunded to the card you paid with."
    assert seen["difference"] == refund  # before 15 April 2027: all of it
    assert not seen["summary_after_quote"]
    assert seen["status_after"] == f"Your booking is changed. {refund}"
    assert seen["focused_after"] == "main"
    assert seen["add_ons_after"] == workshop
    assert seen["refunded_after"] == euro(price)
    [listed] = seen["history"]
    assert listed.endswith(f": dropped {gala}. Refunded {euro(price)}.")
    assert seen["page_width"] <= width

    now = site.status(created)
    assert (now["add_ons"], now["amount_refunded"]) == ([WORKSHOP], price)


@pytest.mark.catalog(edit=one_place_in(WORKSHOP))
@WIDTHS
def test_the_buyer_swaps_a_delegates_workshop(site, browse, width):  # noqa: F811
    api = site.registration
    placed = place_order(api, FINANCE, team())
    assert site.pay(site.payment(placed)) == "succeeded"
    wait_until(lambda: site.order(placed)["status"] == "confirmed", 15,
               message="the order confirmed")
    seen = browse("change_on_order_page", api.base_url, id=placed["id"], token=placed["token"],
                  name="Łukasz Żółć", group=SLOT, full_workshop=WORKSHOP,
                  other_workshop=OTHER_WORKSHOP, viewport=viewport(width),
                  competitor=delegate(email="competitor@example.org", add_ons=[WORKSHOP]))

    assert seen["focused_on_open"] == "change-heading"
    assert seen["heading"] == "Change the booking of Łukasz Żółć"
    assert seen["slot_legend"] == "Pre-conference workshop (9 June)"
    assert seen["preloaded"] == ["full", HELD_WORKSHOP, "none", GALA]
    assert seen["competitor_status"] == 201  # the workshop's last place, taken meanwhile
    assert seen["difference"] == "No change in price."
    # Refused by the server at the workshops' slot, which now marks it sold out.
    assert list(seen["errors"]) == [f"change-slot-{SLOT}-error"]
    assert "fully booked" in seen["errors"][f"change-slot-{SLOT}-error"]
    assert seen["focused_after_refusal"].startswith(f"change-slot-{SLOT}-")
    assert seen["slot_invalid"] == "true"
    assert seen["sold_out_disabled"] and "Sold out" in seen["sold_out_details"]
    assert seen["chosen_after_refusal"] == ["full", HELD_WORKSHOP, "none", GALA]
    assert seen["unlabelled"] == [] and seen["axe_with_error"] == []
    assert seen["page_width_with_error"] <= width and seen["page_width"] <= width
    # Another workshop of the slot: swapped at once.
    assert seen["difference_after"] == "No change in price."
    assert seen["status"] == "The booking of Łukasz Żółć is changed."
    assert seen["focused_after"] == "main"
    assert not seen["change_visible_after"]
    assert "Tinkering for inclusion" in seen["delegate"]
    assert "Evaluation that changes practice" not in seen["delegate"]
    first, second = seen["change_keys"]  # one key per submission
    assert first != second

    now = site.order(placed)
    assert sorted(now["delegates"][0]["add_ons"]) == sorted([OTHER_WORKSHOP, GALA])
    assert (now["amount_paid"], now["amount_refunded"]) == (placed["amount_due"], 0)


@WIDTHS
def test_a_declined_card_leaves_the_booking_as_it_was(site, browse, width):  # noqa: F811
    api = site.registration
    created = confirmed(site, add_ons=[])
    gala, price = names(api)[GALA]
    before = held(site, GALA)
    seen = browse("change_declined", api.base_url, id=created["id"], token=created["token"],
                  add_on=GALA, declined_card=CARD_DECLINED, viewport=viewport(width))

    assert seen["axe"] == []
    assert "declined" in seen["decline_message"].lower()
    assert (seen["add_ons_after_decline"], seen["booking_status_after_decline"]) == (
        "None", "Confirmed")
    assert seen["pay_button_after_decline"] == f"Pay {euro(price)}"  # another card may try
    assert seen["give_up_visible"] and not seen["form_visible_while_unpaid"]
    assert seen["page_width"] <= width
    assert seen["status_after_give_up"] == "The change is dropped: the booking stays as it was."
    assert not seen["payment_visible_after"]
    assert seen["add_ons_after"] == "None"
    [listed] = seen["history"]
    assert listed.endswith(f": added {gala}. Dropped, not paid.")
    assert seen["preloaded_after"] == ["full", "none", "none"]

    now = site.status(created)
    assert (now["status"], now["add_ons"], now["amount_due"], now["amount_paid"]) == (
        "confirmed", [], created["amount_due"], created["amount_due"])
    assert [c["status"] for c in changes_of(site, created)] == ["cancelled"]
    assert held(site, GALA) == before


def test_an_organiser_upgrades_a_day_pass_at_the_money_desk(site, browse):  # noqa: F811
    api = site.registration
    placed = place_order(api, FINANCE, team())
    assert site.pay(site.payment(placed)) == "succeeded"
    wait_until(lambda: site.order(placed)["status"] == "confirmed", 15,
               message="the order confirmed")
    friday = placed["delegates"][1]  # Agnieszka's day pass
    quote = api.post(f"/api/admin/registrations/{friday['id']}/changes/quote",
                     json={"ticket_type": "full"}, headers=api.as_admin()).json()
    seen = browse("change_at_the_desk", api.base_url, token=ADMIN_TOKEN,
                  reference=placed["reference"], name="Agnieszka Wróbel", ticket_type="full")

    assert seen["column"] == "Change"
    assert seen["focused_on_open"] == "desk-change-heading"
    assert seen["heading"] == "Change the booking of Agnieszka Wróbel"
    assert seen["difference"] == f"You pay {euro(quote['difference'])} more."
    assert seen["unlabelled"] == [] and seen["axe"] == []
    assert seen["question"].startswith("Change this booking? The booking of Agnieszka Wróbel "
                                       "becomes: ticket Day pass, Friday 11 June → Full")
    [key] = seen["keys"]  # double-clicked, sent once
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    [change] = api.get(f"/api/admin/registrations/{friday['id']}/changes",
                       headers=api.as_admin()).json()["items"]
    assert (change["status"], change["by"]) == ("pending_payment", "organiser")
    said = (f"The change takes effect once the buyer has paid the difference of "
            f"{euro(quote['difference'])} (order {change['order_reference']}).")
    assert seen["news"] == said and seen["note"].startswith(said)
    assert seen["pay_link"].startswith(f"/orders/{change['order_id']}#token=")
    [listed] = seen["history"]
    assert listed.endswith(f"Waiting for the payment of {euro(quote['difference'])}.")

    # The buyer pays through that link's order: the day pass becomes a full ticket.
    token = seen["pay_link"].split("#token=")[1]
    paying = {"id": change["order_id"], "token": token, "delegates": []}
    assert site.pay(site.payment(paying)) == "succeeded"
    wait_until(lambda: site.status(friday)["ticket_type"] == "full", 20, message="the upgrade")
