"""The registration service (port 8000): catalog, registrations, holds, organiser lists."""

import base64

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.registration import operations, pages
from services.registration.models import Base, CatalogCache
from services.registration.schemas import (
    AdminQuery,
    CardPayment,
    CatalogView,
    OrganiserCancelRequest,
    PaymentView,
    RegistrationChange,
    RegistrationCreated,
    RegistrationPage,
    RegistrationRequest,
    RegistrationView,
)
from shared.auth import ADMIN, DESK, is_registration_token, registration_token
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.http import (
    ApiError,
    Conflict,
    Forbidden,
    HttpService,
    NotFound,
    Unauthorized,
    http,
)
from shared.rpc import ServiceUnavailable, ask

HOLD_SWEEP_SECONDS = 2
TOKEN_HEADER = "X-Registration-Token"
DELEGATE_ERRORS = {401: ("No token", None), 403: ("Wrong token", None),
                   404: ("No such registration", None)}


class RegistrationService(HttpService):
    """Delegates register and manage their booking; organisers follow the sale."""

    name = "registration"
    title = "Ecsite Conference Ticketing: registration"

    db = Database(Base.metadata, seed=operations.seed)
    config = Config()
    catalogs = CatalogCache()
    payments = RpcProxy("payments")

    def view(self, registration) -> RegistrationView:
        return RegistrationView.model_validate(registration, from_attributes=True)

    def start_payment(self, registration) -> PaymentView | None:
        """Ask payments for the PaymentIntent; None if payments does not answer in time
        (the seats stay held, and the delegate can ask again)."""
        request = operations.payment_request(registration, self.catalogs.current(self.db.session))
        try:
            return PaymentView(**self.ask_payments(self.payments.start_payment,
                                                   request.model_dump(mode="json")))
        except ApiError:
            return None

    def page(self, filename: str) -> Response:
        return pages.response(filename, self.config["STRIPE_JS_URL"])

    def ask_payments(self, call, *args):
        try:
            return ask(call, *args)
        except ServiceUnavailable:
            raise ApiError("Payments cannot be reached just now; please try again shortly.",
                           code="payments_unavailable", status=503) from None

    def pending_registration(self, request, registration_id: str):
        registration = self.delegate_registration(request, registration_id)
        if registration.status != "pending_payment" or not registration.amount_due:
            raise Conflict(f"This registration is {registration.status}; nothing is due.",
                           "status", code="nothing_due")
        return registration

    def delegate_registration(self, request, registration_id: str):
        registration = operations.find(self.db, registration_id)
        token = request.headers.get(TOKEN_HEADER)
        if not token:
            raise Unauthorized(f"The registration's token is needed in {TOKEN_HEADER}.",
                               TOKEN_HEADER)
        if not is_registration_token(self.config["SECRET_KEY"], registration.id, token):
            raise Forbidden("This token does not open this registration.", TOKEN_HEADER)
        return registration

    @http("GET", "/api/catalog", summary="Ticket types, add-ons, prices and what is left",
          responses={200: ("The catalog", CatalogView)})
    def get_catalog(self, request):
        return operations.catalog_view(self.db, self.catalogs, utcnow())

    @http("POST", "/api/registrations", body=RegistrationRequest,
          summary="Register a delegate; seats are held until payment",
          responses={201: ("Registered", RegistrationCreated)})
    def create_registration(self, request, body):
        registration = operations.register(self.db, self.catalogs, body, utcnow())
        payment = self.start_payment(registration) if registration.amount_due else None
        return 201, RegistrationCreated(
            **self.view(registration).model_dump(),
            token=registration_token(self.config["SECRET_KEY"], registration.id),
            payment=payment,
        )

    @http("POST", "/api/registrations/<string:registration_id>/payment",
          summary=f"Start, or start again, paying a pending registration ({TOKEN_HEADER})",
          responses={200: ("How to pay", PaymentView), **DELEGATE_ERRORS,
                     409: ("Nothing to pay", None), 503: ("Payments is unavailable", None)})
    def pay_registration(self, request, registration_id):
        payment = self.start_payment(self.pending_registration(request, registration_id))
        if payment is None:
            raise ApiError("Payments cannot be reached just now; please try again shortly.",
                           code="payments_unavailable", status=503)
        return payment

    @http("GET", "/api/registrations/<string:registration_id>",
          summary=f"A delegate's own registration ({TOKEN_HEADER})",
          responses={200: ("The registration", RegistrationView), **DELEGATE_ERRORS})
    def get_registration(self, request, registration_id):
        return self.view(self.delegate_registration(request, registration_id))

    @http("PATCH", "/api/registrations/<string:registration_id>", body=RegistrationChange,
          summary=f"Fix the name, pronouns or organisation on the badge ({TOKEN_HEADER})",
          responses={200: ("Changed", RegistrationView), **DELEGATE_ERRORS})
    def change_registration(self, request, registration_id, body):
        self.delegate_registration(request, registration_id)
        return self.view(operations.change(self.db, self.catalogs, registration_id, body,
                                           utcnow()))

    @http("POST", "/api/registrations/<string:registration_id>/cancel",
          summary=f"Cancel one's own registration, refunded as the policy says ({TOKEN_HEADER})",
          responses={200: ("Cancelled", RegistrationView), **DELEGATE_ERRORS})
    def cancel_registration(self, request, registration_id):
        self.delegate_registration(request, registration_id)
        return self.view(operations.cancel(self.db, self.catalogs, registration_id, utcnow(),
                                           reason="delegate"))

    @http("GET", "/api/admin/registrations", query=AdminQuery, roles=(ADMIN, DESK),
          summary="Search registrations by name, organisation, email or reference",
          responses={200: ("Matching registrations", RegistrationPage)})
    def list_registrations(self, request, query):
        total, rows = operations.search(self.db, query)
        return RegistrationPage(total=total, items=[self.view(r) for r in rows])

    @http("GET", "/api/admin/registrations.csv", roles=(ADMIN,),
          summary="Every registration as CSV (UTF-8, opens in Excel)")
    def export_registrations(self, request):
        return self.export(request, "delegates")

    @http("GET", "/api/admin/exports/<string:kind>.csv", roles=(ADMIN,),
          summary="CSV for organisers: delegates, catering, accessibility or attendance")
    def export(self, request, kind):
        if kind not in operations.EXPORTS:
            raise NotFound(f"No export called {kind!r}.", "kind")
        return Response(operations.export_csv(self.db, kind), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{kind}.csv"'})

    @http("GET", "/api/admin/stats", roles=(ADMIN,),
          summary="Registrations by status and ticket type, revenue, places left")
    def sale_stats(self, request):
        return operations.stats(self.db, self.catalogs)

    @http("GET", "/api/page-config", summary="What the pages need to load Stripe.js")
    def page_config(self, request):
        return {"stripe_js_url": self.config["STRIPE_JS_URL"],
                "publishable_key": self.config["STRIPE_PUBLISHABLE_KEY"]}

    @http("POST", "/api/registrations/<string:registration_id>/card-setup",
          summary=f"A SetupIntent secret for the card form ({TOKEN_HEADER})")
    def card_setup(self, request, registration_id):
        self.pending_registration(request, registration_id)
        return {"client_secret": self.ask_payments(self.payments.start_card_setup)}

    @http("POST", "/api/registrations/<string:registration_id>/pay", body=CardPayment,
          summary=f"Charge the card the page set up ({TOKEN_HEADER}); status, or why "
                  "it was declined")
    def pay(self, request, registration_id, body):
        self.pending_registration(request, registration_id)
        return self.ask_payments(self.payments.pay, registration_id, body.payment_method)

    @http("GET", "/api/registrations/<string:registration_id>/receipt.pdf",
          summary=f"The receipt of a paid registration ({TOKEN_HEADER})")
    def receipt(self, request, registration_id):
        registration = self.delegate_registration(request, registration_id)
        if not registration.amount_paid:
            raise NotFound("This registration has no receipt yet.", "registration_id")
        pdf = base64.b64decode(self.ask_payments(self.payments.receipt_pdf, registration_id))
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="receipt-{registration.reference}.pdf"'})

    @http("GET", "/", summary="The registration page")
    def register_page(self, request):
        return self.page("register.html")

    @http("GET", "/confirmation/<string:registration_id>", summary="After paying")
    def confirmation_page(self, request, registration_id):
        return self.page("confirmation.html")

    @http("GET", "/manage/<string:registration_id>", summary="A delegate's own booking")
    def manage_page(self, request, registration_id):
        return self.page("manage.html")

    @http("GET", "/admin", summary="The organisers' dashboard")
    def admin_page(self, request):
        return self.page("admin.html")

    @http("GET", "/static/<string:filename>", summary="The pages' scripts and styles")
    def static_file(self, request, filename):
        if filename not in pages.ASSETS:
            raise NotFound("No such file.", None)
        return self.page(filename)

    @http("POST", "/api/admin/registrations/<string:registration_id>/cancel",
          body=OrganiserCancelRequest, roles=(ADMIN,),
          summary="Cancel a registration, refunding everything paid or nothing",
          responses={200: ("Cancelled", RegistrationView)})
    def organiser_cancel(self, request, registration_id, body):
        return self.view(operations.cancel(self.db, self.catalogs, registration_id, utcnow(),
                                           reason="organiser", refund_all=body.refund))

    @rpc
    def conference(self) -> dict:
        """The conference's name, dates, venue and policies (RPC, for emails and badges)."""
        conference = self.catalogs.current(self.db.session).conference
        return {"name": conference.name, "starts_on": conference.starts_on.isoformat(),
                "ends_on": conference.ends_on.isoformat(), "venue": conference.venue,
                "timezone": conference.timezone,
                "name_changes_until": conference.name_changes_until.isoformat()}

    @event_handler("payments", "payment_succeeded")
    def on_payment_succeeded(self, event):
        operations.confirm_payment(self.db, self.catalogs, event, utcnow())

    @event_handler("payments", "payment_failed")
    def on_payment_failed(self, event):
        operations.record_payment_failure(self.db, event)

    @event_handler("payments", "payment_refunded")
    def on_payment_refunded(self, event):
        operations.record_refund(self.db, self.catalogs, event, utcnow())

    @event_handler("badges", "delegate_checked_in")
    def on_delegate_checked_in(self, event):
        operations.record_check_in(self.db, event)

    @timer(interval=HOLD_SWEEP_SECONDS)
    def expire_holds(self):
        operations.expire_holds(self.db, self.catalogs, utcnow())
