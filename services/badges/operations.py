"""Badges, each use case a function of a unit of work: the desk's copy of registrations
kept from registration's events, badges made and remade, and printed (a preview, a batch, a
desk's printer, the browser); check-in and the desk are in ``desk``.

Rendering is CPU work: callers pass ``render``, which the service runs off the
eventlet hub (``eventlet.tpool``), so that printing never stalls the desk.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select

from services.badges.models import Badge, badge_status, search_text
from services.badges.printing import Printers
from services.badges.rendering import BadgeData, Rendered
from shared.auth import ticket_token
from shared.db import UnitOfWork
from shared.errors import Conflict, Gone, NotFound
from shared.events import Event
from shared.events.contracts import RegistrationData
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
        qr_payload=ticket_token(secret_key, badge.registration_id),
        name_order=badge.name_order)


def on_registration_event(uow: UnitOfWork, event: Event, render: Render,
                          secret_key: str) -> None:
    """Keep the desk's copy of a registration in whatever state it is in; make or remake
    the badge of a confirmed one when what it shows has changed."""
    if not uow.first_delivery(event):
        return
    data = event.data
    badge = uow.session.get(Badge, data.registration_id, with_for_update=True)
    if badge is not None and event.occurred_at < badge.as_of:
        uow.commit()  # an older snapshot than the one the badge shows
        return
    shown = badge_data(badge, secret_key) if badge is not None and badge.pdf else None
    if badge is None:
        badge = Badge(registration_id=data.registration_id, printed_count=0, version=0)
        uow.session.add(badge)
    copy_registration(badge, data)
    badge.status, badge.as_of = badge_status(data), event.occurred_at
    if badge_data(badge, secret_key) != shown:
        if badge.status == "active":
            remake(uow, badge, render, secret_key)
        else:  # out of date: made again if the registration is confirmed
            badge.pdf = None
    uow.commit()


def copy_registration(badge: Badge, data: RegistrationData) -> None:
    delegate = data.delegate
    badge.reference, badge.role = data.reference, data.role
    badge.ticket_type, badge.ticket_type_name = data.ticket_type, data.ticket_type_name
    badge.add_on_names = list(data.add_on_names)
    badge.valid_on = [day.isoformat() for day in data.valid_on] if data.valid_on else None
    badge.given_name, badge.family_name = delegate.given_name, delegate.family_name
    badge.name_order = delegate.name_order
    badge.pronouns, badge.organisation = delegate.pronouns, delegate.organisation
    badge.country, badge.email = delegate.country, delegate.email
    badge.timezone = data.conference.timezone
    badge.search_text = search_text(delegate.given_name, delegate.family_name,
                                    delegate.organisation, delegate.email, data.reference)


def remake(uow: UnitOfWork, badge: Badge, render: Render, secret_key: str) -> None:
    """A new version of the badge, whose earlier prints no longer count: what they show
    has changed."""
    badge.version = (badge.version or 0) + 1
    rendered = render([badge_data(badge, secret_key)], "a6")
    badge.pdf = rendered.pdf
    badge.missing_glyphs = "".join(rendered.missing_glyphs.values()) or None
    if badge.missing_glyphs:
        log.warning("badge %s has characters no font can print", badge.registration_id)
    badge.printed_count, badge.last_printed_at = 0, None
    uow.publish("badge_generated", {"registration_id": badge.registration_id,
                                    "badge_version": badge.version})


def printable(uow: UnitOfWork, registration_id: str) -> Badge:
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge is not None and badge.status in ("withdrawn", "replaced"):
        raise Gone("This registration is cancelled: its badge is withdrawn.", "registration_id",
                   code="badge_withdrawn")
    if badge is None or badge.status != "active" or badge.pdf is None:
        raise NotFound("No badge for this registration (is it confirmed?).", "registration_id")
    return badge


def preview(uow: UnitOfWork, registration_id: str) -> tuple[bytes, int]:
    """The A6 badge to look at, and its version: a preview is not a print."""
    badge = printable(uow, registration_id)
    pdf, version = badge.pdf, badge.version
    uow.rollback()
    return pdf, version


def counted(badge: Badge, now: datetime) -> None:
    badge.printed_count += 1
    badge.last_printed_at = now


def print_at_desk(uow: UnitOfWork, printers: Printers, registration_id: str, printer: str,
                  now: datetime) -> dict:
    """Send the A6 badge to a desk's printer and count it once the printer has taken it;
    nothing is counted when it is away or refuses (Unavailable). The badge's row is not
    held while the printer answers."""
    printers.check(printer)
    badge = printable(uow, registration_id)
    pdf, version, reference = badge.pdf, badge.version, badge.reference
    uow.rollback()
    job_id = printers.send(printer, pdf, f"badge {reference}")
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge.version == version:  # else a new version came meanwhile: not printed yet
        counted(badge, now)
    uow.commit()
    return {"registration_id": registration_id, "printer": printer, "job_id": job_id,
            "badge_version": version, "printed_count": badge.printed_count}


def record_browser_print(uow: UnitOfWork, registration_id: str, badge_version: int,
                         now: datetime) -> dict:
    """Count a badge the desk printed from the browser (its preview, of that version)."""
    badge = printable(uow, registration_id)
    if badge.version != badge_version:
        raise Conflict(f"The badge has changed since (version {badge.version}): print it "
                       "again.", "badge_version", code="badge_changed")
    counted(badge, now)
    uow.commit()
    return {"registration_id": registration_id, "badge_version": badge.version,
            "printed_count": badge.printed_count}


def print_many(uow: UnitOfWork, render: Render, secret_key: str, now: datetime, *,
               registration_ids: list[str] | None, ticket_type: str | None,
               not_printed: bool, order: str, layout: str) -> tuple[bytes, list[str]]:
    """One PDF of the active badges chosen (by id or filter), in the order asked; and
    whose badges it holds."""
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
        counted(badge, now)
    uow.commit()
    return pdf, [badge.registration_id for badge in badges]
