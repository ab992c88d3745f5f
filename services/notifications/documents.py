"""The documents an email carries: receipts, invoices and credit notes, which only the
payments service makes. They are fetched when the email is sent (an issued document
never changes); one that cannot be had now makes the message wait and try again."""

import base64
import re
from dataclasses import dataclass
from typing import Protocol

from services.notifications.mailer import Attachment, TemporaryFailure
from shared.errors import Refusal
from shared.rpc import ask


class Documents(Protocol):
    """An order's documents as PDF; each raises TemporaryFailure when it cannot answer."""

    def receipt_pdf(self, order_id: str) -> bytes: ...

    def documents_of(self, order_id: str) -> list[dict]:
        """Each {"kind": "invoice"|"receipt"|"credit_note", "number", "issued_on"}, oldest
        first."""

    def document_pdf(self, order_id: str, number: str) -> bytes: ...


class PaymentsDocuments:
    """Documents asked of the payments service over RPC. Unreachable, or refusing (no
    receipt yet, a document it does not know yet): both may change, so both are a
    TemporaryFailure."""

    def __init__(self, payments):
        self.payments = payments

    def _ask(self, method: str, *args):
        try:
            return ask(getattr(self.payments, method), *args, service="Payments")
        except Refusal as refusal:
            raise TemporaryFailure(f"no {method} from payments: {refusal.code}") from None

    def receipt_pdf(self, order_id: str) -> bytes:
        return base64.b64decode(self._ask("receipt_pdf", order_id))

    def documents_of(self, order_id: str) -> list[dict]:
        return list(self._ask("documents_of", order_id))

    def document_pdf(self, order_id: str, number: str) -> bytes:
        return base64.b64decode(self._ask("document_pdf", order_id, number))


@dataclass(frozen=True)
class Enclosed:
    """A document attached to an email: what the email's text can say of it."""

    kind: str  # receipt, invoice or credit_note
    number: str | None  # None: the receipt, as receipt_pdf gives it
    content: bytes

    @property
    def filename(self) -> str:
        """The document's number, as payments names its downloads (``ECS27-I-000012.pdf``);
        ``receipt.pdf`` for the receipt."""
        if self.number is None:
            return f"{self.kind}.pdf"
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", self.number).strip("-.")
        return f"{safe or self.kind}.pdf"

    def attachment(self) -> Attachment:
        return Attachment(self.filename, self.content, "application", "pdf")

    def view(self) -> dict:
        return {"kind": self.kind, "number": self.number, "filename": self.filename}


def latest_invoice(documents: Documents, order_id: str) -> str:
    """The number of the order's latest invoice; TemporaryFailure while it has none."""
    invoices = numbers_of(documents, order_id, "invoice")
    if not invoices:
        raise TemporaryFailure("payments has no invoice for the order yet")
    return invoices[-1]


def numbers_of(documents: Documents, order_id: str, kind: str) -> list[str]:
    return [d["number"] for d in documents.documents_of(order_id) if d["kind"] == kind]


# The kinds of message whose attachment is the one invoice the order is to be paid by.
CARRY_THE_INVOICE = ("invoice_reminder", "transfer_received")


def enclosures(kind: str, order_id: str, event_data: dict, documents: Documents,
               invoice_number: str | None = None) -> list[Enclosed]:
    """The documents a message of ``kind`` carries. ``invoice_number`` is the invoice the
    message speaks of, for a kind that attaches the order's latest invoice: should payments
    know a later one already, the message waits for news of it, so that its words and its
    attachment agree."""
    def pdf(kind: str, number: str) -> Enclosed:
        return Enclosed(kind, number, documents.document_pdf(order_id, number))

    match kind:
        case "payment_confirmed":
            return [Enclosed("receipt", None, documents.receipt_pdf(order_id)),
                    *(pdf("invoice", n) for n in numbers_of(documents, order_id, "invoice"))]
        case "invoice" | "credit_note":
            return [pdf(kind, event_data["number"])]
        case _ if kind in CARRY_THE_INVOICE:
            number = latest_invoice(documents, order_id)
            if invoice_number is not None and number != invoice_number:
                raise TemporaryFailure("payments has issued an invoice not known here yet")
            return [pdf("invoice", number)]
    return []
