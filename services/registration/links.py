"""Lost links: the private links of the bookings made with an email address, sent to that
address again. The answer is the same whether or not the address has a booking, so
nobody learns who is coming by asking."""

from datetime import datetime

from sqlalchemy import func, select

from services.registration.catalog import Catalog
from services.registration.domain import Status
from services.registration.models import Order, Registration
from services.registration.orders import conference_facts
from shared.db import UnitOfWork
from shared.text import full_name

LIVE = (Status.PENDING_PAYMENT, Status.CONFIRMED)


def request_links(uow: UnitOfWork, catalog: Catalog, email: str, now: datetime) -> None:
    """Announce ``links_requested`` when ``email`` has live bookings (as a delegate, or as
    the buyer of an order); notifications sends them, to that address only."""
    address = email.casefold()
    registrations = uow.session.scalars(select(Registration).where(
        func.lower(Registration.email) == address, Registration.status.in_(LIVE),
        Registration.erased_at.is_(None)).order_by(Registration.created_at)).all()
    orders = uow.session.scalars(select(Order).where(
        func.lower(Order.buyer_email) == address, Order.status.in_(LIVE))
        .order_by(Order.created_at)).all()
    if registrations or orders:
        uow.publish("links_requested", {  # to the address as the bookings have it
            "email": registrations[0].email if registrations else orders[0].buyer_email,
            "conference": conference_facts(catalog),
            "registrations": [{"id": r.id, "reference": r.reference,
                               "name": full_name(r.given_name, r.family_name, r.name_order)}
                              for r in registrations],
            "orders": [{"id": o.id, "reference": o.reference, "name": o.buyer_name}
                       for o in orders]})
    uow.commit()
