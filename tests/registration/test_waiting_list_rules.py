"""The waiting list's pure rules: what an offer holds, when an item is sold out to the
public, how many places the list may offer, and the conversion."""

from datetime import UTC, date, datetime, timedelta

from services.registration import domain
from services.registration.catalog import load_catalog_file

WORKSHOP = "add_on:ws-evaluation"
FULL = "ticket_type:full"


def test_an_offer_holds_what_a_booking_of_the_item_needs():
    assert domain.offer_places(WORKSHOP) == [WORKSHOP]
    assert domain.offer_places(FULL) == ["conference", FULL]  # a seat too, in key order


def test_sold_out_to_the_public_as_the_catalog_shows_it():
    assert domain.left_for_public(WORKSHOP, {WORKSHOP: (30, 29)}) == 1
    assert domain.left_for_public(WORKSHOP, {WORKSHOP: (30, 32)}) == 0  # claims past it
    # a ticket type with places of its own, but the conference is full
    assert domain.left_for_public(FULL, {FULL: (850, 10), "conference": (1200, 1200)}) == 0


def test_the_list_may_offer_what_neither_registrations_nor_offers_hold():
    # 30 places, 28 held by registrations and offers, 3 waiting (claims): 2 to offer
    assert domain.offers_to_make(WORKSHOP, {WORKSHOP: (30, 31)}, waiting=3) == 2
    # no more than are waiting, even when the capacity was raised a lot
    assert domain.offers_to_make(WORKSHOP, {WORKSHOP: (50, 33)}, waiting=3) == 3
    # nothing freed: registrations and offers hold all 30
    assert domain.offers_to_make(WORKSHOP, {WORKSHOP: (30, 33)}, waiting=3) == 0
    # a capacity lowered below what is held: nothing, never a negative count
    assert domain.offers_to_make(WORKSHOP, {WORKSHOP: (20, 33)}, waiting=3) == 0


def test_a_ticket_type_needs_seats_left_at_the_conference():
    limits = {FULL: (850, 851), "conference": (1200, 1199)}
    assert domain.offers_to_make(FULL, limits, waiting=3) == 1  # 2 freed, one seat left
    limits["conference"] = (1200, 1200)
    assert domain.offers_to_make(FULL, limits, waiting=3) == 0


def test_which_booking_takes_the_item():
    assert domain.books_item(WORKSHOP, "full", ("gala-dinner", "ws-evaluation"))
    assert not domain.books_item(WORKSHOP, "full", ("gala-dinner",))
    assert domain.books_item(FULL, "full", ())
    assert not domain.books_item(FULL, "day-friday", ("ws-evaluation",))


def test_items_are_named_as_the_catalog_names_them():
    catalog = load_catalog_file()
    assert domain.item_name(catalog, FULL) == "Full conference (10-12 June)"
    assert domain.item_name(catalog, WORKSHOP).startswith("Pre-conference workshop")
    assert domain.item_name(catalog, "add_on:no-such-thing") is None
    assert domain.waiting_list_item("add_on", "ws-evaluation") == WORKSHOP


def test_an_offer_lasts_the_catalogs_hours_and_the_lists_close_after_the_conference():
    catalog = load_catalog_file()
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert catalog.waiting_list.offer_hours == 48
    assert domain.offer_expires(catalog, now) == now + timedelta(hours=48)
    assert not domain.list_closed(catalog.conference, date(2027, 6, 12))
    assert domain.list_closed(catalog.conference, date(2027, 6, 13))


def test_conversion_is_the_share_of_ended_offers_that_were_taken():
    assert domain.conversion(0, 0) is None
    assert domain.conversion(3, 1) == 0.75
    assert domain.conversion(1, 2) == 0.333
