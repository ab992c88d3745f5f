"""The registration desk: what a scan says, checking in, finding people, the organiser's
note.

A scan is green (checked in now), amber (already in, and since when) or refused, which
the desk shows in red: a forged code (422 ``invalid_ticket``), an unknown one (404), or a
registration that may not come in (409: ``unpaid``, ``expired``, ``cancelled``,
``replaced`` when a colleague came instead, ``wrong_day`` for a day pass on another day).
"Today" is the conference's, and times are told in its time zone, in one format:
"Thu 10 Jun, 09:12".
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.badges.models import Badge, badges_matching
from shared.auth import registration_of_ticket
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound, Refusal
from shared.text import full_name as name_in_order
from shared.text import search_key


def full_name(badge: Badge) -> str:
    """The name in the order the delegate asked for (as their badge prints it)."""
    return name_in_order(badge.given_name, badge.family_name, badge.name_order)


def local_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def local_time(moment: datetime, timezone: str) -> str:
    """The desk's one way of telling a time: "Thu 10 Jun, 09:12", in the conference's zone."""
    moment = moment.astimezone(ZoneInfo(timezone))
    return f"{local_day(moment)}, {moment:%H:%M}"


def desk_view(badge: Badge) -> dict:
    """What the desk may see of a registration: who, ticket, state; no email, needs or
    money."""
    return {
        "registration_id": badge.registration_id, "reference": badge.reference,
        "name": full_name(badge), "organisation": badge.organisation,
        "country": badge.country, "ticket_type_name": badge.ticket_type_name,
        "role": badge.role,
        "add_on_names": badge.add_on_names or [], "attention": badge.attention,
        "unprintable": badge.missing_glyphs, "status": badge.status,
        "badge_version": badge.version, "printed_count": badge.printed_count,
        "last_printed_at": badge.last_printed_at, "checked_in_at": badge.checked_in_at,
        "timezone": badge.timezone,
    }


def refusal(badge: Badge, at: datetime, field: str) -> Refusal | None:
    """Why this registration may not come in at ``at``; None if it may."""
    name = full_name(badge)
    if badge.status == "pending":
        return Conflict(f"{name} has not paid: the registration awaits payment.", field,
                        code="unpaid")
    if badge.status == "expired":
        return Conflict(f"{name}'s registration expired unpaid.", field, code="expired")
    if badge.status == "replaced":
        return Conflict(f"{name}'s place was passed to a colleague: this ticket no longer "
                        "admits anyone.", field, code="replaced")
    if badge.status != "active":
        return Conflict(f"{name}'s registration is cancelled.", field, code="cancelled")
    today = at.astimezone(ZoneInfo(badge.timezone)).date()
    if badge.valid_on and today.isoformat() not in badge.valid_on:
        days = ", ".join(local_day(date.fromisoformat(day)) for day in badge.valid_on)
        return Conflict(f"{name}'s day pass is for {days}, not today ({local_day(today)}).",
                        field, code="wrong_day")
    return None


def registration_of(token: str, secret_key: str) -> str:
    registration_id = registration_of_ticket(secret_key, token)
    if registration_id is None:
        raise Invalid("This code is not one of our tickets.", "token", code="invalid_ticket")
    return registration_id


def check_in(uow: UnitOfWork, registration_id: str, at: datetime, field: str = "token"
             ) -> dict:
    """Record a delegate's arrival, scanned at ``at``, once; a second scan says when the
    first was. A scan made earlier than the one recorded (an offline desk's, sent late)
    moves the time back: the first scan's time is the one kept."""
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge is None:
        raise NotFound("No registration has this ticket.", field)
    refused = refusal(badge, at, field)
    if refused is not None:
        raise refused
    name = full_name(badge)
    if badge.checked_in_at is None:
        badge.checked_in_at = at
        uow.publish("delegate_checked_in", {"registration_id": registration_id,
                                            "checked_in_at": at})
        status, message = "checked_in", f"{name} is checked in."
    else:
        badge.checked_in_at = min(badge.checked_in_at, at)
        status = "already_checked_in"
        message = (f"{name} was already checked in at "
                   f"{local_time(badge.checked_in_at, badge.timezone)}.")
    uow.commit()
    return {**desk_view(badge), "status": status, "message": message}


def search(uow: UnitOfWork, q: str) -> list[dict]:
    return [desk_view(badge) for badge in badges_matching(uow.session, search_key(q).split())]


def set_attention(uow: UnitOfWork, registration_id: str, note: str | None) -> dict:
    """The organiser's note the desk sees on scanning (None or blank: no note)."""
    badge = uow.session.get(Badge, registration_id, with_for_update=True)
    if badge is None:
        raise NotFound("No registration has this id.", "registration_id")
    badge.attention = (note or "").strip() or None
    uow.commit()
    return desk_view(badge)


def day_list(uow: UnitOfWork, public_key: str, now: datetime) -> dict:
    """What an offline desk needs for the day: whoever may be met today (a day pass for
    another day left out), with no more than the desk may see, and the key that checks
    tickets."""
    badges = list(uow.session.scalars(select(Badge).order_by(Badge.family_name,
                                                             Badge.given_name)))
    timezone = max(badges, key=lambda b: b.as_of).timezone if badges else "UTC"
    today = now.astimezone(ZoneInfo(timezone)).date()
    uow.rollback()
    return {
        "today": today, "timezone": timezone, "public_key": public_key, "generated_at": now,
        "items": [{
            "registration_id": b.registration_id, "reference": b.reference,
            "name": full_name(b), "organisation": b.organisation,
            "ticket_type_name": b.ticket_type_name, "add_on_names": b.add_on_names or [],
            "status": b.status, "checked_in_at": b.checked_in_at, "attention": b.attention,
        } for b in badges if not b.valid_on or today.isoformat() in b.valid_on],
    }


def check_in_all(uow: UnitOfWork, scans: list[tuple[str, datetime]], now: datetime
                 ) -> list[dict]:
    """Check-ins an offline desk queued, each at its scan time (a time ahead of ours is
    taken as now); each one's outcome. Sending them again checks nobody in twice."""
    results = []
    for index, (registration_id, scanned_at) in enumerate(scans):
        try:
            done = check_in(uow, registration_id, min(scanned_at, now),
                            field=f"checkins[{index}].registration_id")
            results.append({"registration_id": registration_id, "outcome": done["status"],
                            "code": None, "message": done["message"],
                            "checked_in_at": done["checked_in_at"]})
        except Refusal as refused:
            uow.rollback()
            results.append({"registration_id": registration_id, "outcome": "refused",
                            "code": refused.code, "message": refused.message,
                            "checked_in_at": None})
    return results
