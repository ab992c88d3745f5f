"""What every service's export and erasure of a delegate share (the right of access and the
right to be forgotten).

An export is ``{"service", "data", "kept"}``: ``data`` is everything the service holds
about the delegate, as JSON; ``kept`` says what stays after an erasure, and why. An
erasure replaces a person's name by ``ERASED_NAME`` and their email by ``ERASED_EMAIL``
(as registration's own erasure does), so that a copy keeps its shape, and a message to
``ERASED_EMAIL`` is never sent.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import String, cast, delete, inspect, or_

from shared.db import OutboxEvent, UnitOfWork
from shared.text import full_name

ERASED_NAME = "Erased"
ERASED_EMAIL = "erased@invalid"


def json_value(value):
    """A column's value as JSON (dates in ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime | date) else value


def row_of(row, exclude: Iterable[str] = ()) -> dict:
    """A mapped row's columns as a JSON-serialisable dict."""
    skip = set(exclude)
    return {attr.key: json_value(getattr(row, attr.key))
            for attr in inspect(row).mapper.column_attrs if attr.key not in skip}


def export(service: str, data: dict, kept: list[str]) -> dict:
    return {"service": service, "data": data, "kept": kept}


def names_of_delegate(delegate: dict) -> set[str]:
    """What identifies a delegate (a ``Delegate`` of an event) in free text: their name
    written either way round, and their email."""
    given, family = delegate.get("given_name", ""), delegate.get("family_name", "")
    return {full_name(given, family, "given_first"), full_name(given, family, "family_first"),
            delegate.get("email", "")} - {"", ERASED_NAME, ERASED_EMAIL}


def names_in_order(order: dict, registration_id: str, whole_order: bool) -> set[str]:
    """What identifies the delegate ``registration_id`` in an order's snapshot (an
    ``OrderData``), and its buyer too when ``whole_order``."""
    people = [d for d in order.get("delegates", []) if d["registration_id"] == registration_id]
    if whole_order:
        people.append(order.get("buyer") or {})
    return {value for person in people for value in (person.get("name"), person.get("email"))
            if value} - {ERASED_NAME, ERASED_EMAIL}


def scrub(value, needles: Iterable[str]):
    """``value`` (JSON) with every occurrence of a needle (case folded, as a whole word:
    erasing "Li" leaves "Lisbon") replaced by ``ERASED_NAME``."""
    needles = sorted({n for n in needles if n}, key=len, reverse=True)
    if not needles:
        return value
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, needles))})(?!\w)",
                         re.IGNORECASE)

    def walk(item):
        if isinstance(item, str):
            return pattern.sub(ERASED_NAME, item)
        if isinstance(item, list):
            return [walk(element) for element in item]
        if isinstance(item, dict):
            return {key: walk(element) for key, element in item.items()}
        return item

    return walk(value)


def mentions(value, needles: Iterable[str]) -> bool:
    """Whether ``value`` (text, or JSON) names one of ``needles``."""
    return bool(value) and scrub(value, needles) != value


def anonymised_delegate(registration: dict) -> dict:
    """A registration's snapshot (``RegistrationData``) with its delegate erased."""
    delegate = {**registration["delegate"], "given_name": ERASED_NAME, "family_name": "",
                "name_order": "given_first", "pronouns": None, "organisation": ERASED_NAME,
                "email": ERASED_EMAIL}
    return scrub({**registration, "delegate": delegate}, names_of_delegate(
        registration["delegate"]))


def anonymised_order(order: dict, registration_id: str, whole_order: bool) -> dict:
    """An order's snapshot (``OrderData``) with the delegate ``registration_id`` erased, and
    its buyer when ``whole_order``; the rest of the order as it was."""
    needles = names_in_order(order, registration_id, whole_order)
    delegates = [{**d, "name": ERASED_NAME, "email": ERASED_EMAIL}
                 if d["registration_id"] == registration_id else d
                 for d in order.get("delegates", [])]
    erased = {**order, "delegates": delegates}
    if whole_order and "buyer" in order:
        erased["buyer"] = {**order["buyer"], "name": ERASED_NAME, "email": ERASED_EMAIL,
                           "organisation": ERASED_NAME, "billing_address": None,
                           "vat_number": None, "purchase_order": None}
    return scrub(erased, needles)


def only_theirs(order: dict, registration_id: str) -> bool:
    """An order (``OrderData``) of this one delegate: its buyer is the delegate."""
    return [d["registration_id"] for d in order.get("delegates", [])] == [registration_id]


def forget_published_events(uow: UnitOfWork, ids: Iterable[str]) -> int:
    """Delete the published outbox rows whose envelope mentions one of ``ids``: their job
    is done, and they hold copies of what was erased. Unpublished rows are left to be
    delivered (the relay sends them within moments); how many were deleted."""
    mentioned = [cast(OutboxEvent.envelope, String).contains(i, autoescape=True) for i in ids]
    return uow.session.execute(delete(OutboxEvent).where(
        OutboxEvent.published_at.is_not(None), or_(*mentioned))).rowcount
