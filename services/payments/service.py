"""The payments service (port 8001): Stripe PaymentIntents, webhooks, refunds, receipts."""

import base64
from datetime import timedelta

from eventlet import tpool
from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.payments import operations
from services.payments.gateway import StripeGateway
from services.payments.models import Base, seed
from services.payments.receipts import render_receipt
from services.payments.schemas import PaymentList, PaymentView, RefundRequest
from shared.auth import ADMIN, is_registration_token
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.events import PaymentRequest
from shared.http import Forbidden, HttpService, http

RECONCILE_SECONDS = 5
TOKEN_HEADER = "X-Registration-Token"


class PaymentsService(HttpService):
    """Delegates pay by card through Stripe; organisers refund; everyone gets a receipt."""

    name = "payments"
    title = "Ecsite Conference Ticketing: payments"

    db = Database(Base.metadata, seed=seed)
    stripe = StripeGateway()
    config = Config()

    @property
    def receipt_prefix(self) -> str:
        return self.config.get("RECEIPT_PREFIX", "ECS27")

    @rpc
    def start_payment(self, request: dict) -> dict:
        """The PaymentIntent for a registration (RPC from registration)."""
        return operations.start_payment(
            self.db, self.stripe, PaymentRequest.model_validate(request),
            self.config["STRIPE_PUBLISHABLE_KEY"]).model_dump()

    @rpc
    def start_card_setup(self) -> str:
        """A SetupIntent secret for the registration page's card form (RPC)."""
        return self.stripe.create_setup_intent()

    @rpc
    def pay(self, registration_id: str, payment_method: str) -> dict:
        """Charge the card the page set up (RPC); the status, and why if declined."""
        return operations.pay(self.db, self.stripe, registration_id, payment_method,
                              self.receipt_prefix, utcnow())

    @rpc
    def receipt_pdf(self, registration_id: str) -> str:
        """A paid registration's receipt, as base64 PDF (RPC, for the confirmation email)."""
        receipt = operations.receipt(self.db, registration_id)
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

    @event_handler("registration", "registration_cancelled")
    def on_registration_cancelled(self, event):
        if self.db.first_delivery(event):
            operations.refund_for_cancellation(self.db, self.stripe, event)

    @http("POST", "/api/admin/registrations/<string:registration_id>/refund", body=RefundRequest,
          roles=(ADMIN,), summary="Refund part or all of a registration's payment "
                                  "(Idempotency-Key header optional)")
    def refund(self, request, registration_id, body):
        refund = operations.refund(self.db, self.stripe, registration_id, body.amount,
                                   body.reason, request.headers.get("Idempotency-Key"))
        return 201, {"refund_id": refund.refund_id, "amount": refund.amount}

    @http("GET", "/api/admin/registrations/<string:registration_id>/payments", roles=(ADMIN,),
          summary="A registration's payments and refunds",
          responses={200: ("Payments, oldest first", PaymentList)})
    def list_payments(self, request, registration_id):
        return PaymentList(items=[PaymentView.model_validate(p, from_attributes=True)
                                  for p in operations.payments_of(self.db, registration_id)])

    @http("GET", "/api/receipts/<string:registration_id>.pdf",
          summary=f"The receipt of a paid registration, as PDF ({TOKEN_HEADER})")
    def download_receipt(self, request, registration_id):
        if not is_registration_token(self.config["SECRET_KEY"], registration_id,
                                     request.headers.get(TOKEN_HEADER)):
            raise Forbidden("This token does not open this registration.", TOKEN_HEADER)
        receipt = operations.receipt(self.db, registration_id)
        pdf = tpool.execute(render_receipt, receipt)  # CPU work, off the eventlet hub
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="receipt-{receipt.number}.pdf"'})
