"""The payments service (port 8001): an order's PaymentIntent, made when registration
announces the order; Stripe's webhooks, refunds, receipts."""

import base64
from datetime import timedelta

from eventlet import tpool
from nameko.dependency_providers import Config
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.payments import operations
from services.payments.gateway import StripeGateway
from services.payments.models import Base, seed
from services.payments.receipts import render_receipt
from services.payments.schemas import PaymentList, PaymentView, RefundRequest
from shared.auth import ADMIN, is_order_token
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import Forbidden
from shared.http import HttpService, http, idempotency_key
from shared.rpc import rpc

RECONCILE_SECONDS = 5
PREPARE_SECONDS = 1
TOKEN_HEADER = "X-Order-Token"


class PaymentsService(HttpService):
    """Buyers pay by card through Stripe; organisers refund; every payment gets a receipt."""

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
        operations.take_order(self.db, self.stripe, event, utcnow())

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
            operations.refund_for_cancellation(self.db, self.stripe, event)

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
        return base64.b64encode(tpool.execute(render_receipt, receipt)).decode()

    @http("POST", "/stripe/webhook", summary="Stripe's signed events (Stripe-Signature)")
    def stripe_webhook(self, request):
        outcome = operations.handle_webhook(
            self.db, self.stripe, request.get_data(), request.headers.get("Stripe-Signature"),
            self.receipt_prefix, utcnow())
        return {"received": True, "outcome": outcome}

    @timer(interval=RECONCILE_SECONDS)
    def reconcile(self):
        quiet_for = timedelta(seconds=float(self.config.get("RECONCILE_AFTER_SECONDS", 120)))
        operations.reconcile(self.db, self.stripe, self.receipt_prefix, utcnow(), quiet_for)

    @http("POST", "/api/admin/orders/<string:order_id>/refund", body=RefundRequest,
          roles=(ADMIN,), summary="Refund part or all of an order's payment "
                                  "(Idempotency-Key header optional)")
    def refund(self, request, order_id, body):
        refund = operations.refund(self.db, self.stripe, order_id, body.amount, body.reason,
                                   idempotency_key(request))
        return 201, {"refund_id": refund.refund_id, "amount": refund.amount}

    @http("GET", "/api/admin/orders/<string:order_id>/payments", roles=(ADMIN,),
          summary="An order's payments and refunds",
          responses={200: ("Payments, oldest first", PaymentList)})
    def list_payments(self, request, order_id):
        return PaymentList(items=[PaymentView.model_validate(p, from_attributes=True)
                                  for p in operations.payments_of(self.db, order_id)])

    @http("GET", "/api/orders/<string:order_id>/receipt.pdf",
          summary=f"The receipt of a paid order, as PDF ({TOKEN_HEADER})")
    def download_receipt(self, request, order_id):
        if not is_order_token(self.config["SECRET_KEY"], order_id,
                              request.headers.get(TOKEN_HEADER)):
            raise Forbidden("This token does not open this order.", TOKEN_HEADER)
        receipt = operations.receipt(self.db, order_id)
        pdf = tpool.execute(render_receipt, receipt)  # CPU work, off the eventlet hub
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="receipt-{receipt.number}.pdf"'})
