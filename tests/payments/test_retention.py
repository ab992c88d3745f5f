"""Payments' retention, run as the hourly timer runs it: Stripe's webhook events deleted 30
days after they came (flagged ones too), younger ones and everything else kept; the run in
the audit log."""

from datetime import UTC, datetime, timedelta

from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.payments.models import StripeEvent
from services.payments.service import PaymentsService
from shared.organisers import AuditEntry


def test_stripe_events_are_deleted_after_30_days(start_service, payments_config):
    container, _ = start_service(PaymentsService, payments_config)
    now = datetime.now(UTC)
    engine = create_engine(payments_config["DATABASE_URL"])
    with Session(engine) as session:
        session.add_all([
            StripeEvent(id="evt_old", type="payment_intent.succeeded",
                        received_at=now - timedelta(days=31)),
            StripeEvent(id="evt_old_flagged", type="payment_intent.succeeded",
                        received_at=now - timedelta(days=40), problem="unexpected shape"),
            StripeEvent(id="evt_recent", type="payment_intent.succeeded",
                        received_at=now - timedelta(days=29), problem="unexpected shape"),
        ])
        session.commit()

    with entrypoint_hook(container, "retention_run") as run:
        run()

    with Session(engine) as session:
        assert session.scalars(select(StripeEvent.id)).all() == ["evt_recent"]
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.actor == "retention"))
        assert "stripe_events=2" in entry.target
