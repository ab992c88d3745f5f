"""The payments service (port 8001): an order's PaymentIntent, made when registration
announces the order; Stripe's webhooks, refunds, receipts."""

import base64
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.payments import invoicing, operations, privacy, refunds
from services.payments.documents import render_document
from services.payments.gateway import StripeGateway
from services.payments.models import Base, payments_of, seed
from services.payments.money_desk import MoneyDesk
from services.payments.receipts import render_receipt
from services.payments.schemas import (
    DocumentView,
    PaymentList,
    PaymentView,
    RefundCreated,
    RefundRequest,
)
from shared.auth import MONEY, is_order_token
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import Forbidden, Unauthorized
from shared.http import (
    IDEMPOTENCY_HEADER,
    Header,
    HttpService,
    http,
    idempotency_key,
    read_body,
    require_private_token,
)
from shared.rendering import off_hub
from shared.rpc import rpc

RECONCILE_SECONDS = 5
PREPARE_SECONDS = 1
TOKEN_HEADER = "X-Order-Token"
MAX_WEBHOOK_BYTES = 256 * 1024  # Stripe's events are a few kilobytes
BUYER_TOKEN = Header(TOKEN_HEADER, "The buyer's private token; or, instead, an organiser's "
                                   "token for money in Authorization", required=False)
DOCUMENT_ERRORS = {401: ("No token", None), 403: ("Wrong token", None),
                   404: ("No such order or document", None)}


