"""The registration service (port 8000): catalog, orders and registrations, holds,
organiser lists. Nothing here waits for payments: it hears payments' events."""

import base64
import io

import segno
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.registration import (
    booking,
    changes,
    links,
    payment_events,
    privacy,
    substitution,
)
from services.registration.abuse import AbuseLimits, Client
from services.registration.booking_change_api import BookingChangeApi
from services.registration.domain import Status
from services.registration.headers import (
    BUYER_ERRORS,
    BUYER_TOKEN,
    DELEGATE_ERRORS,
    DELEGATE_TOKEN,
    ORDER_TOKEN_HEADER,
    TOKEN_HEADER,
)
from services.registration.models import Base, CatalogCache, Order, Registration
from services.registration.orders import find, payable
from services.registration.organiser import OrganiserApi
from services.registration.pages import Pages
from services.registration.schemas import (
    CardPayment,
    CatalogView,
    LinksRequest,
    OrderCreated,
    OrderRequest,
    OrderView,
    PaymentPreparing,
    PaymentView,
    RegistrationChange,
    RegistrationCreated,
    RegistrationRequest,
    RegistrationView,
    Substitution,
)
from services.registration.waiting_list_api import WaitingListApi
from shared.auth import (
    is_order_token,
    is_registration_token,
    order_token,
    registration_token,
    ticket_token,
)
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import Forbidden, NotFound
from shared.http import (
    IDEMPOTENCY_HEADER,
    HttpService,
    client_address,
    http,
    idempotency_key,
    json_response,
    require_private_token,
)
from shared.rpc import ask

HOLD_SWEEP_SECONDS = 2
TOO_MANY = {429: ("Too many bookings from this address or email, or too many unpaid: "
                  "try again after Retry-After seconds", None)}
PAYMENT_ANSWERS = {200: ("How to pay", PaymentView),
                   202: ("Payments is preparing it: ask again (Retry-After)", PaymentPreparing),
                   409: ("Nothing to pay", None)}


