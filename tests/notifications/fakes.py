"""Stand-ins for what the notifications service talks to, for tests without a broker: an
SMTP server that keeps what it is given, and payments' documents."""

from datetime import date

from services.notifications.mailer import TemporaryFailure
from services.notifications.sending import Settings

SETTINGS = Settings(from_address="tickets@ecsite.test",
                    public_base_url="https://tickets.ecsite.test",
                    secret_key="s3cret", retry_base_seconds=5)


class Mailbox:
    def __init__(self):
        self.sent = []

    def send(self, email):
        self.sent.append(email)


class FakeDocuments:
    """An order's documents as payments would give them, and every question asked.
    ``unavailable`` makes each answer a TemporaryFailure, as payments being away does."""

    def __init__(self, *documents: tuple[str, str]):
        self.documents = [{"kind": kind, "number": number, "issued_on": date(2027, 3, 1)}
                          for kind, number in documents]
        self.asked: list[tuple] = []
        self.unavailable = False

    def issue(self, kind: str, number: str) -> None:
        self.documents.append({"kind": kind, "number": number, "issued_on": date(2027, 3, 2)})

    def _answer(self, *question):
        self.asked.append(question)
        if self.unavailable:
            raise TemporaryFailure("no answer from payments: service_unavailable")

    def receipt_pdf(self, order_id: str) -> bytes:
        self._answer("receipt_pdf", order_id)
        return b"%PDF-1.7 receipt"

    def documents_of(self, order_id: str) -> list[dict]:
        self._answer("documents_of", order_id)
        return list(self.documents)

    def document_pdf(self, order_id: str, number: str) -> bytes:
        self._answer("document_pdf", order_id, number)
        return f"%PDF-1.7 {number}".encode()


def attachments(email) -> dict[str, bytes]:
    """An email's attached files: name -> content."""
    return {part.get_filename(): part.get_content() for part in email.iter_attachments()}


def text_of(email) -> str:
    return email.get_body(("plain",)).get_content()
