"""Organisers: who sends a bearer token, and the audit log of what they do.

Besides the three tokens from the environment (``ADMIN_TOKEN``, ``FINANCE_TOKEN``,
``DESK_TOKEN``), organisers get named tokens, each with one role, made and revoked with
``conference tokens``. Every service's database keeps the same table of them, holding
only a hash of each token; the command writes to all four. A service remembers a token it
has checked for a short while (``ORGANISER_TOKEN_CACHE_SECONDS``), so a revocation takes
effect within that time.

Every request an organiser makes (a view, an export, a refund, a cancellation, a print, a
check-in) is written to the service's audit log: who, what, which record, the answer, when.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.auth import ADMIN, DESK, FINANCE, ROLE_TOKEN_KEYS, role_for_bearer
from shared.db import MessagingBase, UTCDateTime, utcnow

log = logging.getLogger(__name__)

ROLES = (ADMIN, FINANCE, DESK)
DEFAULT_CACHE_SECONDS = 30
TARGET_LENGTH = 300  # an audit entry's target, in characters


class OrganiserToken(MessagingBase):
    __tablename__ = "organiser_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(MessagingBase):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    role: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(160), doc="method and route")
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH), doc="the route's ids and the "
                                        "registrations acted on, name=value")
    status: Mapped[int] = mapped_column(Integer, doc="the HTTP status answered")


def upgrade_tables(op, sa) -> None:
    """Both tables as first made (a migration of each service calls this; a later change
    gets a migration of its own)."""
    op.create_table(
        "organiser_tokens",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("name", sa.String(length=80), nullable=False, unique=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=160), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])


def downgrade_tables(op) -> None:
    op.drop_table("audit_log")
    op.drop_table("organiser_tokens")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the conference tokens command ---------------------------------------------------------


def issue(sessions: list[Session], name: str, role: str) -> str:
    """A new token for ``name`` with ``role``, stored (hashed) in every session's database;
    the token itself is returned once and kept nowhere."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 80:
        raise ValueError("a token's name is 1 to 80 characters")
    token = secrets.token_urlsafe(32)
    row = {"id": str(uuid.uuid4()), "name": name.strip(), "role": role,
           "token_hash": token_hash(token), "created_at": utcnow()}
    for session in sessions:
        if session.scalar(select(OrganiserToken).where(OrganiserToken.name == row["name"])):
            raise ValueError(f"a token named {row['name']!r} exists; revoke it first, or "
                             "choose another name")
    for session in sessions:
        session.add(OrganiserToken(**row))
        session.commit()
    return token


def revoke(sessions: list[Session], name: str) -> int:
    """Revoke the token named ``name`` everywhere; how many databases had it."""
    found = 0
    for session in sessions:
        token = session.scalar(select(OrganiserToken).where(OrganiserToken.name == name))
        if token is not None:
            token.revoked_at = token.revoked_at or utcnow()
            found += 1
        session.commit()
    return found


def listed(session: Session) -> list[OrganiserToken]:
    return list(session.scalars(select(OrganiserToken).order_by(OrganiserToken.created_at)))


# --- each service ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Organiser:
    name: str  # the token's name; the variable's for an environment token
    role: str


class Organisers:
    """Tells who an ``Authorization`` header is, and writes what they did to the log."""

    def __init__(self, config: dict, sessions):
        self.config = config
        self.sessions = sessions  # a sessionmaker, or None for a service without a database
        self.cache_seconds = float(config.get("ORGANISER_TOKEN_CACHE_SECONDS",
                                              DEFAULT_CACHE_SECONDS))
        self._known: dict[str, tuple[Organiser | None, float]] = {}

    def identify(self, authorization: str | None) -> Organiser | None:
        role = role_for_bearer(authorization, self.config)
        if role is not None:
            return Organiser(ROLE_TOKEN_KEYS[role], role)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or self.sessions is None:
            return None
        digest = token_hash(token.strip())
        known = self._known.get(digest)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        with self.sessions() as session:
            row = session.scalar(select(OrganiserToken).where(
                OrganiserToken.token_hash == digest, OrganiserToken.revoked_at.is_(None)))
        organiser = Organiser(row.name, row.role) if row else None
        if len(self._known) > 1000:
            self._known.clear()
        self._known[digest] = (organiser, time.monotonic() + self.cache_seconds)
        return organiser

    def record(self, organiser: Organiser, action: str, target: dict, status: int,
               registration_ids: Sequence[str] = ()) -> None:
        """Write one entry (more if the registrations acted on need them to be named); a
        log that cannot be written is reported, and the answer already given stands."""
        if self.sessions is None:
            return
        now = utcnow()
        try:
            with self.sessions() as session:
                session.add_all(AuditEntry(
                    at=now, actor=organiser.name, role=organiser.role, action=action[:160],
                    target=text, status=status) for text in targets(target, registration_ids))
                session.commit()
        except Exception:  # noqa: BLE001 - the database may be away; the answer stands
            log.exception("could not write the audit log entry for %s", action)


def targets(route_ids: dict, registration_ids: Sequence[str]) -> list[str]:
    """What an entry names: the route's ids, then the registrations a handler acted on
    (``registration_ids=a,b``), spread over as many entries as the column needs."""
    route = " ".join(f"{k}={v}" for k, v in sorted(route_ids.items()))

    def naming(ids: list[str]) -> str:
        return " ".join(filter(None, [route, "registration_ids=" + ",".join(ids)]))

    found, ids = [], []
    for registration_id in dict.fromkeys(registration_ids):
        if ids and len(naming([*ids, registration_id])) > TARGET_LENGTH:
            found.append(naming(ids))
            ids = []
        ids.append(registration_id)
    return [text[:TARGET_LENGTH] for text in [*found, naming(ids) if ids else route]]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(None, max_length=80, description="one organiser's entries")
    before: int | None = Field(None, ge=1, le=2**63 - 1,  # the databases' largest integer
                               description="an entry's id: the ones before it")
    limit: int = Field(100, ge=1, le=500)


class AuditView(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    status: int


class AuditLog(BaseModel):
    items: list[AuditView]


def audit_entries(session: Session, actor: str | None, before: int | None,
                  limit: int) -> list[AuditEntry]:
    """The newest entries first, ``before`` an entry's id to page back."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if before:
        query = query.where(AuditEntry.id < before)
    return list(session.scalars(query))
