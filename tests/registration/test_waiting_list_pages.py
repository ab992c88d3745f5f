"""The waiting list in a real browser (tests/registration/browser.py), at a phone's width and
a desktop's, against registration, payments with localstripe and notifications (real
SMTP): joining a sold-out workshop's list from the registration page, then the offer's link
from the email, which books and pays with the place held; or gives it up to the next."""

import pytest

from tests.conftest import wait_until
from tests.registration.conftest import register
from tests.registration.test_pages import CARD_OK, browse, euro, price, site  # noqa: F401
from tests.registration.test_waiting_list import (
    WORKSHOP,
    cancel,
    join,
    link_in,
    mail_to,
    small_workshop,
)

WIDTHS = pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
PERSON = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος",
          "email": "alexandros@example.org"}


def workshop_name(api) -> str:
    return next(a["name"] for a in api.get("/api/catalog").json()["add_ons"]
                if a["code"] == WORKSHOP)


@pytest.mark.catalog(edit=small_workshop)
@WIDTHS
def test_joining_the_list_then_booking_the_place_offered(site, mail, browse, width):  # noqa: F811
    api = site.registration
    viewport = {"width": width, "height": 844 if width < 500 else 900}
    first = register(api, email="first@example.org", add_ons=[WORKSHOP])
    name = workshop_name(api)
    seen = browse("waiting_list_join", api.base_url, item=name, person=PERSON,
                  viewport=viewport)

    assert seen["join_buttons"] == 1  # only the sold-out workshop
    assert seen["focused_on_open"] == "join-given_name"
    assert seen["about"].startswith(f"For: {name}.")
    assert seen["errors_when_empty"] == {"join-given_name-error": "Enter the given name.",
                                         "join-email-error": "Enter the email address."}
    assert seen["errors_with_bad_email"] == {
        "join-email-error": "Enter an email address like name@example.org."}
    assert seen["axe_with_errors"] == [] and seen["axe"] == []
    assert seen["done"].startswith("If this address was not on this waiting list yet")
    assert seen["focused_when_done"] == "join-close"
    assert seen["focused_after_close"] == f"Join the waiting list for {name}"
    assert seen["page_width"] <= width

    wait_until(lambda: mail_to(mail, PERSON["email"], "You are on the waiting list"),
               timeout=20, message="the email saying so")
    cancel(api, first)
    (offer,) = wait_until(lambda: mail_to(mail, PERSON["email"], "A place is held"),
                          timeout=20, message="the offer")
    entry_id, token = link_in(offer)
    seen = browse("waiting_list_offer", api.base_url, link=f"/?offer={entry_id}#token={token}",
                  add_on=WORKSHOP, card=CARD_OK, viewport=viewport, delegate={
                      "organisation": "Eugenides Foundation", "country": "GR",
                      "ticket_type": "full"})

    assert "#" not in seen["url_after_open"]  # the token left the address bar
    assert seen["heading"] == "A place is held for you"
    assert seen["text"].startswith(f"A place in {name} is held for you until ")
    assert seen["prefilled"] == [PERSON["given_name"], PERSON["email"]]
    assert seen["offered_checked"] and seen["offered_enabled"]
    assert seen["unlabelled"] == [] and seen["axe"] == []
    assert seen["page_width"] <= width
    assert seen["estimate_total"] == euro(price(api, "full", [WORKSHOP]))
    assert seen["heading_after_booking"] == "You booked this place"
    assert "confirmed" in seen["confirmation_status"]
    lists = api.get("/api/admin/waiting-lists", headers=api.as_admin()).json()["lists"]
    assert [(w["code"], w["taken"], w["conversion"]) for w in lists] == [(WORKSHOP, 1, 1.0)]


@pytest.mark.catalog(edit=small_workshop)
def test_giving_the_place_up_passes_it_to_the_next(site, mail, browse):  # noqa: F811
    api = site.registration
    first = register(api, email="first@example.org", add_ons=[WORKSHOP])
    for email in (PERSON["email"], "next@example.org"):
        assert join(api, email).status_code == 202
    cancel(api, first)
    (offer,) = wait_until(lambda: mail_to(mail, PERSON["email"], "A place is held"),
                          timeout=20, message="the offer")
    entry_id, token = link_in(offer)
    seen = browse("waiting_list_offer", api.base_url, link=f"/?offer={entry_id}#token={token}",
                  add_on=WORKSHOP, give_up=True, viewport={"width": 390, "height": 844})

    assert seen["focused_on_question"] == "place-question"
    assert seen["text_after"].startswith("The place went to the next person")
    assert seen["focused_after"] == "place-heading"
    assert not seen["offered_enabled_after"]  # held for the next in line now
    wait_until(lambda: mail_to(mail, "next@example.org", "A place is held"), timeout=20,
               message="the next person's offer")