class RegistrationService(HttpService, OrganiserApi, Pages, WaitingListApi, BookingChangeApi):
    """Delegates and buyers book and manage their booking; organisers follow the sale."""

    name = "registration"
    title = "Ecsite Conference Ticketing: registration"

    db = Database(Base.metadata, seed=booking.seed)
    config = Config()
    catalogs = CatalogCache()
    payments = RpcProxy("payments")
    badges = RpcProxy("badges")  # only to export what it holds about a delegate
    notifications = RpcProxy("notifications")  # the same

    def ask_payments(self, call, *args):
        """Ask payments, holding no database connection meanwhile (SQLite has one per
        process: a slow answer would stall every other request)."""
        self.db.rollback()
        return ask(call, *args, service="Payments")

    def client(self, request) -> Client | None:
        """Who is booking, for the abuse limits; None when they are off."""
        limits = AbuseLimits.from_config(self.config)
        if limits is None:
            return None
        address = client_address(request, int(self.config.get("TRUSTED_PROXY_HOPS", 0)))
        return Client.at(limits, address, self.config["SECRET_KEY"])

    def token_for(self, request, header: str, id_: str, is_token) -> None:
        require_private_token(request, header, id_, is_token, self.config["SECRET_KEY"])

    def delegate_registration(self, request, registration_id: str) -> Registration:
        registration = find(self.db, Registration, registration_id)
        self.token_for(request, TOKEN_HEADER, registration.id, is_registration_token)
        return registration

    def buyer_order(self, request, order_id: str) -> Order:
        order = find(self.db, Order, order_id)
        self.token_for(request, ORDER_TOKEN_HEADER, order.id, is_order_token)
        return order

    def order_delegate(self, request, order_id: str, registration_id: str) -> Registration:
        """A delegate of the buyer's order."""
        order = self.buyer_order(request, order_id)
        for registration in order.registrations:
            if registration.id == registration_id:
                return registration
        raise NotFound("This order has no such delegate.", "registration_id")

    def paid_by_delegate(self, request, registration_id: str) -> Order:
        """A delegate's order, when the delegate is its buyer (an order of one)."""
        registration = self.delegate_registration(request, registration_id)
        if registration.paid_by_buyer:
            raise Forbidden("This booking is paid by its buyer, for the whole group.",
                            TOKEN_HEADER, code="paid_by_buyer")
        return registration.order

    def payment(self, order: Order):
        """What the browser needs to pay, or 202 while payments prepares it."""
        payable(order)
        if order.client_secret is None:
            return json_response({"status": "preparing"}, 202, {"Retry-After": "1"})
        return PaymentView(payment_intent_id=order.payment_intent_id,
                           client_secret=order.client_secret,
                           publishable_key=self.config["STRIPE_PUBLISHABLE_KEY"], status="ready")

    def pay(self, order: Order, payment_method: str) -> dict:
        return self.ask_payments(self.payments.pay, payable(order).id, payment_method)

    def card_setup(self, order: Order) -> dict:
        payable(order)
        return {"client_secret": self.ask_payments(self.payments.start_card_setup)}

    def receipt(self, order: Order) -> Response:
        if not order.amount_paid:
            raise NotFound("This booking has no receipt yet.", "order_id")
        pdf = base64.b64decode(self.ask_payments(self.payments.receipt_pdf, order.id))
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="receipt-{order.reference}.pdf"'})

    def registration_created(self, registration: Registration) -> RegistrationCreated:
        secret = self.config["SECRET_KEY"]
        return RegistrationCreated(
            **RegistrationView.model_validate(registration, from_attributes=True).model_dump(),
            token=registration_token(secret, registration.id),
            order_token=order_token(secret, registration.order_id))

    def created(self, order: Order) -> OrderCreated:
        secret = self.config["SECRET_KEY"]
        view = self.order_view(order)
        return OrderCreated(**view.model_dump(exclude={"delegates"}),
                            token=order_token(secret, order.id), delegates=[
            {**delegate.model_dump(), "token": registration_token(secret, delegate.id)}
            for delegate in view.delegates])

    @http("GET", "/api/catalog", summary="Ticket types, add-ons, prices and what is left",
          responses={200: ("The catalog", CatalogView)})
    def get_catalog(self, request):
        return booking.catalog_view(self.db, self.catalogs, utcnow())

    @http("POST", "/api/orders", body=OrderRequest, headers=(IDEMPOTENCY_HEADER,),
          summary="Book one or more delegates for one buyer; seats held until payment "
                  "(Idempotency-Key header: the same key gives the same order)",
          responses={201: ("Booked", OrderCreated), **TOO_MANY})
    def place_order(self, request, body):
        order = booking.place_order(
            self.db, self.catalogs, body.buyer, body.delegates, body.payment_method, utcnow(),
            idempotency_key=idempotency_key(request), client=self.client(request))
        return 201, self.created(order)

    @http("GET", "/api/orders/<string:order_id>", headers=(BUYER_TOKEN,),
          summary=f"A buyer's own order ({ORDER_TOKEN_HEADER})",
          responses={200: ("The order", OrderView), **BUYER_ERRORS})
    def get_order(self, request, order_id):
        return self.order_view(self.buyer_order(request, order_id))

    @http("GET", "/api/orders/<string:order_id>/payment", headers=(BUYER_TOKEN,),
          summary=f"How to pay an order, once payments has prepared it ({ORDER_TOKEN_HEADER})",
          responses={**PAYMENT_ANSWERS, **BUYER_ERRORS})
    def order_payment(self, request, order_id):
        return self.payment(self.buyer_order(request, order_id))

    @http("POST", "/api/orders/<string:order_id>/card-setup", headers=(BUYER_TOKEN,),
          summary=f"A SetupIntent secret for the card form ({ORDER_TOKEN_HEADER})",
          responses={200: ("The secret", None), **BUYER_ERRORS})
    def order_card_setup(self, request, order_id):
        return self.card_setup(self.buyer_order(request, order_id))

    @http("POST", "/api/orders/<string:order_id>/pay", body=CardPayment, headers=(BUYER_TOKEN,),
          summary=f"Charge the card the page set up ({ORDER_TOKEN_HEADER}); status, or why "
                  "it was declined", responses={200: ("How it went", None), **BUYER_ERRORS})
    def pay_order(self, request, order_id, body):
        return self.pay(self.buyer_order(request, order_id), body.payment_method)

    @http("GET", "/api/orders/<string:order_id>/receipt.pdf", headers=(BUYER_TOKEN,),
          summary=f"The receipt of a paid order ({ORDER_TOKEN_HEADER})",
          responses={200: ("The receipt", "application/pdf"), **BUYER_ERRORS})
    def order_receipt(self, request, order_id):
        return self.receipt(self.buyer_order(request, order_id))

    @http("POST", "/api/orders/<string:order_id>/cancel", headers=(BUYER_TOKEN,),
          summary=f"Cancel a whole order, refunded as the policy says ({ORDER_TOKEN_HEADER})",
          responses={200: ("Cancelled", OrderView), **BUYER_ERRORS})
    def cancel_order(self, request, order_id):
        self.buyer_order(request, order_id)
        return self.order_view(changes.cancel_order(self.db, self.catalogs, order_id, utcnow(),
                                                    reason="buyer"))

    @http("POST", "/api/orders/<string:order_id>/delegates/<string:registration_id>/cancel",
          headers=(BUYER_TOKEN,),
          summary=f"Cancel one delegate of an order, refunding their share as the policy "
                  f"says ({ORDER_TOKEN_HEADER})",
          responses={200: ("The order", OrderView), **BUYER_ERRORS})
    def cancel_delegate(self, request, order_id, registration_id):
        self.order_delegate(request, order_id, registration_id)
        changes.cancel_registration(self.db, self.catalogs, registration_id, utcnow(),
                                    reason="buyer")
        return self.order_view(find(self.db, Order, order_id))

    @http("POST", "/api/orders/<string:order_id>/delegates/<string:registration_id>/substitute",
          body=Substitution, headers=(BUYER_TOKEN,),
          summary=f"Send a colleague instead of a delegate, until the name-change deadline "
                  f"({ORDER_TOKEN_HEADER}): the delegate's link and QR code stop working, the "
                  f"colleague gets their own",
          responses={201: ("The colleague's registration, with its token", RegistrationCreated),
                     **BUYER_ERRORS})
    def substitute_delegate(self, request, order_id, registration_id, body):
        self.order_delegate(request, order_id, registration_id)
        return 201, self.registration_created(substitution.substitute(
            self.db, self.catalogs, registration_id, body, utcnow(), by="buyer"))

    @http("POST", "/api/registrations", body=RegistrationRequest,
          headers=(IDEMPOTENCY_HEADER,),
          summary="Register one delegate who pays for themselves (an order of one); seats "
                  "held until payment (Idempotency-Key header: the same key, the same answer)",
          responses={201: ("Registered", RegistrationCreated), **TOO_MANY})
    def create_registration(self, request, body):
        order = booking.place_order(
            self.db, self.catalogs, booking.buyer_of_one(body, body.billing()), [body], "card",
            utcnow(), idempotency_key=idempotency_key(request), fields_of="",
            client=self.client(request))
        return 201, self.registration_created(order.registrations[0])

    @http("POST", "/api/links", body=LinksRequest,
          summary="Send the private links of the bookings made with this email address to "
                  "that address again; 202 whether or not it has any",
          responses={202: ("Accepted", None), **TOO_MANY})
    def send_links(self, request, body):
        now = utcnow()
        if (client := self.client(request)) is not None:
            client.admit_link_request(self.db, body.email, now)
        links.request_links(self.db, self.catalogs.current(self.db.session), body.email, now)
        return 202, {"status": "accepted", "message": "If bookings were made with this "
                     "address, an email with their links is on its way to it."}

    @http("GET", "/api/registrations/<string:registration_id>/payment",
          headers=(DELEGATE_TOKEN,),
          summary=f"How to pay one's own registration, once payments has prepared it "
                  f"({TOKEN_HEADER})", responses={**PAYMENT_ANSWERS, **DELEGATE_ERRORS})
    def registration_payment(self, request, registration_id):
        return self.payment(self.paid_by_delegate(request, registration_id))

    @http("GET", "/api/registrations/<string:registration_id>", headers=(DELEGATE_TOKEN,),
          summary=f"A delegate's own registration ({TOKEN_HEADER})",
          responses={200: ("The registration", RegistrationView), **DELEGATE_ERRORS})
    def get_registration(self, request, registration_id):
        return RegistrationView.model_validate(
            self.delegate_registration(request, registration_id), from_attributes=True)

    @http("PATCH", "/api/registrations/<string:registration_id>", body=RegistrationChange,
          headers=(DELEGATE_TOKEN,),
          summary=f"Fix the name, pronouns or organisation on the badge ({TOKEN_HEADER})",
          responses={200: ("Changed", RegistrationView), **DELEGATE_ERRORS})
    def change_registration(self, request, registration_id, body):
        self.delegate_registration(request, registration_id)
        return RegistrationView.model_validate(changes.change(
            self.db, self.catalogs, registration_id, body, utcnow()), from_attributes=True)

    @http("POST", "/api/registrations/<string:registration_id>/cancel",
          headers=(DELEGATE_TOKEN,),
          summary=f"Cancel one's own registration, refunded as the policy says ({TOKEN_HEADER})",
          responses={200: ("Cancelled", RegistrationView), **DELEGATE_ERRORS})
    def cancel_registration(self, request, registration_id):
        self.delegate_registration(request, registration_id)
        return RegistrationView.model_validate(changes.cancel_registration(
            self.db, self.catalogs, registration_id, utcnow(), reason="delegate"),
            from_attributes=True)

    @http("POST", "/api/registrations/<string:registration_id>/card-setup",
          headers=(DELEGATE_TOKEN,),
          summary=f"A SetupIntent secret for the card form ({TOKEN_HEADER})",
          responses={200: ("The secret", None), **DELEGATE_ERRORS})
    def registration_card_setup(self, request, registration_id):
        return self.card_setup(self.paid_by_delegate(request, registration_id))

    @http("POST", "/api/registrations/<string:registration_id>/pay", body=CardPayment,
          headers=(DELEGATE_TOKEN,),
          summary=f"Charge the card the page set up ({TOKEN_HEADER}); status, or why "
                  "it was declined", responses={200: ("How it went", None), **DELEGATE_ERRORS})
    def pay_registration(self, request, registration_id, body):
        return self.pay(self.paid_by_delegate(request, registration_id), body.payment_method)

    @http("GET", "/api/registrations/<string:registration_id>/ticket.svg",
          headers=(DELEGATE_TOKEN,),
          summary=f"The e-ticket's QR code of a confirmed registration ({TOKEN_HEADER})",
          responses={200: ("The QR code", "image/svg+xml"), **DELEGATE_ERRORS})
    def ticket(self, request, registration_id):
        registration = self.delegate_registration(request, registration_id)
        if registration.status != Status.CONFIRMED:
            raise NotFound("This registration has no e-ticket: it is not confirmed.",
                           "registration_id", code="no_ticket")
        qr = io.BytesIO()
        segno.make(ticket_token(self.config["SECRET_KEY"], registration.id), error="m").save(
            qr, kind="svg", scale=6, border=2)
        return Response(qr.getvalue(), mimetype="image/svg+xml")

    @http("GET", "/api/registrations/<string:registration_id>/receipt.pdf",
          headers=(DELEGATE_TOKEN,),
          summary=f"The receipt of a paid registration ({TOKEN_HEADER})",
          responses={200: ("The receipt", "application/pdf"), **DELEGATE_ERRORS})
    def registration_receipt(self, request, registration_id):
        return self.receipt(self.paid_by_delegate(request, registration_id))

    @event_handler("payments", "payment_ready")
    def on_payment_ready(self, event):
        payment_events.record_payment_ready(self.db, event)

    @event_handler("payments", "payment_succeeded")
    def on_payment_succeeded(self, event):
        payment_events.confirm_payment(self.db, self.catalogs, event, utcnow())

    @event_handler("payments", "invoice_issued")
    def on_invoice_issued(self, event):
        payment_events.record_invoice(self.db, event)

    @event_handler("payments", "payment_failed")
    def on_payment_failed(self, event):
        payment_events.record_payment_failure(self.db, event)

    @event_handler("payments", "payment_refunded")
    def on_payment_refunded(self, event):
        payment_events.record_refund(self.db, self.catalogs, event, utcnow())

    @event_handler("badges", "delegate_checked_in")
    def on_delegate_checked_in(self, event):
        payment_events.record_check_in(self.db, event)

    def forget_what_is_due(self, now):
        return privacy.forget_what_is_due(self.db, self.catalogs.current(self.db.session),
                                          self.config, now)

    @timer(interval=HOLD_SWEEP_SECONDS)
    def expire_holds(self):
        changes.expire_holds(self.db, self.catalogs, utcnow())
