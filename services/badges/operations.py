"""What the badges service does, each as a function of a unit of work.

Rendering is CPU work: callers pass ``render``, which the service runs off the
eventlet hub (``eventlet.tpool``), so that printing never stalls the desk.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.badges.models import Badge, badges_matching
from services.badges.rendering import BadgeData, Rendered
from shared.auth import registration_of_ticket, ticket_token
from shared.db import UnitOfWork
from shared.errors import Conflict, Gone, Invalid, NotFound
from shared.events import Event
from shared.text import search_key

log = logging.getLogger(__name__)

Render = Callable[[Sequence[BadgeData], str], Rendered]
# Sort keys fold accents, so that "Öztürk" files under O and "Żółć" under Z.
ORDERS = {
    "surname": lambda b: (search_key(b.family_name or b.given_name), search_key(b.given_name)),
    "organisation": lambda b: (search_key(b.organisation), search_key(b.family_name),
                               search_key(b.given_name)),
    "ticket_type": lambda b: (b.ticket_type, search_key(b.family_name),
                              search_key(b.given_name)),
}


def badge_data(badge: Badge, secret_key: str) -> BadgeData:
    return BadgeData(
        registration_id=badge.registration_id, given_name=badge.given_name,
        family_name=badge.family_name, pronouns=badge.pronouns,
        organisation=badge.organisation, country=badge.country, role=badge.role,
        qr_payload=ticket_token(secret_key, badge.registration_id))


def on_registration_event(uow: UnitOfWork, event: Event, render: Render,
                          secret_key: str) -> None:
    """Make or remake the badge of a confirmed registration; withdraw a cancelled one."""
    if not uow.first_delivery(event):
        return
    data = event.data
    badge = uow.session.get(Badge, data.registration_id, with_for_update=True)
    if badge is not None and event.occurred_at < badge.as_of:
        uow.commit()  # an older snapshot than the one the badge shows
        return
    if data.status == "cancelled" and badge is not None:
        badge.status, badge.as_of = "withdrawn", event.occurred_at
    elif data.status == "confirmed":
        if badge is None:
            badge = Badge(registration_id=data.registration_id)
            uow.session.add(badge)
        delegate = data.delegate
        badge.reference, badge.role = data.reference, data.role
        badge.ticket_type, badge.ticket_type_name = data.ticket_type, data.ticket_type_name
        badge.given_name, badge.family_name = delegate.given_name, delegate.family_name
        badge.pronouns, badge.organisation = delegate.pronouns, delegate.organisation
        badge.country, badge.email = delegate.country, delegate.email
        badge.timezone = data.conference.timezone
        badge.search_text = search_key(" ".join(filter(None, [
            delegate.given_name, delegate.family_name, delegate.organisation, delegate.email,
            data.reference])))
        badge.status, badge.as_of = "active", event.occurred_at
        badge.version = (badge.version or 0) + 1
        rendered = render([badge_data(badge, secret_key)], "a6")
        badge.pdf = rendered.pdf
        badge.missing_glyphs = "".join(rendered.missing_glyphs.values()) or None
        if badge.missing_glyphs:
            log.warning("badge %s has characters no font can print", badge.registration_id)
        uow.publish("badge_generated", {"registration_id": badge.registration_id,
                                        "badge_version": badge.version})
    uow.commit()


def printable(uow: UnitOfWork, registration_id: str) -> Badge:
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge is None or badge.pdf is None:
        raise NotFound("No badge for this registration (is it confirmed?).", "registration_id")
    if badge.status != "active":
        raise Gone("This registration is cancelled: its badge is withdrawn.", "registration_id",
                   code="badge_withdrawn")
    return badge


def print_one(uow: UnitOfWork, registration_id: str, now: datetime) -> bytes:
    """The A6 badge, counted as printed."""
    badge = printable(uow, registration_id)
    pdf = badge.pdf
    badge.printed_count += 1
    badge.last_printed_at = now
    uow.commit()
    return pdf


def print_many(uow: UnitOfWork, render: Render, secret_key: str, now: datetime, *,
               registration_ids: list[str] | None, ticket_type: str | None,
               not_printed: bool, order: str, layout: str) -> bytes:
    """One PDF of the active badges chosen (by id or filter), in the order asked."""
    query = select(Badge).where(Badge.status == "active").with_for_update()
    if registration_ids is not None:
        query = query.where(Badge.registration_id.in_(registration_ids))
    if ticket_type:
        query = query.where(Badge.ticket_type == ticket_type)
    if not_printed:
        query = query.where(Badge.printed_count == 0)
    badges = sorted(uow.session.scalars(query), key=ORDERS[order])
    if not badges:
        raise NotFound("No badge matches.")
    pdf = render([badge_data(b, secret_key) for b in badges], layout).pdf
    for badge in badges:
        badge.printed_count += 1
        badge.last_printed_at = now
    uow.commit()
    return pdf


def search(uow: UnitOfWork, q: str) -> list[Badge]:
    return badges_matching(uow.session, search_key(q).split())


def check_in(uow: UnitOfWork, registration_id: str, now: datetime) -> dict:
    """Record a delegate's arrival once; a second scan says when the first was, in the
    conference's time zone."""
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge is None:
        raise NotFound("No confirmed registration has this ticket.", "token")
    if badge.status != "active":
        raise Conflict("This registration is cancelled.", "token", code="cancelled")
    name = " ".join(filter(None, [badge.given_name, badge.family_name]))
    if badge.checked_in_at is None:
        badge.checked_in_at = now
        uow.publish("delegate_checked_in", {"registration_id": registration_id,
                                            "checked_in_at": now})
        status, message = "checked_in", f"{name} is checked in."
    else:
        at = badge.checked_in_at.astimezone(ZoneInfo(badge.timezone)).strftime("%H:%M")
        status, message = "already_checked_in", f"{name} was already checked in at {at}."
    uow.commit()
    return {"status": status, "message": message, "registration_id": registration_id,
            "name": name, "organisation": badge.organisation,
            "checked_in_at": badge.checked_in_at, "printed_count": badge.printed_count}


def registration_of(token: str, secret_key: str) -> str:
    registration_id = registration_of_ticket(secret_key, token)
    if registration_id is None:
        raise Invalid("This code is not one of our tickets.", "token", code="invalid_ticket")
    return registration_id
