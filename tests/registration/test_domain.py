"""Registration rules, without a broker or a database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.registration import domain
from services.registration.catalog import DEFAULT_CATALOG_FILE, Catalog, load_catalog_file
from services.registration.domain import (
    InvalidTransition,
    Order,
    Refused,
    Status,
    limits,
    limits_taken,
    quote,
    refund_due,
    refusal_for,
    seat_change,
    transition,
    vat_included,
)

TODAY = date(2027, 2, 1)


def make_catalog(**changes) -> Catalog:
    document = {
        "conference": {
            "name": "Test Conference", "reference_prefix": "TST", "starts_on": "2027-06-10",
            "ends_on": "2027-06-12", "venue": "Hall", "timezone": "Europe/Brussels",
            "currency": "EUR", "vat_rate_percent": "21", "capacity": 10, "hold_minutes": 30,
            "name_changes_until": "2027-06-01",
            "refund_policy": [{"until": "2027-03-01", "refund_percent": 100},
                              {"until": "2027-05-01", "refund_percent": 50}],
            "organiser": {"name": "Ecsite", "address": "Brussels", "vat_number": "BE0"},
        },
        "ticket_types": [
            {"code": "full", "name": "Full", "role": "delegate", "capacity": 5,
             "prices": {"member": 60000, "non_member": 90000},
             "early_bird": {"until": "2027-02-01", "member": 50000, "non_member": 80000}},
            {"code": "day", "name": "Day", "role": "delegate", "capacity": 5,
             "prices": {"member": 30000, "non_member": 40000}},
            {"code": "speaker", "name": "Speaker", "role": "speaker", "capacity": 5,
             "requires_code": True, "prices": {"member": 60000, "non_member": 90000}},
        ],
        "add_ons": [
            {"code": "ws-a", "name": "Workshop A", "price": 12000, "capacity": 2,
             "exclusive_group": "workshop"},
            {"code": "ws-b", "name": "Workshop B", "price": 12000, "capacity": 2,
             "exclusive_group": "workshop"},
            {"code": "gala", "name": "Gala", "price": 9500, "capacity": 3,
             "ticket_types": ["full", "speaker"]},
        ],
        "member_codes": ["MEMBER-2027"],
        "discount_codes": [
            {"code": "SPEAK", "kind": "free", "ticket_types": ["speaker"], "max_uses": 2},
            {"code": "TEN", "kind": "percent", "value": 10, "ticket_types": ["full", "day"],
             "max_uses": 5, "valid_from": "2027-01-01", "valid_until": "2027-03-31"},
            {"code": "HUNDRED", "kind": "fixed", "value": 10000, "ticket_types": ["day"],
             "max_uses": 5},
            {"code": "BIG", "kind": "fixed", "value": 99999, "ticket_types": ["day"],
             "max_uses": 5},
        ],
    }
    document.update(changes)
    return Catalog.model_validate(document)


CATALOG = make_catalog()


def refusal(order, today=TODAY, catalog=CATALOG) -> Refused:
    with pytest.raises(Refused) as caught:
        quote(catalog, order, today)
    return caught.value


class TestPricing:
    def test_non_member_price_after_early_bird(self):
        priced = quote(CATALOG, Order("full"), date(2027, 2, 2))
        assert priced.total == 90000
        assert not priced.early_bird and not priced.member_price

    def test_early_bird_includes_its_last_day(self):
        assert quote(CATALOG, Order("full"), date(2027, 2, 1)).total == 80000

    def test_member_code_gives_member_price_case_insensitively(self):
        priced = quote(CATALOG, Order("full", member_code="member-2027"), date(2027, 3, 1))
        assert priced.total == 60000 and priced.member_price

    def test_invalid_member_code_is_refused(self):
        refused = refusal(Order("full", member_code="NOPE"))
        assert (refused.field, refused.code) == ("member_code", "invalid_member_code")

    def test_add_ons_are_added_and_vat_is_inside_the_total(self):
        priced = quote(CATALOG, Order("full", ("ws-a", "gala")), date(2027, 3, 1))
        assert priced.total == 90000 + 12000 + 9500
        assert priced.vat_amount == 111500 - round(111500 / Decimal("1.21"))
        assert [line.kind for line in priced.lines] == ["ticket", "add_on", "add_on"]

    @pytest.mark.parametrize("gross, vat", [(0, 0), (121, 21), (100, 17), (99999, 17355)])
    def test_vat_included_rounds_half_up(self, gross, vat):
        assert vat_included(gross, Decimal("21")) == vat

    def test_percent_discount_applies_to_the_ticket_only(self):
        priced = quote(CATALOG, Order("full", ("gala",), discount_code="ten"), TODAY)
        assert [line.amount for line in priced.lines] == [80000, -8000, 9500]
        assert priced.total == 81500 and priced.discount_code == "TEN"

    def test_fixed_discount_never_makes_a_ticket_negative(self):
        assert quote(CATALOG, Order("day", discount_code="HUNDRED"), TODAY).total == 30000
        assert quote(CATALOG, Order("day", discount_code="BIG"), TODAY).total == 0

    def test_speaker_code_makes_the_ticket_free_but_not_the_add_ons(self):
        assert quote(CATALOG, Order("speaker", discount_code="SPEAK"), TODAY).total == 0
        assert quote(CATALOG, Order("speaker", ("gala",), discount_code="SPEAK"),
                     TODAY).total == 9500

    def test_a_ticket_that_needs_a_code_is_refused_without_one(self):
        refused = refusal(Order("speaker"))
        assert (refused.field, refused.code) == ("discount_code", "code_required")

    @pytest.mark.parametrize("order, field, code", [
        (Order("gold"), "ticket_type", "unknown_ticket_type"),
        (Order("full", discount_code="NOPE"), "discount_code", "unknown_code"),
        (Order("speaker", discount_code="TEN"), "discount_code", "code_not_for_ticket_type"),
        (Order("full", ("ws-x",)), "add_ons[0]", "unknown_add_on"),
        (Order("full", ("gala", "gala")), "add_ons[1]", "duplicate_add_on"),
        (Order("full", ("ws-a", "ws-b")), "add_ons[1]", "add_ons_clash"),
        (Order("day", ("gala",)), "add_ons[0]", "add_on_not_for_ticket_type"),
    ])
    def test_refusals_name_the_field(self, order, field, code):
        refused = refusal(order)
        assert (refused.field, refused.code) == (field, code)

    @pytest.mark.parametrize("today", [date(2026, 12, 31), date(2027, 4, 1)])
    def test_codes_outside_their_window_are_refused(self, today):
        assert refusal(Order("full", discount_code="TEN"), today).code == "code_not_valid_now"


class TestLimits:
    def test_every_limit_of_the_catalog_has_a_key(self):
        assert limits(CATALOG) == {
            "conference": 10, "ticket_type:full": 5, "ticket_type:day": 5,
            "ticket_type:speaker": 5, "add_on:ws-a": 2, "add_on:ws-b": 2, "add_on:gala": 3,
            "code:SPEAK": 2, "code:TEN": 5, "code:HUNDRED": 5, "code:BIG": 5}

    def test_a_registration_takes_the_conference_first_then_its_own_limits(self):
        assert limits_taken("full", ("ws-a", "gala"), "TEN") == [
            "conference", "ticket_type:full", "add_on:ws-a", "add_on:gala", "code:TEN"]
        assert limits_taken("day", (), None) == ["conference", "ticket_type:day"]

    @pytest.mark.parametrize("key, field, code", [
        ("conference", "ticket_type", "conference_full"),
        ("ticket_type:full", "ticket_type", "sold_out"),
        ("add_on:gala", "add_ons[1]", "sold_out"),
        ("code:TEN", "discount_code", "code_used_up"),
    ])
    def test_a_full_limit_is_blamed_on_its_field(self, key, field, code):
        refused = refusal_for(key, CATALOG, Order("full", ("ws-a", "gala"), discount_code="TEN"))
        assert (refused.field, refused.code) == (field, code)


class TestStates:
    @pytest.mark.parametrize("status, action, result", [
        (Status.PENDING_PAYMENT, "confirm", Status.CONFIRMED),
        (Status.EXPIRED, "confirm", Status.CONFIRMED),
        (Status.PENDING_PAYMENT, "expire", Status.EXPIRED),
        (Status.PENDING_PAYMENT, "cancel", Status.CANCELLED),
        (Status.CONFIRMED, "cancel", Status.CANCELLED),
    ])
    def test_allowed_transitions(self, status, action, result):
        assert transition(status, action) == result

    @pytest.mark.parametrize("status, action", [
        (Status.CONFIRMED, "expire"), (Status.CANCELLED, "confirm"),
        (Status.CANCELLED, "cancel"), (Status.CONFIRMED, "confirm"),
    ])
    def test_forbidden_transitions(self, status, action):
        with pytest.raises(InvalidTransition):
            transition(status, action)

    @pytest.mark.parametrize("old, new, change", [
        (Status.PENDING_PAYMENT, Status.CONFIRMED, 0),
        (Status.PENDING_PAYMENT, Status.EXPIRED, -1),
        (Status.PENDING_PAYMENT, Status.CANCELLED, -1),
        (Status.CONFIRMED, Status.CANCELLED, -1),
        (Status.EXPIRED, Status.CONFIRMED, 1),
        (Status.EXPIRED, Status.CANCELLED, 0),
    ])
    def test_moves_take_or_free_seats(self, old, new, change):
        assert seat_change(old, new) == change


class TestRefundPolicy:
    @pytest.mark.parametrize("today, refund", [
        (date(2027, 3, 1), 90000), (date(2027, 3, 2), 45000), (date(2027, 5, 2), 0),
    ])
    def test_refund_follows_the_dates(self, today, refund):
        assert refund_due(CATALOG.conference, 90000, today) == refund


class TestCatalog:
    def test_the_seeded_catalog_is_valid(self):
        catalog = load_catalog_file(DEFAULT_CATALOG_FILE)
        assert catalog.conference.capacity == 1200
        assert {t.role for t in catalog.ticket_types} >= {"delegate", "speaker", "exhibitor",
                                                          "press"}
        assert min(a.capacity for a in catalog.add_ons) <= 30

    @pytest.mark.parametrize("changes, message", [
        ({"add_ons": [{"code": "x", "name": "X", "price": 1, "capacity": 1,
                       "ticket_types": ["gold"]}]}, "unknown ticket types"),
        ({"discount_codes": [{"code": "PCT", "kind": "percent", "value": 0,
                              "ticket_types": ["full"], "max_uses": 1}]}, "percent"),
        ({"ticket_types": [CATALOG.ticket_types[0].model_dump()] * 2}, "duplicate"),
    ])
    def test_inconsistent_catalogs_are_refused(self, changes, message):
        with pytest.raises(ValidationError, match=message):
            make_catalog(**changes)


class TestOrders:
    def test_a_refund_is_split_by_share_to_the_cent(self):
        assert domain.share_of_refund(1000, [300, 300, 400]) == [300, 300, 400]
        assert domain.share_of_refund(1001, [1, 1, 1]) == [333, 333, 335]
        assert sum(domain.share_of_refund(99999, [69000, 0, 41500])) == 99999
        assert domain.share_of_refund(500, [100, 0])[1] == 0, "nothing paid, nothing back"
        assert domain.share_of_refund(0, [0, 0]) == [0, 0]

    def test_a_refusal_names_the_delegate_it_is_about(self):
        refused = domain.Refused("add_ons[1]", "sold_out", "Full.")
        assert refused.within("delegates[2]").field == "delegates[2].add_ons[1]"
        assert domain.Refused(None, "x", "y").within("delegates[0]").field == "delegates[0]"


@pytest.mark.parametrize(("minutes", "reminded"), [(10, ["2027-03-01T10:20:00+00:00"]),
                                                   (0, []), (45, [])])
def test_an_unpaid_card_order_is_reminded_once_before_its_hold_ends(minutes, reminded):
    conference = load_catalog_file(DEFAULT_CATALOG_FILE).conference.model_copy(
        update={"payment_reminder_minutes": minutes})
    placed = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    times = domain.card_reminders(conference, placed, placed + timedelta(minutes=30))
    assert [t.isoformat() for t in times] == reminded
