"""The desk's verdicts on a real database without a broker: green, amber, and each red;
the desk's copy of registrations in every state; search across scripts; the organiser's
note; the search text of badges made before transliteration rebuilt by the migration."""

from datetime import UTC, date, datetime

import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.badges import desk, operations
from services.badges.models import Badge
from services.badges.rendering import Rendered
from services.registration.catalog import Catalog, load_catalog_file
from shared.db import UnitOfWork, alembic_config, make_engine, migrate, migrations
from shared.errors import Conflict, NotFound
from shared.events import new_event
from tests.badges.conftest import render
from tests.notifications import samples

SECRET = "s3cret"
THURSDAY_MORNING = datetime(2027, 6, 10, 6, 12, tzinfo=UTC)  # 09:12 in Helsinki
ID = samples.REGISTRATION_ID



def happen(uow, event_type: str, at: datetime | None = None, **changes) -> Badge:
    """Registration's event about the sample registration (``changes`` to its data)."""
    event = new_event(event_type, samples.registration(**changes))
    if at is not None:
        event = event.model_copy(update={"occurred_at": at})
    operations.on_registration_event(uow, event, render, SECRET)
    return uow.session.get(Badge, changes.get("registration_id", ID))


def refused(uow, at=THURSDAY_MORNING, registration_id=ID) -> Conflict | NotFound:
    with pytest.raises((Conflict, NotFound)) as refusal:
        desk.check_in(uow, registration_id, at)
    return refusal.value


def test_a_first_scan_checks_in_with_ticket_add_ons_and_note(uow):
    happen(uow, "registration_confirmed", add_on_names=["Gala dinner (11 June)"])
    desk.set_attention(uow, ID, "  Speaker: send to the speakers' room ")

    green = desk.check_in(uow, ID, THURSDAY_MORNING)

    assert green["status"] == "checked_in" and green["message"] == "Łukasz Żółć is checked in."
    assert (green["ticket_type_name"], green["add_on_names"]) == (
        samples.TICKET, ["Gala dinner (11 June)"])
    assert green["attention"] == "Speaker: send to the speakers' room"
    assert green["checked_in_at"] == THURSDAY_MORNING
    assert "email" not in green


def test_a_second_scan_is_amber_and_says_when_in_one_format(uow):
    happen(uow, "registration_confirmed")
    desk.check_in(uow, ID, THURSDAY_MORNING)

    amber = desk.check_in(uow, ID, datetime(2027, 6, 11, 7, tzinfo=UTC))

    assert amber["status"] == "already_checked_in"
    assert amber["message"] == "Łukasz Żółć was already checked in at Thu 10 Jun, 09:12."
    assert amber["checked_in_at"] == THURSDAY_MORNING


@pytest.mark.parametrize("event_type, status, code", [
    ("registration_created", "pending_payment", "unpaid"),
    ("registration_expired", "expired", "expired"),
])
def test_an_unpaid_registration_is_red(uow, event_type, status, code):
    badge = happen(uow, event_type, status=status)
    assert (badge.status, badge.pdf, badge.version) == (status.split("_")[0], None, 0)

    assert refused(uow).code == code
    with pytest.raises(NotFound):
        operations.preview(uow, ID)


def test_a_cancelled_registration_is_red_even_if_never_confirmed(uow):
    happen(uow, "registration_cancelled", status="cancelled", reason="buyer", refund_due=0)
    assert refused(uow).code == "cancelled"
    assert refused(uow, registration_id=samples.OTHER_REGISTRATION_ID).code == "not_found"


@pytest.mark.parametrize("at, verdict", [
    (datetime(2027, 6, 10, 6, 0, tzinfo=UTC), "checked_in"),
    (datetime(2027, 6, 10, 20, 59, tzinfo=UTC), "checked_in"),  # 23:59 in Helsinki
    (datetime(2027, 6, 10, 21, 0, tzinfo=UTC), "wrong_day"),  # Friday already, there
    (datetime(2027, 6, 9, 20, 0, tzinfo=UTC), "wrong_day"),
])
def test_a_day_pass_admits_on_its_day_in_the_conference_s_time_zone(uow, at, verdict):
    happen(uow, "registration_confirmed", ticket_type="day-thursday",
           ticket_type_name="Day pass, Thursday 10 June", valid_on=["2027-06-10"])
    if verdict == "checked_in":
        assert desk.check_in(uow, ID, at)["status"] == verdict
    else:
        refusal = refused(uow, at)
        assert refusal.code == verdict and "day pass is for Thu 10 Jun, not today" in str(
            refusal)


def test_a_full_pass_admits_every_day(uow):
    happen(uow, "registration_confirmed")
    assert desk.check_in(uow, ID, datetime(2027, 6, 9, 7, tzinfo=UTC))["status"] == "checked_in"


