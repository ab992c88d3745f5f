"""Retention: rows that have done their job are deleted on a schedule, in every service.

- outbox rows, once published, after ``RETENTION_OUTBOX_DAYS`` (7): they are copies of
  events (names, emails) kept only to look into a problem;
- processed-event rows after ``RETENTION_PROCESSED_DAYS`` (30): they guard against a
  redelivery, which comes within minutes, not weeks (ids only).
Each run is written to the audit log (actor ``retention``) with what it deleted, so that
an organiser can see that it ran. Services add their own rules (registration: needs after
the conference, closed orders; payments: Stripe's webhook events after
``RETENTION_STRIPE_EVENTS_DAYS``, 30) and record them the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.db import OutboxEvent, ProcessedEvent
from shared.organisers import AuditEntry

INTERVAL_SECONDS = 3600  # how often each service looks
DEFAULT_DAYS = {"RETENTION_OUTBOX_DAYS": 7, "RETENTION_PROCESSED_DAYS": 30}


def days(config: dict, key: str, default: int | None = None) -> int:
    return int(config.get(key, DEFAULT_DAYS.get(key, default)))


def prune_messaging(session: Session, config: dict, now: datetime) -> dict[str, int]:
    """Delete what the outbox and the inbox no longer need; how many rows of each."""
    outbox = session.execute(delete(OutboxEvent).where(
        OutboxEvent.published_at.is_not(None),
        OutboxEvent.published_at < now - timedelta(days=days(config, "RETENTION_OUTBOX_DAYS"))))
    processed = session.execute(delete(ProcessedEvent).where(
        ProcessedEvent.processed_at
        < now - timedelta(days=days(config, "RETENTION_PROCESSED_DAYS"))))
    return {"outbox": outbox.rowcount, "processed_events": processed.rowcount}


def record_run(session: Session, what: dict[str, int], now: datetime) -> None:
    """One audit log entry for a retention run: how many of each kind it deleted."""
    session.add(AuditEntry(at=now, actor="retention", role="system", action="retention run",
                           target=" ".join(f"{k}={v}" for k, v in sorted(what.items())),
                           status=200))
