"""The rules of changing a booking, without a broker or a database."""

from collections import Counter
from datetime import date

import pytest

from services.registration import domain
from services.registration.change_rules import (
    Booked,
    change_lines,
    changes_closed,
    quote_change,
)
from services.registration.domain import Refused
from tests.registration.test_domain import make_catalog

BOOKED_ON = date(2027, 1, 15)  # within the early bird
LATER = date(2027, 4, 1)  # past the early bird; the policy refunds half


def booking(catalog, ticket_type="full", add_ons=(), member=False, code=None,
            complimentary=False) -> Booked:
    quoted = domain.priced(catalog, domain.Order(ticket_type, tuple(add_ons)), member,
                           catalog.discount_code(code) if code else None, BOOKED_ON)
    if complimentary:
        quoted = domain.complimentary(quoted)
    return Booked(ticket_type, tuple(add_ons), member, code, complimentary, BOOKED_ON,
                  quoted.total)


def test_adding_an_add_on_costs_its_price_and_takes_its_place():
    catalog = make_catalog()
    change = quote_change(catalog, booking(catalog), None, ("gala",), LATER)
    assert (change.difference, change.to_pay, change.refund_due) == (9500, 9500, 0)
    assert (change.take, change.free) == (Counter({"add_on:gala": 1}), Counter())


def test_a_change_is_priced_as_at_the_booking_early_bird_and_member_price_included():
    catalog = make_catalog()
    booked = booking(catalog, "day", member=True)
    change = quote_change(catalog, booked, "full", None, LATER)
    assert change.quote.early_bird and change.quote.member_price
    assert change.difference == 50000 - 30000
    assert change.take == Counter({"ticket_type:full": 1})
    assert change.free == Counter({"ticket_type:day": 1})


def test_dropping_refunds_the_policy_share_of_the_difference():
    catalog = make_catalog()
    booked = booking(catalog, add_ons=("gala", "ws-a"))
    change = quote_change(catalog, booked, None, ("ws-a",), LATER)
    assert (change.difference, change.to_pay, change.refund_due) == (-9500, 0, 4750)
    assert change.free == Counter({"add_on:gala": 1}) and not change.take


def test_a_workshop_swap_in_its_slot_costs_nothing():
    catalog = make_catalog()
    change = quote_change(catalog, booking(catalog, add_ons=("ws-a",)), None, ("ws-b",), LATER)
    assert (change.difference, change.refund_due) == (0, 0)
    assert (change.take, change.free) == (Counter({"add_on:ws-b": 1}),
                                          Counter({"add_on:ws-a": 1}))


def test_the_lines_of_a_change_add_up_to_its_difference():
    catalog = make_catalog()
    booked = booking(catalog, "day", add_ons=("ws-a",))
    stored = [line.__dict__ for line in domain.priced(
        catalog, domain.Order("day", ("ws-a",)), False, None, BOOKED_ON).lines]
    change = quote_change(catalog, booked, "full", ("ws-b", "gala"), LATER)
    lines = change_lines(stored, change)
    assert sum(line["amount"] for line in lines) == change.difference
    assert {line["description"] for line in lines} >= {
        "Gala (added)", "Workshop A (no longer booked)", "Workshop B (added)"}


def test_a_complimentary_place_stays_free_and_a_code_stays_with_its_ticket_types():
    catalog = make_catalog()
    free = booking(catalog, complimentary=True)
    assert quote_change(catalog, free, None, ("gala",), LATER).difference == 0
    speaker = booking(catalog, "speaker", code="SPEAK")
    with pytest.raises(Refused) as refused:
        quote_change(catalog, speaker, "full", None, LATER)
    assert (refused.value.field, refused.value.code) == ("ticket_type",
                                                         "code_not_for_ticket_type")


@pytest.mark.parametrize("ticket_type, add_ons, field, code", [
    (None, ("gala",), None, "no_change"),
    ("nope", None, "ticket_type", "unknown_ticket_type"),
    (None, ("ws-a", "ws-b"), "add_ons[1]", "add_ons_clash"),
    ("day", None, "add_ons[0]", "add_on_not_for_ticket_type"),
    ("speaker", None, "ticket_type", "code_required"),
])
def test_refused_changes_name_the_field(ticket_type, add_ons, field, code):
    catalog = make_catalog()
    with pytest.raises(Refused) as refused:
        quote_change(catalog, booking(catalog, add_ons=("gala",)), ticket_type, add_ons, LATER)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_an_organiser_changes_to_a_ticket_type_that_needs_a_code():
    catalog = make_catalog()
    assert quote_change(catalog, booking(catalog), "speaker", None, LATER,
                        by_organiser=True).ticket_type == "speaker"


def test_changes_close_after_the_change_deadline_or_else_the_name_change_deadline():
    catalog = make_catalog()
    assert not changes_closed(catalog.conference, date(2027, 6, 1))
    assert changes_closed(catalog.conference, date(2027, 6, 2))
    earlier = make_catalog(conference={**catalog.conference.model_dump(mode="json"),
                                       "changes_until": "2027-05-01"})
    assert changes_closed(earlier.conference, date(2027, 5, 2))
