"""What organisers do through the registration service: search and follow the sale,
open an order, cancel, send a colleague instead, correct billing details, book
complimentary places, export.
A part of ``RegistrationService`` (its entrypoints), kept apart to be read apart."""

from werkzeug.wrappers import Response

from services.registration import booking, changes, privacy, reports, substitution
from services.registration.models import Order, Registration
from services.registration.orders import find
from services.registration.schemas import (
    AdminQuery,
    BillingChange,
    ComplimentaryRequest,
    DeskRegistrationPage,
    DeskRegistrationView,
    OrderCreated,
    OrderPage,
    OrderQuery,
    OrderView,
    OrganiserCancelRequest,
    RegistrationPage,
    RegistrationView,
    Substitution,
)
from shared.auth import ADMIN, DESK, MONEY
from shared.db import utcnow
from shared.errors import NotFound
from shared.http import IDEMPOTENCY_HEADER, http, idempotency_key
from shared.rpc import ask

PRIVACY_SERVICES = ("payments", "badges", "notifications")  # besides registration itself

CSV = {200: ("CSV, UTF-8", "text/csv")}


class OrganiserApi:
    """The ``/api/admin/`` entrypoints of the registration service."""

    def order_view(self, order: Order) -> OrderView:
        return OrderView.of(order, self.catalogs.current(self.db.session))

    @http("GET", "/api/admin/registrations", query=AdminQuery, roles=(ADMIN, DESK),
          summary="Search registrations by name, organisation, email or reference; the desk "
                  "token gets DeskRegistrationPage (no email, needs, billing or money)",
          responses={200: ("Matching registrations", RegistrationPage | DeskRegistrationPage)})
    def list_registrations(self, request, query):
        total, rows = reports.search(self.db, query)
        if request.organiser.role == DESK:
            return DeskRegistrationPage(total=total, items=[
                DeskRegistrationView.model_validate(r, from_attributes=True) for r in rows])
        return RegistrationPage(total=total, items=[
            RegistrationView.model_validate(r, from_attributes=True) for r in rows])

    @http("GET", "/api/admin/orders", query=OrderQuery, roles=MONEY,
          summary="Orders with their delegates, newest first; search by buyer, delegate, "
                  "organisation, email or reference",
          responses={200: ("Matching orders", OrderPage)})
    def list_orders(self, request, query):
        total, rows = reports.search_orders(self.db, query)
        catalog = self.catalogs.current(self.db.session)
        return OrderPage(total=total, items=[OrderView.of(order, catalog) for order in rows])

    @http("GET", "/api/admin/orders/<string:order_id>", roles=MONEY,
          summary="One order with its buyer, delegates and how it is paid",
          responses={200: ("The order", OrderView)})
    def organiser_order(self, request, order_id):
        return self.order_view(find(self.db, Order, order_id))

    @http("PATCH", "/api/admin/orders/<string:order_id>/billing", body=BillingChange,
          roles=MONEY, summary="Correct the buyer's billing details; the invoice is re-issued "
                               "through a credit note",
          responses={200: ("The order", OrderView)})
    def correct_billing(self, request, order_id, body):
        return self.order_view(changes.correct_billing(self.db, self.catalogs, order_id, body))

    @http("POST", "/api/admin/complimentary", body=ComplimentaryRequest, roles=(ADMIN,),
          headers=(IDEMPOTENCY_HEADER,),
          summary="Book delegates free of charge (no codes needed); Idempotency-Key header: "
                  "the same key gives the same order",
          responses={201: ("Booked and confirmed", OrderCreated)})
    def book_complimentary(self, request, body):
        order = booking.place_order(
            self.db, self.catalogs, body.buyer, body.delegates, "card", utcnow(),
            idempotency_key=idempotency_key(request), complimentary=True)
        return 201, self.created(order)

    @http("POST", "/api/admin/orders/<string:order_id>/cancel", body=OrganiserCancelRequest,
          roles=MONEY, summary="Cancel a whole order, refunding everything paid or nothing",
          responses={200: ("Cancelled", OrderView)})
    def organiser_cancel_order(self, request, order_id, body):
        return self.order_view(changes.cancel_order(
            self.db, self.catalogs, order_id, utcnow(), reason="organiser",
            refund_all=body.refund))

    @http("POST", "/api/admin/registrations/<string:registration_id>/cancel",
          body=OrganiserCancelRequest, roles=MONEY,
          summary="Cancel one delegate, refunding everything they paid or nothing",
          responses={200: ("Cancelled", RegistrationView)})
    def organiser_cancel(self, request, registration_id, body):
        return RegistrationView.model_validate(changes.cancel_registration(
            self.db, self.catalogs, registration_id, utcnow(), reason="organiser",
            refund_all=body.refund), from_attributes=True)

    @http("POST", "/api/admin/registrations/<string:registration_id>/substitute",
          body=Substitution, roles=(ADMIN, DESK),
          summary="Send a colleague instead of a delegate, at any time (the desk too, on the "
                  "day): the colleague's registration (the desk token gets "
                  "DeskRegistrationView); the delegate's QR code stops working",
          responses={201: ("The colleague's registration",
                           RegistrationView | DeskRegistrationView)})
    def organiser_substitute(self, request, registration_id, body):
        colleague = substitution.substitute(self.db, self.catalogs, registration_id, body,
                                            utcnow(), by="organiser")
        view = DeskRegistrationView if request.organiser.role == DESK else RegistrationView
        return 201, view.model_validate(colleague, from_attributes=True)

    @http("GET", "/api/admin/registrations.csv", roles=(ADMIN,),
          summary="Every registration as CSV (UTF-8, opens in Excel)", responses=CSV)
    def export_registrations(self, request):
        return self.export(request, "delegates")

    @http("GET", "/api/admin/exports/<string:kind>.csv", roles=(ADMIN,),
          summary="CSV for organisers: delegates, catering, accessibility or attendance",
          responses=CSV)
    def export(self, request, kind):
        if kind not in reports.EXPORTS:
            raise NotFound(f"No export called {kind!r}.", "kind")
        return Response(reports.export_csv(self.db, kind), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{kind}.csv"'})

    @http("GET", "/api/admin/registrations/<string:registration_id>/export", roles=(ADMIN,),
          summary="Everything every service holds about a delegate, as one JSON document "
                  "(503 while a service cannot be asked)")
    def export_delegate(self, request, registration_id):
        order_id = find(self.db, Registration, registration_id).order_id
        parts = [privacy.export(self.db, registration_id)]
        self.db.rollback()  # no connection held while the others answer
        for name in PRIVACY_SERVICES:
            parts.append(ask(getattr(self, name).export_delegate, registration_id, order_id,
                             service=name.title()))
        return {"registration_id": registration_id, "exported_at": utcnow(),
                "services": parts}

    @http("POST", "/api/admin/registrations/<string:registration_id>/erase", roles=(ADMIN,),
          summary="Forget a delegate at their request: every service erases its copy, "
                  "keeping only what the law makes it keep (issued invoices)",
          responses={202: ("Being erased everywhere", None)})
    def erase_delegate(self, request, registration_id):
        registration = privacy.erase(self.db, registration_id, utcnow())
        return 202, {"registration_id": registration.id, "erased_at": registration.erased_at,
                     "kept": [*privacy.KEPT, "issued invoices and credit notes (payments): "
                              "the law makes them kept"]}

    @http("GET", "/api/admin/stats", roles=(ADMIN,),
          summary="Registrations by status and ticket type, revenue, places left")
    def sale_stats(self, request):
        return reports.stats(self.db, self.catalogs)
