"""The notifications service (port 8003): every buyer and delegate gets the right email,
once."""

import base64
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.timer import timer
from pydantic import BaseModel, Field

from services.notifications import operations
from services.notifications.mailer import MailerProvider, TemporaryFailure
from services.notifications.models import Base, Message
from shared.auth import ADMIN
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.errors import Refusal
from shared.http import HttpService, http
from shared.rpc import ask


class MessageView(BaseModel):
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
    message_id: str
    registration_id: str | None = Field(description="the delegate's; none for the buyer's")
    order_id: str | None


class MessageLog(BaseModel):
    items: list[MessageView]


def message_log(messages: list[Message]) -> MessageLog:
    return MessageLog(items=[
        MessageView(kind=m.kind, status=m.status, attempts=m.attempts, last_error=m.last_error,
                    created_at=m.created_at.isoformat(),
                    sent_at=m.sent_at.isoformat() if m.sent_at else None,
                    message_id=m.message_id, registration_id=m.registration_id,
                    order_id=m.order_id)
        for m in messages])


class NotificationsService(HttpService):
    """Emails buyers what happened to their order and delegates what happened to their
    place: stored first, sent once."""

    name = "notifications"
    title = "Ecsite Conference Ticketing: notifications"

    db = Database(Base.metadata)
    config = Config()
    mailer = MailerProvider()
    payments = RpcProxy("payments")

    def receipt_pdf(self, order_id: str) -> bytes:
        try:
            return base64.b64decode(ask(self.payments.receipt_pdf, order_id, service="Payments"))
        except Refusal as refusal:  # unreachable, or no receipt yet: both may change
            raise TemporaryFailure(f"no receipt from payments: {refusal.code}") from None

    @event_handler("registration", "order_placed")
    @event_handler("registration", "order_confirmed")
    @event_handler("registration", "order_cancelled")
    @event_handler("registration", "order_expired")
    @event_handler("registration", "registration_created")
    @event_handler("registration", "registration_confirmed")
    @event_handler("registration", "registration_updated")
    @event_handler("registration", "registration_cancelled")
    @event_handler("registration", "registration_expired")
    @event_handler("payments", "payment_succeeded")
    @event_handler("payments", "payment_failed")
    @event_handler("payments", "payment_refunded")
    def on_event(self, event):
        operations.record(self.db, event, timedelta(
            seconds=float(self.config.get("PAYMENT_DUE_DELAY_SECONDS", 60))))

    @timer(interval=1)
    def send_due(self):
        settings = operations.Settings(
            from_address=self.config["MAIL_FROM"],
            public_base_url=self.config["PUBLIC_BASE_URL"],
            secret_key=self.config["SECRET_KEY"],
            retry_base_seconds=float(self.config.get("SEND_RETRY_SECONDS", 5)))
        operations.send_due(self.db, self.mailer, self.receipt_pdf, settings, utcnow())

    @http("GET", "/api/admin/registrations/<string:registration_id>/messages", roles=(ADMIN,),
          summary="The emails to one delegate: kind, status, tries, last error, when sent",
          responses={200: ("Messages, oldest first", MessageLog)})
    def registration_messages(self, request, registration_id):
        return message_log(operations.messages_to_delegate(self.db, registration_id))

    @http("GET", "/api/admin/orders/<string:order_id>/messages", roles=(ADMIN,),
          summary="The emails about one order, to its buyer and to its delegates",
          responses={200: ("Messages, oldest first", MessageLog)})
    def order_messages(self, request, order_id):
        return message_log(operations.messages_of_order(self.db, order_id))