def test_a_late_snapshot_of_an_earlier_state_changes_nothing(uow):
    happen(uow, "registration_confirmed", at=datetime(2027, 5, 2, tzinfo=UTC))
    badge = happen(uow, "registration_created", at=datetime(2027, 5, 1, tzinfo=UTC),
                   status="pending_payment")
    assert (badge.status, badge.version) == ("active", 1)


def test_a_badge_changed_while_withdrawn_is_made_again_when_confirmed(uow):
    happen(uow, "registration_confirmed")
    withdrawn = happen(uow, "registration_cancelled", status="cancelled", reason="buyer",
                       refund_due=0, given_name="Łukasz Jan")
    assert (withdrawn.status, withdrawn.pdf) == ("withdrawn", None)
    badge = happen(uow, "registration_confirmed", given_name="Łukasz Jan")
    assert (badge.status, badge.version, badge.pdf) == ("active", 2, b"%PDF badge")


def test_the_desk_sees_characters_no_font_could_print(uow):
    def missing(badges, layout):
        return Rendered(pdf=b"%PDF badge", missing_glyphs={ID: "𓂀"})

    operations.on_registration_event(uow, new_event(
        "registration_confirmed", samples.registration(given_name="𓂀 Łukasz")), missing, SECRET)

    assert desk.check_in(uow, ID, THURSDAY_MORNING)["unprintable"] == "𓂀"


@pytest.mark.parametrize("query, name", [
    ("papad", ("Αλέξανδρος", "Παπαδόπουλος")),
    ("wang", ("小明", "王")),
    ("ivanenko bor", ("Борис", "Іваненко")),
    ("zolc", ("Łukasz", "Żółć")),
    ("Παπαδό", ("Αλέξανδρος", "Παπαδόπουλος")),
])
def test_search_finds_names_in_any_script_from_latin_letters(uow, query, name):
    happen(uow, "registration_confirmed", given_name=name[0], family_name=name[1])
    found = desk.search(uow, query)
    assert [(f["registration_id"], f["name"]) for f in found] == [(ID, " ".join(name))]


def test_the_note_is_cleared_by_a_blank_one_and_needs_a_registration(uow):
    happen(uow, "registration_confirmed")
    desk.set_attention(uow, ID, "VIP")
    assert desk.set_attention(uow, ID, "   ")["attention"] is None
    with pytest.raises(NotFound):
        desk.set_attention(uow, samples.OTHER_REGISTRATION_ID, "VIP")


def test_the_migration_rebuilds_the_search_text_of_badges_made_before(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'badges.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(migrations("badges"), connection), "0002")
        connection.execute(text(
            "INSERT INTO badges (registration_id, reference, given_name, family_name, "
            "organisation, country, role, ticket_type, ticket_type_name, email, search_text, "
            "status, version, as_of, printed_count, updated_at, timezone) VALUES "
            "(:id, 'ECS27-AAAAAA', 'Αλέξανδρος', 'Παπαδόπουλος', 'NOESIS', 'GR', 'speaker', "
            "'speaker', 'Speaker', 'a@example.org', 'αλεξανδρος παπαδοπουλος', 'active', 1, "
            "'2027-05-01 00:00:00', 0, '2027-05-01 00:00:00', 'Europe/Helsinki')"), {"id": ID})

    migrate(engine, migrations("badges"))

    with Session(engine) as session:
        uow = UnitOfWork(session, "test", lambda: None)
        [found] = desk.search(uow, "papad")
        assert found["add_on_names"] == [] and found["name"] == "Αλέξανδρος Παπαδόπουλος"
    engine.dispose()


def test_the_desk_and_the_badge_say_the_name_in_the_order_asked(uow):
    seen = []

    def rendering(badges, layout):
        seen.extend(badges)
        return Rendered(pdf=b"%PDF badge", missing_glyphs={})

    delegate = {**samples.registration()["delegate"], "given_name": "小明", "family_name": "王",
                "name_order": "family_first"}
    operations.on_registration_event(uow, new_event("registration_confirmed", samples.registration(
        delegate=delegate)), rendering, SECRET)

    assert seen[0].name_order == "family_first"
    assert desk.check_in(uow, ID, THURSDAY_MORNING)["name"] == "王 小明"


def test_the_catalog_says_which_day_a_day_pass_admits():
    catalog = load_catalog_file()
    assert catalog.ticket_type("day-friday").valid_on == (date(2027, 6, 11),)
    assert catalog.ticket_type("full").valid_on is None
    document = catalog.model_dump()
    document["ticket_types"][1]["valid_on"] = [date(2027, 6, 13)]
    with pytest.raises(ValidationError, match="valid on a day outside the conference"):
        Catalog.model_validate(document)
