"""Invoices and credit notes: their figures and their A4 PDFs.

A document is issued once and never changes; this module only computes and renders
it (no database, no bus, no clock). Money is integer cents. Prices include VAT: each
line's VAT is worked out from its gross amount, rounded half away from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from services.payments import pdf, rf
from services.payments.pdf import BODY, BODY_RIGHT, BOLD, BOLD_RIGHT, CONTENT_WIDTH, SMALL
from shared.money import format_money

TITLES = {"invoice": "Invoice", "credit_note": "Credit note"}


@dataclass(frozen=True)
class Party:
    name: str
    organisation: str | None = None
    address: str | None = None  # may be several lines
    country: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True)
class BankAccount:
    account_holder: str
    iban: str
    bic: str
    bank_name: str


@dataclass(frozen=True)
class DocumentLine:
    description: str
    gross: int  # cents, VAT included; negative for a discount
    net: int
    vat: int


@dataclass(frozen=True)
class Document:
    kind: Literal["invoice", "credit_note"]
    number: str  # e.g. "ECS27-I-000012", printed prominently
    issued_on: date
    supplied: str  # the date(s) of supply as printed: "10–12 June 2027"
    supplier: Party
    buyer: Party
    conference_name: str
    order_reference: str
    purchase_order: str | None
    lines: tuple[DocumentLine, ...]  # on a credit note, what it credits
    vat_rate_percent: Decimal
    currency: str
    payment_reference: str | None  # RF, compact; an unpaid invoice's
    due_on: date | None
    bank: BankAccount | None  # where an unpaid invoice is paid to
    paid_note: str | None  # "Paid by card on 2027-01-10 (pi_123)"
    credits: str | None  # a credit note's invoice: "ECS27-I-000012 of 10 January 2027"
    reason: str | None  # why a credit note was issued

    @property
    def net(self) -> int:
        return sum(line.net for line in self.lines)

    @property
    def vat(self) -> int:
        return sum(line.vat for line in self.lines)

    @property
    def gross(self) -> int:
        return sum(line.gross for line in self.lines)


def vat_split(gross: int, vat_rate_percent: Decimal) -> tuple[int, int]:
    """(net, VAT) in cents of a ``gross`` amount that includes VAT at the rate; the net is
    rounded half away from zero, so a discount splits as its price does, negated."""
    exact = Decimal(gross) * 100 / (100 + Decimal(vat_rate_percent))
    net = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return net, gross - net


def line(description: str, gross: int, vat_rate_percent: Decimal) -> DocumentLine:
    net, vat = vat_split(gross, vat_rate_percent)
    return DocumentLine(description=description, gross=gross, net=net, vat=vat)


# --- rendering ------------------------------------------------------------------------

_RATE_COL = 18 * mm
_AMOUNT_COL = 30 * mm
_TABLE = ParagraphStyle("table", parent=BODY, fontSize=9, leading=12)
_TABLE_RIGHT = ParagraphStyle("table_right", parent=BODY_RIGHT, fontSize=9, leading=12)
_TABLE_HEAD = ParagraphStyle("table_head", parent=BOLD, fontSize=9, leading=12)
_TABLE_HEAD_RIGHT = ParagraphStyle(
    "table_head_right", parent=BOLD_RIGHT, fontSize=9, leading=12
)


def render_document(document: Document) -> bytes:
    """The invoice or credit note as an A4 PDF (as many pages as its lines need, each
    numbered) with embedded (subset) Noto."""
    if document.kind not in TITLES:
        raise ValueError(f"Not a kind of document: {document.kind!r}")
    title = TITLES[document.kind]
    story: list[Flowable] = [
        pdf.header(document.conference_name, title, document.number),
        Spacer(1, 8 * mm),
        _parties(document),
        Spacer(1, 8 * mm),
        _details(document),
        Spacer(1, 6 * mm),
        _lines_table(document),
        _totals(document),
        Spacer(1, 8 * mm),
    ]
    if document.kind == "credit_note":
        story.append(_credited(document))
    elif document.paid_note is None:
        story.append(_payment(document))
    if document.paid_note:
        story.append(pdf.para(document.paid_note, BOLD))
    return pdf.render(
        story,
        title=f"{title} {document.number}",
        author=document.supplier.name,
        subject=document.conference_name,
        footer=f"{title} {document.number} · ",
    )


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _rate(vat_rate_percent: Decimal) -> str:
    return f"{Decimal(vat_rate_percent).normalize():f}%"


def _party(label: str, party: Party) -> list[Paragraph]:
    return pdf.party(
        label,
        party.name,
        party.organisation,
        party.address,
        party.country,
        party.vat_number and f"VAT: {party.vat_number}",
    )


def _parties(document: Document) -> Table:
    return pdf.side_by_side(
        _party("SUPPLIER", document.supplier), _party("BILL TO", document.buyer)
    )


def _details(document: Document) -> Table:
    rows = [
        ("Date of issue", _long_date(document.issued_on)),
        ("Date of supply", document.supplied),
        ("Order reference", document.order_reference),
    ]
    if document.purchase_order:
        rows.append(("Purchase order", document.purchase_order))
    return pdf.facts([(label, pdf.para(value, BODY)) for label, value in rows])


def _column_widths() -> list[float]:
    description = CONTENT_WIDTH - _RATE_COL - 3 * _AMOUNT_COL
    return [description, _AMOUNT_COL, _RATE_COL, _AMOUNT_COL, _AMOUNT_COL]


def _lines_table(document: Document) -> Table:
    """One row per line, the heading repeated on every page the table runs onto."""
    currency, rate = document.currency, _rate(document.vat_rate_percent)
    gross = "Credited" if document.kind == "credit_note" else "Gross"
    rows = [
        [
            Paragraph("Description", _TABLE_HEAD),
            Paragraph("Net", _TABLE_HEAD_RIGHT),
            Paragraph("VAT rate", _TABLE_HEAD_RIGHT),
            Paragraph("VAT", _TABLE_HEAD_RIGHT),
            Paragraph(gross, _TABLE_HEAD_RIGHT),
        ]
    ]
    for each in document.lines:
        rows.append(
            [
                pdf.para(each.description, _TABLE),
                pdf.money(each.net, currency, _TABLE_RIGHT),
                pdf.para(rate, _TABLE_RIGHT),
                pdf.money(each.vat, currency, _TABLE_RIGHT),
                pdf.money(each.gross, currency, _TABLE_RIGHT),
            ]
        )
    table = Table(rows, colWidths=_column_widths(), repeatRows=1)
    table.setStyle(
        pdf.table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("BACKGROUND", (0, 0), (-1, 0), pdf.SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, pdf.DARK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, pdf.RULE),
            ]
        )
    )
    return table


def _totals(document: Document) -> Table:
    currency = document.currency
    total = "Total credited" if document.kind == "credit_note" else "Total gross"
    rows = [
        [Paragraph("Total net", BODY), pdf.money(document.net, currency)],
        [
            pdf.para(f"Total VAT {_rate(document.vat_rate_percent)}", BODY),
            pdf.money(document.vat, currency),
        ],
        [Paragraph(total, pdf.TOTAL), pdf.money(document.gross, currency, pdf.TOTAL_RIGHT)],
    ]
    label_width = CONTENT_WIDTH / 2 - 40 * mm
    table = Table(rows, colWidths=[label_width, 40 * mm], hAlign="RIGHT")
    table.setStyle(
        pdf.table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LINEABOVE", (0, 2), (-1, 2), 1, pdf.DARK),
                ("TOPPADDING", (0, 2), (-1, 2), 6),
            ]
        )
    )
    return KeepTogether([Spacer(1, 2 * mm), table])


def _boxed(flowables: list[Flowable]) -> Table:
    box = Table([[flowables]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        pdf.table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), pdf.SHADE),
                ("BOX", (0, 0), (-1, -1), 0.75, pdf.RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return box


def _payment(document: Document) -> Flowable:
    """How to pay an unpaid invoice by bank transfer: whatever of it is known."""
    lines = [
        Paragraph("PAYMENT BY BANK TRANSFER", pdf.LABEL),
        pdf.labelled("Amount due", format_money(document.gross, document.currency), BOLD),
    ]
    if document.due_on:
        lines.append(pdf.labelled("Due date", _long_date(document.due_on), BOLD))
    if document.payment_reference:
        lines.append(pdf.labelled("Reference", rf.printed(document.payment_reference), BOLD))
    if bank := document.bank:
        lines += [
            pdf.labelled("Account holder", bank.account_holder),
            pdf.labelled("IBAN", rf.printed(bank.iban)),  # in fours, as an RF
            pdf.labelled("BIC", bank.bic),
            pdf.labelled("Bank", bank.bank_name),
        ]
    if document.payment_reference:
        lines.append(
            Paragraph("Please quote the reference exactly, so that we find your payment.", SMALL)
        )
    return KeepTogether([_boxed(lines)])


def _credited(document: Document) -> Flowable:
    lines = [Paragraph("CREDIT NOTE", pdf.LABEL)]
    if document.credits:
        lines.append(pdf.para(f"Credits invoice {document.credits}", BOLD))
    if document.reason:
        lines.append(pdf.labelled("Reason", document.reason))
    lines.append(
        pdf.labelled("Credited", format_money(document.gross, document.currency), BOLD)
    )
    return KeepTogether([_boxed(lines)])