class PaymentsService(HttpService, MoneyDesk):
    """Buyers pay by card through Stripe or by bank transfer against an invoice;
    organisers record transfers, import statements and refund; every order paid or
    invoiced gets its invoice, receipt and credit notes."""

    name = "payments"
    title = "Ecsite Conference Ticketing: payments"

    db = Database(Base.metadata, seed=seed)
    stripe = StripeGateway()
    config = Config()

    @property
    def receipt_prefix(self) -> str:
        return self.config.get("RECEIPT_PREFIX", "ECS27")

    @event_handler("registration", "order_placed")
    def on_order_placed(self, event):
        if event.data.payment_method == "invoice":
            invoicing.take_invoice_order(self.db, event, self.receipt_prefix, utcnow())
        else:
            operations.take_order(self.db, self.stripe, event, utcnow())

    @event_handler("registration", "order_updated")
    def on_order_updated(self, event):
        invoicing.order_updated(self.db, event, self.receipt_prefix, utcnow())

    @timer(interval=PREPARE_SECONDS)
    def prepare_payments(self):
        """Ask Stripe again for the intents it could not make when their order came."""
        for payment_id in operations.payments_to_prepare(self.db, utcnow()):
            if not operations.prepare(self.db, self.stripe, payment_id, utcnow()):
                break  # Stripe is away: the rest wait for their next try

    @event_handler("registration", "order_cancelled")
    @event_handler("registration", "order_expired")
    def on_order_closed(self, event):
        operations.close_for_order(self.db, self.stripe, event, self.receipt_prefix, utcnow())

    @event_handler("registration", "registration_cancelled")
    def on_registration_cancelled(self, event):
        if self.db.first_delivery(event):
            refunds.refund_for_cancellation(self.db, self.stripe, event, self.receipt_prefix,
                                            utcnow())

    @event_handler("registration", "booking_changed")
    def on_booking_changed(self, event):
        if self.db.first_delivery(event):
            refunds.refund_for_change(self.db, self.stripe, event, self.receipt_prefix,
                                      utcnow())

    @event_handler("registration", "delegate_erased")
    def on_delegate_erased(self, event):
        privacy.erase_delegate(self.db, event)

    def forget_what_is_due(self, now):
        return operations.forget_stripe_events(self.db, self.config, now)

    @rpc
    def export_delegate(self, registration_id: str, order_id: str) -> dict:
        """Everything payments holds about a delegate, and what an erasure keeps (RPC)."""
        return privacy.export_delegate(self.db, registration_id, order_id)

    @rpc
    def start_card_setup(self) -> str:
        """A SetupIntent secret for the booking page's card form (RPC)."""
        return self.stripe.create_setup_intent()

    @rpc
    def pay(self, order_id: str, payment_method: str) -> dict:
        """Charge the card the page set up (RPC); the status, and why if declined."""
        return operations.pay(self.db, self.stripe, order_id, payment_method,
                              self.receipt_prefix, utcnow())

    @rpc
    def receipt_pdf(self, order_id: str) -> str:
        """A paid order's receipt, as base64 PDF (RPC, for the page and the email)."""
        receipt = operations.receipt(self.db, order_id)
        return base64.b64encode(off_hub(render_receipt, receipt)).decode()

    @rpc
    def documents_of(self, order_id: str) -> list[dict]:
        """An order's invoices, receipts and credit notes, oldest first (RPC)."""
        return [{"kind": d["kind"], "number": d["number"],
                 "issued_on": d["issued_on"].isoformat()}
                for d in invoicing.documents_of(self.db, order_id)]

    @rpc
    def document_pdf(self, order_id: str, number: str) -> str:
        """One of an order's documents, as base64 PDF (RPC, for the emails)."""
        return base64.b64encode(self.pdf(order_id, number)).decode()

    def pdf(self, order_id: str, number: str) -> bytes:
        if invoicing.is_receipt(self.db, order_id, number):
            return off_hub(render_receipt, operations.receipt(self.db, order_id))
        return off_hub(render_document, invoicing.document(self.db, order_id, number))

    def may_see_order(self, request, order_id: str) -> None:
        """The buyer (X-Order-Token) or an organiser who may see money."""
        if request.headers.get("Authorization"):
            if request.organiser is None:
                raise Unauthorized("This organiser token is not known.")
            if request.organiser.role not in MONEY:
                raise Forbidden("This token may not see documents.")
            return
        require_private_token(request, TOKEN_HEADER, order_id, is_order_token,
                              self.config["SECRET_KEY"])

    def document_views(self, order_id: str) -> list[DocumentView]:
        return [DocumentView(**d, url=f"/api/orders/{order_id}/documents/{d['number']}.pdf")
                for d in invoicing.documents_of(self.db, order_id)]

    @http("GET", "/api/orders/<string:order_id>/documents", headers=(BUYER_TOKEN,),
          summary=f"An order's invoices, receipts and credit notes ({TOKEN_HEADER}, or an "
                  "organiser's token for money)",
          responses={200: ("Oldest first; each url gives the PDF", list[DocumentView]),
                     **DOCUMENT_ERRORS})
    def list_documents(self, request, order_id):
        self.may_see_order(request, order_id)
        return [view.model_dump(mode="json") for view in self.document_views(order_id)]

    @http("GET", "/api/orders/<string:order_id>/documents/<string:number>.pdf",
          headers=(BUYER_TOKEN,),
          summary=f"One document of an order, as PDF ({TOKEN_HEADER}, or an organiser's "
                  "token for money)",
          responses={200: ("The document", "application/pdf"), **DOCUMENT_ERRORS})
    def download_document(self, request, order_id, number):
        self.may_see_order(request, order_id)
        return Response(self.pdf(order_id, number), mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{number}.pdf"'})

    @http("POST", "/stripe/webhook", summary="Stripe's signed events (Stripe-Signature)",
          headers=(Header("Stripe-Signature", "Stripe's signature of the body"),),
          responses={200: ("Taken, known already, or flagged for an organiser (a signed event "
                           "of an unexpected shape or amount)", None),
                     400: ("Not signed by Stripe", None)})
    def stripe_webhook(self, request):
        outcome = operations.handle_webhook(
            self.db, self.stripe, read_body(request, MAX_WEBHOOK_BYTES),
            request.headers.get("Stripe-Signature"), self.receipt_prefix, utcnow())
        return {"received": True, "outcome": outcome}

    @timer(interval=RECONCILE_SECONDS)
    def reconcile(self):
        quiet_for = timedelta(seconds=float(self.config.get("RECONCILE_AFTER_SECONDS", 120)))
        operations.reconcile(self.db, self.stripe, self.receipt_prefix, utcnow(), quiet_for)

    @http("POST", "/api/admin/orders/<string:order_id>/refund", body=RefundRequest,
          roles=MONEY, headers=(IDEMPOTENCY_HEADER,),
          summary="Refund part or all of what an order paid; its invoice is credited "
                  "(Idempotency-Key header optional)",
          responses={201: ("Refunded", RefundCreated)})
    def refund(self, request, order_id, body):
        refund_id, amount = refunds.refund(
            self.db, self.stripe, order_id, body.amount, body.reason, self.receipt_prefix,
            utcnow(), idempotency_key(request))
        return 201, RefundCreated(refund_id=refund_id, amount=amount)

    @http("GET", "/api/admin/orders/<string:order_id>/payments", roles=MONEY,
          summary="An order's payments and refunds",
          responses={200: ("Payments, oldest first", PaymentList)})
    def list_payments(self, request, order_id):
        return PaymentList(items=[PaymentView.model_validate(p, from_attributes=True)
                                  for p in payments_of(self.db.session, order_id)])

    @http("GET", "/api/orders/<string:order_id>/receipt.pdf", headers=(BUYER_TOKEN,),
          summary=f"The receipt of a paid order, as PDF ({TOKEN_HEADER})",
          responses={200: ("The receipt", "application/pdf"), **DOCUMENT_ERRORS})
    def download_receipt(self, request, order_id):
        self.may_see_order(request, order_id)
        receipt = operations.receipt(self.db, order_id)
        pdf = off_hub(render_receipt, receipt)
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="receipt-{receipt.number}.pdf"'})
