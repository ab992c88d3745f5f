"""The entrypoints of changes to a booking (``booking_changes``): a delegate who pays for
themselves changes their own, a buyer any of their order's delegates, an organiser any,
after the deadline too. Each can ask first what a change would cost (``.../quote``).
A part of ``RegistrationService``, kept apart to be read apart."""

from services.registration import booking_changes
from services.registration.booking_change_schemas import (
    BookingChangeCreated,
    BookingChangeList,
    BookingChangeRequest,
    ChangeQuoteView,
)
from services.registration.headers import BUYER_TOKEN as BUYER
from services.registration.headers import DELEGATE_TOKEN as DELEGATE
from services.registration.models import BookingChange, Registration
from services.registration.orders import find
from shared.auth import ADMIN, order_token
from shared.db import utcnow
from shared.http import IDEMPOTENCY_HEADER as IDEMPOTENT
from shared.http import http, idempotency_key

REFUSALS = {401: ("No token", None), 403: ("Wrong token, or a delegate whose place the "
                                           "buyer pays for", None),
            404: ("No such registration", None),
            409: ("Not changeable now, sold out, or a change waits for payment", None)}
CHANGED = {201: ("Changed, or waiting for the difference to be paid", BookingChangeCreated),
           **REFUSALS}
QUOTED = {200: ("What the change would do", ChangeQuoteView), **REFUSALS}


class BookingChangeApi:
    """A part of ``RegistrationService``: changing a confirmed booking."""

    def registration_of(self, registration_id: str) -> Registration:
        return find(self.db, Registration, registration_id)

    def change_quote(self, registration: Registration, body: BookingChangeRequest,
                     by: str) -> ChangeQuoteView:
        registration, wanted = booking_changes.quote(self.db, self.catalogs, registration.id,
                                                     body, utcnow(), by=by)
        method = registration.order.payment_method if wanted.to_pay else None
        return ChangeQuoteView(
            ticket_type=wanted.ticket_type, add_ons=list(wanted.add_ons),
            price_lines=[line.__dict__ for line in wanted.quote.lines],
            amount_due=wanted.quote.total, difference=wanted.difference, to_pay=wanted.to_pay,
            refund_due=wanted.refund_due, payment_method=method, currency=wanted.quote.currency)

    def make_change(self, request, registration: Registration, body: BookingChangeRequest,
                    by: str):
        change = booking_changes.change_booking(
            self.db, self.catalogs, registration.id, body, utcnow(), by=by,
            idempotency_key=idempotency_key(request))
        return 201, self.change_view(change)

    def change_view(self, change: BookingChange) -> BookingChangeCreated:
        waiting = change.status == booking_changes.PENDING
        return BookingChangeCreated.model_validate({
            **{name: getattr(change, name) for name in BookingChangeCreated.model_fields
               if name != "order_token"},
            "order_token": order_token(self.config["SECRET_KEY"], change.order_id)
            if waiting else None})

    def changes_view(self, registrations: list[Registration]) -> BookingChangeList:
        return BookingChangeList(items=[
            self.change_view(change) for change in
            booking_changes.changes_of(self.db, [r.id for r in registrations])])

    @http("POST", "/api/registrations/<string:registration_id>/changes/quote",
          body=BookingChangeRequest, headers=(DELEGATE,),
          summary="What changing one's own booking would cost or give back; changes nothing",
          responses=QUOTED)
    def quote_own_change(self, request, registration_id, body):
        self.paid_by_delegate(request, registration_id)
        return self.change_quote(self.registration_of(registration_id), body, "delegate")

    @http("POST", "/api/registrations/<string:registration_id>/changes",
          body=BookingChangeRequest, headers=(DELEGATE, IDEMPOTENT),
          summary="Change one's own confirmed booking (add or drop add-ons, swap a workshop, "
                  "change ticket type): at once if it costs the same or less (the policy's "
                  "share refunded), else once the difference is paid by its own order",
          responses=CHANGED)
    def change_own_booking(self, request, registration_id, body):
        self.paid_by_delegate(request, registration_id)
        return self.make_change(request, self.registration_of(registration_id), body,
                                "delegate")

    @http("GET", "/api/registrations/<string:registration_id>/changes", headers=(DELEGATE,),
          summary="The changes asked of one's own booking, oldest first",
          responses={200: ("The changes", BookingChangeList), **REFUSALS})
    def own_changes(self, request, registration_id):
        self.paid_by_delegate(request, registration_id)
        return self.changes_view([self.registration_of(registration_id)])

    @http("POST", "/api/orders/<string:order_id>/delegates/<string:registration_id>"
                  "/changes/quote", body=BookingChangeRequest, headers=(BUYER,),
          summary="What changing a delegate's booking would cost or give back",
          responses=QUOTED)
    def quote_delegate_change(self, request, order_id, registration_id, body):
        return self.change_quote(self.order_delegate(request, order_id, registration_id),
                                 body, "buyer")

    @http("POST", "/api/orders/<string:order_id>/delegates/<string:registration_id>/changes",
          body=BookingChangeRequest, headers=(BUYER, IDEMPOTENT),
          summary="Change a delegate's confirmed booking, as for one's own",
          responses=CHANGED)
    def change_delegate_booking(self, request, order_id, registration_id, body):
        return self.make_change(request, self.order_delegate(request, order_id,
                                                             registration_id), body, "buyer")

    @http("GET", "/api/orders/<string:order_id>/changes", headers=(BUYER,),
          summary="The changes asked of the order's delegates' bookings, oldest first",
          responses={200: ("The changes", BookingChangeList), **REFUSALS})
    def order_changes(self, request, order_id):
        return self.changes_view(self.buyer_order(request, order_id).registrations)

    @http("POST", "/api/admin/registrations/<string:registration_id>/changes/quote",
          body=BookingChangeRequest, roles=(ADMIN,),
          summary="What changing a delegate's booking would cost or give back",
          responses=QUOTED)
    def quote_change_as_organiser(self, request, registration_id, body):
        return self.change_quote(self.registration_of(registration_id), body, "organiser")

    @http("POST", "/api/admin/registrations/<string:registration_id>/changes",
          body=BookingChangeRequest, headers=(IDEMPOTENT,), roles=(ADMIN,),
          summary="Change a delegate's confirmed booking, after the deadline too; a "
                  "difference to pay is the buyer's, by its own order",
          responses=CHANGED)
    def change_as_organiser(self, request, registration_id, body):
        return self.make_change(request, self.registration_of(registration_id), body,
                                "organiser")

    @http("GET", "/api/admin/registrations/<string:registration_id>/changes",
          roles=(ADMIN,), summary="The changes asked of a delegate's booking",
          responses={200: ("The changes", BookingChangeList)})
    def changes_for_organiser(self, request, registration_id):
        return self.changes_view([self.registration_of(registration_id)])

