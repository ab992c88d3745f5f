"""Retention, run as the hourly timer runs it: needs deleted after the conference, closed
registrations erased after their period, published outbox rows and old processed-event
rows deleted; nothing else touched; each run in the audit log."""

from datetime import UTC, datetime, timedelta

from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from services.registration.models import Registration
from services.registration.service import RegistrationService
from shared.db import OutboxEvent, ProcessedEvent
from shared.organisers import AuditEntry
from tests.conftest import wait_until
from tests.registration.conftest import register

LONG_AGO = datetime.now(UTC) - timedelta(days=400)


def test_retention_deletes_what_is_due_and_nothing_else(start_service, registration_config,
                                                        listen):
    config = {**registration_config, "RETENTION_NEEDS_DAYS": "-1000"}  # the conference is over
    container, api = start_service(RegistrationService, config)
    events = listen("registration")
    staying = register(api, email="staying@example.org", dietary_needs="vegan")
    leaving = register(api, email="gone.long.ago@example.org", family_name="Dawnoodeszła")
    recent = register(api, email="cancelled.today@example.org")
    for created in (leaving, recent):
        assert api.post(f"/api/registrations/{created['id']}/cancel",
                        headers={"X-Registration-Token": created["token"]}).status_code == 200
    engine = create_engine(config["DATABASE_URL"])
    with Session(engine) as session:
        wait_until(lambda: not session.scalar(select(func.count()).select_from(OutboxEvent)
                                              .where(OutboxEvent.published_at.is_(None))),
                   message="the outbox published")
        session.execute(update(Registration).where(Registration.id == leaving["id"])
                        .values(cancelled_at=LONG_AGO))
        published = session.scalar(select(func.count()).select_from(OutboxEvent))
        old = session.scalars(select(OutboxEvent.seq).limit(2)).all()
        session.execute(update(OutboxEvent).where(OutboxEvent.seq.in_(old))
                        .values(published_at=LONG_AGO))
        session.add(ProcessedEvent(event_id="00000000-0000-0000-0000-000000000001",
                                   consumer="old", processed_at=LONG_AGO))
        session.commit()

    with entrypoint_hook(container, "retention_run") as run:
        run()

    events.wait_for("delegate_erased", leaving["id"])
    with Session(engine) as session:
        rows = {r.id: r for r in session.scalars(select(Registration))}
        assert rows[staying["id"]].dietary_needs is None  # needs: gone after the conference
        assert rows[staying["id"]].email == "staying@example.org"  # the rest kept
        assert rows[leaving["id"]].erased_at is not None
        assert rows[leaving["id"]].family_name == ""
        assert rows[recent["id"]].erased_at is None  # cancelled today: not yet due
        assert session.get(ProcessedEvent, ("00000000-0000-0000-0000-000000000001",
                                            "old")) is None
        left = session.scalar(select(func.count()).select_from(OutboxEvent))
        assert left < published  # the old rows, and those that named the erased delegate
        assert session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.published_at < datetime.now(UTC) - timedelta(days=7))) == 0
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.actor == "retention"))
        assert "needs=3" in entry.target and "closed_registrations_erased=1" in entry.target
        assert "outbox=2" in entry.target and "processed_events=1" in entry.target

    with entrypoint_hook(container, "retention_run") as run:
        run()
    with Session(engine) as session:
        second = session.scalars(select(AuditEntry).where(AuditEntry.actor == "retention")
                                 .order_by(AuditEntry.id.desc())).first()
        assert second.target == ("closed_registrations_erased=0 needs=0 outbox=0 "
                                 "processed_events=0")
    assert len(events.of_type("delegate_erased", leaving["id"])) == 1
