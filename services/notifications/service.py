"""The notifications service (port 8003): every delegate gets the right email, once."""

import base64

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.timer import timer
from pydantic import BaseModel

from services.notifications import operations
from services.notifications.mailer import MailerProvider, TemporaryFailure
from services.notifications.models import Base
from shared.auth import ADMIN
from shared.consumer import event_handler
from shared.db import Database, utcnow
from shared.http import HttpService, http
from shared.rpc import ServiceUnavailable, ask


class MessageView(BaseModel):
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
    message_id: str


class MessageLog(BaseModel):
    items: list[MessageView]


class NotificationsService(HttpService):
    """Emails delegates what happened to their registration: stored first, sent once."""

    name = "notifications"
    title = "Ecsite Conference Ticketing: notifications"

    db = Database(Base.metadata)
    config = Config()
    mailer = MailerProvider()
    registration = RpcProxy("registration")
    payments = RpcProxy("payments")

    def ask(self, call, *args):
        try:
            return ask(call, *args)
        except ServiceUnavailable as exc:
            raise TemporaryFailure(f"a service did not answer: {exc}") from None

    @event_handler("registration", "registration_created")
    @event_handler("registration", "registration_confirmed")
    @event_handler("registration", "registration_updated")
    @event_handler("registration", "registration_cancelled")
    @event_handler("registration", "registration_expired")
    @event_handler("payments", "payment_succeeded")
    @event_handler("payments", "payment_failed")
    @event_handler("payments", "payment_refunded")
    def on_event(self, event):
        operations.record(self.db, event)

    @timer(interval=1)
    def send_due(self):
        sources = operations.Sources(
            conference=lambda: self.ask(self.registration.conference),
            receipt_pdf=lambda registration_id: base64.b64decode(
                self.ask(self.payments.receipt_pdf, registration_id)))
        settings = operations.Settings(
            from_address=self.config["MAIL_FROM"],
            public_base_url=self.config["PUBLIC_BASE_URL"],
            secret_key=self.config["SECRET_KEY"],
            retry_base_seconds=float(self.config.get("SEND_RETRY_SECONDS", 5)))
        operations.send_due(self.db, self.mailer, sources, settings, utcnow())

    @http("GET", "/api/admin/registrations/<string:registration_id>/messages", roles=(ADMIN,),
          summary="The emails to one registration: kind, status, tries, last error, when sent",
          responses={200: ("Messages, oldest first", MessageLog)})
    def message_log(self, request, registration_id):
        return MessageLog(items=[
            MessageView(kind=m.kind, status=m.status, attempts=m.attempts,
                        last_error=m.last_error, created_at=m.created_at.isoformat(),
                        sent_at=m.sent_at.isoformat() if m.sent_at else None,
                        message_id=m.message_id)
            for m in operations.messages_of(self.db, registration_id)])
