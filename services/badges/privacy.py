"""A delegate's data in badges: exported on request, erased when registration announces
``delegate_erased``.

Badges holds the desk's copy of each registration (the names, pronouns, organisation,
country and email; prints, check-in, an organiser's note) and its badge's PDF. An erasure
anonymises the row rather than deleting it: the row withdrawn and dated after the erasure
is what stops a late event about the registration from making the badge again, and a scan
of the old code is refused.
"""

from services.badges.models import Badge
from shared.db import UnitOfWork
from shared.events import Event
from shared.privacy import ERASED_EMAIL, ERASED_NAME, export, forget_published_events, row_of

SERVICE = "badges"
KEPT = [
    "an anonymised row of the registration: its id and reference, ticket, role, add-ons, "
    "days, print count and check-in time, with no name, pronouns, organisation, country, "
    "email, note or badge PDF; withdrawn, so that a late event about the registration does "
    "not make the badge again and a scan of its old code is refused",
]


def export_delegate(uow: UnitOfWork, registration_id: str, order_id: str) -> dict:
    """The desk's copy of the registration (the badge's PDF only said to exist)."""
    try:
        badge = uow.session.get(Badge, registration_id)
        data = {}
        if badge is not None:
            data["badge"] = {**row_of(badge, exclude=("pdf", "search_text")),
                             "badge_pdf_stored": badge.pdf is not None}
        return export(SERVICE, data, KEPT)
    finally:
        uow.rollback()


def erase_delegate(uow: UnitOfWork, event: Event) -> None:
    """Anonymise the desk's copy of the registration beyond recognition, and drop its badge;
    once, however often the event comes."""
    if not uow.first_delivery(event):
        uow.rollback()
        return
    erased = event.data
    badge = uow.session.get(Badge, erased.registration_id, with_for_update=True)
    if badge is not None:
        badge.given_name, badge.family_name, badge.name_order = ERASED_NAME, "", "given_first"
        badge.pronouns, badge.organisation, badge.country = None, ERASED_NAME, ""
        badge.email, badge.search_text, badge.attention = ERASED_EMAIL, "", None
        badge.pdf, badge.missing_glyphs, badge.status = None, None, "withdrawn"
        badge.as_of = max(badge.as_of, erased.erased_at)
    forget_published_events(uow, [erased.registration_id])
    uow.commit()
