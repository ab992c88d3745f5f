"""Payment receipts as one-page A4 PDFs.

A pure module: it takes a :class:`Receipt` and returns PDF bytes. It talks to no
database and no message bus; the only I/O is reading the Roboto font files once per
process. Roboto covers Latin Extended, Greek and Cyrillic and is embedded (subset) in
every receipt, so any name a delegate can type prints correctly.

Money is integer cents; every amount includes VAT.
"""

from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import font_roboto
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepInFrame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from shared.money import format_money

FONT_REGULAR = "Roboto"
FONT_BOLD = "Roboto-Bold"
_FONT_DIR = os.path.join(os.path.dirname(font_roboto.__file__), "files")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CONTENT_HEIGHT = PAGE_HEIGHT - 2 * MARGIN
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
    amount_refunded: int = 0


def _register_fonts() -> None:
    """Register Roboto Regular and Bold as embedded TrueType fonts; safe to call again."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, filename in ((FONT_REGULAR, "Roboto-Regular.ttf"), (FONT_BOLD, "Roboto-Bold.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, os.path.join(_FONT_DIR, filename)))
    # so that <b> inside a Paragraph picks the bold face
    pdfmetrics.registerFontFamily(
        FONT_REGULAR, normal=FONT_REGULAR, bold=FONT_BOLD, italic=FONT_REGULAR, boldItalic=FONT_BOLD
    )


_register_fonts()


# --- styles ---------------------------------------------------------------------------

_DARK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#616e7c")
_RULE = colors.HexColor("#cbd2d9")
_SHADE = colors.HexColor("#f0f4f8")

_BODY = ParagraphStyle("body", fontName=FONT_REGULAR, fontSize=10, leading=13, textColor=_DARK)
_BODY_RIGHT = ParagraphStyle("body_right", parent=_BODY, alignment=TA_RIGHT)
_BOLD = ParagraphStyle("bold", parent=_BODY, fontName=FONT_BOLD)
_BOLD_RIGHT = ParagraphStyle("bold_right", parent=_BOLD, alignment=TA_RIGHT)
_LABEL = ParagraphStyle(
    "label", parent=_BODY, fontName=FONT_BOLD, fontSize=8, leading=11, textColor=_MUTED
)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=9, leading=12, textColor=_MUTED)
_CONFERENCE = ParagraphStyle(
    "conference", parent=_BODY, fontName=FONT_BOLD, fontSize=15, leading=19
)
_TITLE = ParagraphStyle(
    "title", parent=_BODY, fontName=FONT_BOLD, fontSize=22, leading=26, alignment=TA_RIGHT
)
_NUMBER = ParagraphStyle(
    "number", parent=_BODY, fontName=FONT_BOLD, fontSize=13, leading=17, alignment=TA_RIGHT
)
_TOTAL = ParagraphStyle("total", parent=_BOLD, fontSize=12, leading=16)
_TOTAL_RIGHT = ParagraphStyle("total_right", parent=_TOTAL, alignment=TA_RIGHT)


# --- helpers --------------------------------------------------------------------------


def _text(value: object) -> str:
    """NFC-normalised, XML-escaped text for a Paragraph; newlines become line breaks."""
    normalised = unicodedata.normalize("NFC", str(value))
    lines = [line.strip() for line in normalised.replace("\r\n", "\n").split("\n")]
    return "<br/>".join(escape(line) for line in lines if line)


def _para(value: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_text(value), style)


def _table_style(commands: list[tuple]) -> TableStyle:
    # Table sets each cell's font on the canvas even when the cell holds Paragraphs; its
    # default is Helvetica, which would end up in the PDF as a non-embedded font.
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT_REGULAR, 10), *commands])


def _date_utc(moment: datetime) -> str:
    # A naive datetime (as SQLite hands back) is taken to be UTC already.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d")


def _header(receipt: Receipt) -> Table:
    left = [_para(receipt.conference_name, _CONFERENCE)]
    right = [
        Paragraph("Receipt", _TITLE),
        _para(receipt.number, _NUMBER),
        Paragraph(f"Date: {escape(_date_utc(receipt.issued_at))}", _BODY_RIGHT),
    ]
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.55, CONTENT_WIDTH * 0.45])
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 1, _DARK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _parties(receipt: Receipt) -> Table:
    organiser = [
        Paragraph("FROM", _LABEL),
        _para(receipt.organiser_name, _BOLD),
        _para(receipt.organiser_address, _BODY),
        _para(f"VAT number: {receipt.organiser_vat_number}", _BODY),
    ]
    billed = [
        Paragraph("BILLED TO", _LABEL),
        _para(receipt.buyer_name, _BOLD),
        _para(receipt.organisation, _BODY),
    ]
    if receipt.billing_address:
        billed.append(_para(receipt.billing_address, _BODY))
    billed.append(_para(receipt.email, _BODY))
    if receipt.vat_number:
        billed.append(_para(f"VAT number: {receipt.vat_number}", _BODY))
    if receipt.purchase_order:
        billed.append(_para(f"Purchase order: {receipt.purchase_order}", _BODY))
    half = CONTENT_WIDTH / 2
    table = Table([[organiser, billed]], colWidths=[half, half])
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LEFTPADDING", (1, 0), (1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _references(receipt: Receipt) -> Table:
    rows = [
        [Paragraph("Booking reference", _SMALL), _para(receipt.order_reference, _BOLD)],
        [Paragraph("Payment reference", _SMALL), _para(receipt.payment_reference, _BODY)],
    ]
    table = Table(rows, colWidths=[45 * mm, CONTENT_WIDTH - 45 * mm])
    table.setStyle(
        _table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _lines_table(receipt: Receipt) -> Table:
    money = receipt.currency
    rows = [[Paragraph("Description", _BOLD), Paragraph("Amount", _BOLD_RIGHT)]]
    for line in receipt.lines:
        rows.append(
            [_para(line.description, _BODY), _para(format_money(line.amount, money), _BODY_RIGHT)]
        )
    body_end = len(rows) - 1

    rows.append(
        [
            Paragraph("Total (VAT included)", _TOTAL),
            _para(format_money(receipt.total, money), _TOTAL_RIGHT),
        ]
    )
    total_row = len(rows) - 1
    rows.append(
        [
            _para(f"of which VAT {receipt.vat_rate_percent}%", _BODY),
            _para(format_money(receipt.vat_amount, money), _BODY_RIGHT),
        ]
    )
    if receipt.amount_refunded > 0:
        rows.append(
            [
                Paragraph("Refunded", _BODY),
                _para(format_money(-receipt.amount_refunded, money), _BODY_RIGHT),
            ]
        )
        rows.append(
            [
                Paragraph("Net paid", _BOLD),
                _para(format_money(receipt.total - receipt.amount_refunded, money), _BOLD_RIGHT),
            ]
        )

    table = Table(
        rows,
        colWidths=[CONTENT_WIDTH - AMOUNT_COL_WIDTH, AMOUNT_COL_WIDTH],
        repeatRows=1,
    )
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, _DARK),
        ("LINEBELOW", (0, 1), (-1, body_end), 0.25, _RULE),
        ("LINEABOVE", (0, total_row), (-1, total_row), 1, _DARK),
        ("TOPPADDING", (0, total_row), (-1, total_row), 8),
    ]
    if receipt.amount_refunded > 0:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.5, _DARK))
    table.setStyle(_table_style(style))
    return table


def render_receipt(receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF with embedded (subset) Roboto fonts."""
    story = [
        _header(receipt),
        Spacer(1, 8 * mm),
        _parties(receipt),
        Spacer(1, 8 * mm),
        _references(receipt),
        Spacer(1, 6 * mm),
        _lines_table(receipt),
        Spacer(1, 10 * mm),
        Paragraph("Paid by card. Thank you.", _BOLD),
    ]
    buffer = io.BytesIO()
    title = unicodedata.normalize("NFC", f"Receipt {receipt.number}")
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=unicodedata.normalize("NFC", receipt.organiser_name),
        subject=unicodedata.normalize("NFC", receipt.conference_name),
        creator="Ecsite Conference Ticketing",
        # Without this the canvas declares Helvetica (not embedded) on every page.
        initialFontName=FONT_REGULAR,
    )
    frame = Frame(
        MARGIN,
        MARGIN,
        CONTENT_WIDTH,
        CONTENT_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="receipt",
    )
    doc.addPageTemplates([PageTemplate(id="receipt", frames=[frame])])
    # Shrink rather than spill onto a second page, however many lines there are.
    doc.build([KeepInFrame(CONTENT_WIDTH, CONTENT_HEIGHT, story, mode="shrink")])
    return buffer.getvalue()
