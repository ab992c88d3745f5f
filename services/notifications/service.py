"""The notifications service (port 8003): every buyer and delegate gets the right email,
once."""

from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.timer import timer
from pydantic import BaseModel, Field

from services.notifications import operations, privacy, resending, sending
from services.notifications.documents import PaymentsDocuments
from services.notifications.mailer import MailerProvider
from services.notifications.models import Base, Message
from shared.auth import MONEY
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.http import IDEMPOTENCY_HEADER, HttpService, http, idempotency_key
from shared.rpc import rpc


class MessageView(BaseModel):
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    next_attempt_at: str | None = Field(description="when it is tried next, while queued")
    sent_at: str | None
    message_id: str
    registration_id: str | None = Field(description="the delegate's; none for the buyer's")
    order_id: str | None
    resend_of: str | None = Field(description="the message_id of the message this one "
                                              "copies, for an organiser's resend")


class MessageLog(BaseModel):
    items: list[MessageView]


def message_view(m: Message) -> MessageView:
    return MessageView(
        kind=m.kind, status=m.status, attempts=m.attempts, last_error=m.last_error,
        created_at=m.created_at.isoformat(),
        next_attempt_at=m.next_attempt_at.isoformat() if m.status == "queued" else None,
        sent_at=m.sent_at.isoformat() if m.sent_at else None, message_id=m.message_id,
        registration_id=m.registration_id, order_id=m.order_id,
        resend_of=m.original.message_id if m.original else None)


def message_log(messages: list[Message]) -> MessageLog:
    return MessageLog(items=[message_view(m) for m in messages])


class NotificationsService(HttpService):
    """Emails buyers what happened to their order and delegates what happened to their
    place: stored first, sent once."""

    name = "notifications"
    title = "Ecsite Conference Ticketing: notifications"

    db = Database(Base.metadata)
    config = Config()
    mailer = MailerProvider()
    payments = RpcProxy("payments")

    @event_handler("registration", "order_placed")
    @event_handler("registration", "order_confirmed")
    @event_handler("registration", "order_updated")
    @event_handler("registration", "order_cancelled")
    @event_handler("registration", "order_expired")
    @event_handler("registration", "registration_created")
    @event_handler("registration", "registration_confirmed")
    @event_handler("registration", "registration_updated")
    @event_handler("registration", "registration_cancelled")
    @event_handler("registration", "registration_expired")
    @event_handler("registration", "booking_changed")
    @event_handler("payments", "payment_succeeded")
    @event_handler("payments", "payment_failed")
    @event_handler("payments", "payment_refunded")
    @event_handler("payments", "invoice_issued")
    @event_handler("payments", "credit_note_issued")
    @event_handler("payments", "transfer_recorded")
    def on_event(self, event):
        operations.record(self.db, event, timedelta(
            seconds=float(self.config.get("PAYMENT_DUE_DELAY_SECONDS", 60))))

    @event_handler("registration", "links_requested")
    def on_links_requested(self, event):
        operations.record_links(self.db, event)

    @event_handler("registration", "waiting_list_joined")
    @event_handler("registration", "waiting_list_offer_made")
    def on_waiting_list(self, event):
        operations.record_waiting_list(self.db, event)

    @event_handler("registration", "delegate_erased")
    def on_delegate_erased(self, event):
        privacy.erase_delegate(self.db, event)

    @rpc
    def export_delegate(self, registration_id: str, order_id: str) -> dict:
        """Everything notifications holds about a delegate, and what an erasure keeps
        (RPC)."""
        return privacy.export_delegate(self.db, registration_id, order_id)

    @timer(interval=1)
    def send_due(self):
        settings = sending.Settings(
            from_address=self.config["MAIL_FROM"],
            public_base_url=self.config["PUBLIC_BASE_URL"],
            secret_key=self.config["SECRET_KEY"],
            retry_base_seconds=float(self.config.get("SEND_RETRY_SECONDS", 5)))
        sending.send_due(self.db, self.mailer, PaymentsDocuments(self.payments), settings,
                         utcnow())

    @http("GET", "/api/admin/registrations/<string:registration_id>/messages", roles=MONEY,
          summary="The emails to one delegate: kind, status, tries, last error, when sent",
          responses={200: ("Messages, oldest first", MessageLog)})
    def registration_messages(self, request, registration_id):
        return message_log(operations.messages_to_delegate(self.db, registration_id))

    @http("GET", "/api/admin/orders/<string:order_id>/messages", roles=MONEY,
          summary="The emails about one order, to its buyer and to its delegates",
          responses={200: ("Messages, oldest first", MessageLog)})
    def order_messages(self, request, order_id):
        return message_log(operations.messages_of_order(self.db, order_id))

    @http("POST", "/api/admin/messages/<string:message_id>/resend", roles=MONEY,
          headers=(IDEMPOTENCY_HEADER,),
          summary="Send a message again: a copy (same kind, recipient and content, a new "
                  "Message-ID), queued now. Idempotency-Key header: the same key gives the "
                  "same copy; without one, a copy still queued is the answer to a repeat",
          responses={202: ("The copy, queued", MessageView)})
    def resend_message(self, request, message_id):
        copy = resending.resend(
            self.db, message_id, idempotency_key(request),
            request.organiser.role, utcnow())
        return 202, message_view(copy)
