"""Badges from registration's events, and check-in, on a real database without a broker:
the conference's facts (its time zone) come with the events."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.badges import desk, operations
from services.badges.models import Badge
from services.badges.printing import Printers
from shared.db import OutboxEvent
from shared.errors import Conflict, Gone, Invalid
from shared.events import new_event
from tests.badges.conftest import render
from tests.notifications import samples

SECRET = "s3cret"



def confirm(uow, timezone: str = "Europe/Helsinki") -> Badge:
    conference = {**samples.CONFERENCE, "timezone": timezone}
    operations.on_registration_event(uow, new_event("registration_confirmed", samples.registration(
        conference=conference)), render, SECRET)
    return uow.session.get(Badge, samples.REGISTRATION_ID)


def test_a_confirmed_registration_gets_a_badge_in_its_conference_s_time_zone(uow):
    badge = confirm(uow)
    assert (badge.status, badge.version, badge.timezone) == ("active", 1, "Europe/Helsinki")
    assert badge.pdf == b"%PDF badge"


@pytest.mark.parametrize("timezone", ["Europe/Helsinki", "America/Montreal"])
def test_a_second_scan_says_when_the_first_was_in_the_conference_s_time(uow, timezone):
    confirm(uow, timezone)
    first_scan = datetime(2027, 6, 10, 6, 12, tzinfo=UTC)
    desk.check_in(uow, samples.REGISTRATION_ID, first_scan)

    again = desk.check_in(uow, samples.REGISTRATION_ID, datetime(2027, 6, 10, 8, tzinfo=UTC))

    local = first_scan.astimezone(ZoneInfo(timezone))
    assert again["status"] == "already_checked_in"
    assert again["message"] == (f"Łukasz Żółć was already checked in at "
                                f"{local:%a} {local.day} {local:%b}, {local:%H:%M}.")


def test_a_cancelled_registration_s_badge_is_withdrawn(uow):
    confirm(uow)
    operations.on_registration_event(uow, new_event("registration_cancelled", samples.registration(
        status="cancelled", reason="buyer", refund_due=0)), render, SECRET)

    with pytest.raises(Gone) as withdrawn:
        operations.preview(uow, samples.REGISTRATION_ID)
    assert withdrawn.value.code == "badge_withdrawn"
    with pytest.raises(Conflict) as refused:
        desk.check_in(uow, samples.REGISTRATION_ID, datetime.now(UTC))
    assert refused.value.code == "cancelled"


def test_a_forged_ticket_is_invalid():
    with pytest.raises(Invalid) as refused:
        desk.registration_of("someone.forged", SECRET)
    assert (refused.value.code, refused.value.field) == ("invalid_ticket", "token")


def generated(uow) -> list[OutboxEvent]:
    return list(uow.session.scalars(select(OutboxEvent).where(
        OutboxEvent.event_type == "badge_generated")))


def test_an_update_that_changes_nothing_printed_keeps_the_badge_and_its_prints(uow):
    badge = confirm(uow)
    operations.record_browser_print(uow, samples.REGISTRATION_ID, 1, datetime.now(UTC))
    operations.on_registration_event(uow, new_event("registration_updated", samples.registration(
        email="another@example.org", add_ons=[])), render, SECRET)

    assert (badge.version, badge.printed_count, len(generated(uow))) == (1, 1, 1)


def test_a_badge_remade_while_the_printer_answers_is_not_counted(uow):
    confirm(uow)

    def send(uri, pdf, *, job_name, user):
        operations.on_registration_event(uow, new_event(
            "registration_updated", samples.registration(given_name="Łukasz Jan")),
            render, SECRET)
        return 7

    result = operations.print_at_desk(uow, Printers({"desk-1": "ipp://p/q"}, send=send),
                                      samples.REGISTRATION_ID, "desk-1", datetime.now(UTC))

    badge = uow.session.get(Badge, samples.REGISTRATION_ID)
    assert (result["job_id"], result["badge_version"], badge.version) == (7, 1, 2)
    assert (result["printed_count"], badge.printed_count) == (0, 0)
