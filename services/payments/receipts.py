"""Payment receipts as one-page A4 PDFs.

A pure module: it takes a :class:`Receipt` and returns PDF bytes. It talks to no
database and no message bus. An issued receipt never changes: a later refund is a
credit note's business, not the receipt's.

Money is integer cents; every amount includes VAT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table

from services.payments import pdf
from services.payments.pdf import BODY, BODY_RIGHT, BOLD, BOLD_RIGHT, CONTENT_WIDTH

AMOUNT_COL_WIDTH = 40 * mm


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    amount: int  # cents, VAT included; negative for a discount


@dataclass(frozen=True)
class Receipt:
    number: str  # e.g. "ECS27-R-000042", sequential, printed prominently
    issued_at: datetime  # timezone-aware; the date is printed in UTC
    conference_name: str
    organiser_name: str
    organiser_address: str
    organiser_vat_number: str
    buyer_name: str
    organisation: str
    email: str
    order_reference: str  # e.g. "ECS27-7KQ3M9"
    lines: tuple[ReceiptLine, ...]
    currency: str  # "EUR"
    vat_rate_percent: str  # e.g. "25.5"
    vat_amount: int  # cents included in total
    total: int  # cents, VAT included
    payment_reference: str  # Stripe PaymentIntent id
    billing_address: str | None = None
    vat_number: str | None = None  # the buyer's VAT number
    purchase_order: str | None = None
    paid_by: str = "card"  # "card", "SEPA Direct Debit", "bank transfer"; "" if not known


def _parties(receipt: Receipt) -> Table:
    organiser = pdf.party(
        "FROM",
        receipt.organiser_name,
        receipt.organiser_address,
        f"VAT number: {receipt.organiser_vat_number}",
    )
    billed = pdf.party(
        "BILLED TO",
        receipt.buyer_name,
        receipt.organisation,
        receipt.billing_address,
        receipt.email,
        receipt.vat_number and f"VAT number: {receipt.vat_number}",
        receipt.purchase_order and f"Purchase order: {receipt.purchase_order}",
    )
    return pdf.side_by_side(organiser, billed)


def _references(receipt: Receipt) -> Table:
    return pdf.facts([("Booking reference", pdf.para(receipt.order_reference, BOLD)),
                      ("Payment reference", pdf.para(receipt.payment_reference, BODY))])


def _lines_table(receipt: Receipt) -> Table:
    currency = receipt.currency
    rows = [[Paragraph("Description", BOLD), Paragraph("Amount", BOLD_RIGHT)]]
    for line in receipt.lines:
        rows.append([pdf.para(line.description, BODY), pdf.money(line.amount, currency)])
    body_end = len(rows) - 1
    rows.append(
        [
            Paragraph("Total (VAT included)", pdf.TOTAL),
            pdf.money(receipt.total, currency, pdf.TOTAL_RIGHT),
        ]
    )
    total_row = len(rows) - 1
    rows.append(
        [
            pdf.para(f"of which VAT {receipt.vat_rate_percent}%", BODY),
            pdf.money(receipt.vat_amount, currency, BODY_RIGHT),
        ]
    )
    table = Table(
        rows,
        colWidths=[CONTENT_WIDTH - AMOUNT_COL_WIDTH, AMOUNT_COL_WIDTH],
        repeatRows=1,
    )
    table.setStyle(
        pdf.table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("BACKGROUND", (0, 0), (-1, 0), pdf.SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, pdf.DARK),
                ("LINEBELOW", (0, 1), (-1, body_end), 0.25, pdf.RULE),
                ("LINEABOVE", (0, total_row), (-1, total_row), 1, pdf.DARK),
                ("TOPPADDING", (0, total_row), (-1, total_row), 8),
            ]
        )
    )
    return table


def render_receipt(receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF with embedded (subset) Noto fonts."""
    story = [
        pdf.header(
            receipt.conference_name,
            "Receipt",
            receipt.number,
            f"Date: {pdf.date_utc(receipt.issued_at)}",
        ),
        Spacer(1, 8 * mm),
        _parties(receipt),
        Spacer(1, 8 * mm),
        _references(receipt),
        Spacer(1, 6 * mm),
        _lines_table(receipt),
        Spacer(1, 10 * mm),
        Paragraph(f"Paid by {receipt.paid_by}. Thank you." if receipt.paid_by
                  else "Paid online. Thank you.", BOLD),
    ]
    # Shrink rather than spill onto a second page, however many lines there are.
    return pdf.render(
        story,
        title=f"Receipt {receipt.number}",
        author=receipt.organiser_name,
        subject=receipt.conference_name,
        one_page=True,
    )
