"""What receipts, invoices and credit notes share: A4 pages, embedded Noto fonts, colours,
paragraph styles and the small pieces they are built of.

Everything a buyer or delegate typed (names, organisations, addresses, descriptions that
carry names) goes through :func:`para` or :func:`labelled`, which print every script
(shaped, right to left where it should be) with :mod:`shared.typesetting`. The only I/O is
reading the font files once per process.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepInFrame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from shared.money import format_money
from shared.typesetting import fonts, register
from shared.typesetting.flowable import TextBlock

FONT_REGULAR = register(fonts.REGULAR[0])  # Noto Sans: the documents' own words
FONT_BOLD = register(fonts.BOLD[0])
# so that <b> inside a Paragraph picks the bold face
pdfmetrics.registerFontFamily(
    FONT_REGULAR, normal=FONT_REGULAR, bold=FONT_BOLD, italic=FONT_REGULAR, boldItalic=FONT_BOLD
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CONTENT_HEIGHT = PAGE_HEIGHT - 2 * MARGIN


# --- colours and styles ---------------------------------------------------------------

DARK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")

BODY = ParagraphStyle("body", fontName=FONT_REGULAR, fontSize=10, leading=13, textColor=DARK)
BODY_RIGHT = ParagraphStyle("body_right", parent=BODY, alignment=TA_RIGHT)
BOLD = ParagraphStyle("bold", parent=BODY, fontName=FONT_BOLD)
BOLD_RIGHT = ParagraphStyle("bold_right", parent=BOLD, alignment=TA_RIGHT)
LABEL = ParagraphStyle(
    "label", parent=BODY, fontName=FONT_BOLD, fontSize=8, leading=11, textColor=MUTED
)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=9, leading=12, textColor=MUTED)
CONFERENCE = ParagraphStyle("conference", parent=BODY, fontName=FONT_BOLD, fontSize=15, leading=19)
TITLE = ParagraphStyle(
    "title", parent=BODY, fontName=FONT_BOLD, fontSize=22, leading=26, alignment=TA_RIGHT
)
NUMBER = ParagraphStyle(
    "number", parent=BODY, fontName=FONT_BOLD, fontSize=13, leading=17, alignment=TA_RIGHT
)
TOTAL = ParagraphStyle("total", parent=BOLD, fontSize=12, leading=16)
TOTAL_RIGHT = ParagraphStyle("total_right", parent=TOTAL, alignment=TA_RIGHT)


# --- pieces ---------------------------------------------------------------------------


def para(value: object, style: ParagraphStyle) -> TextBlock:
    """Text in any script, wrapped; a newline (as in an address) starts a new line."""
    return TextBlock([(str(value), False)], style, FONT_BOLD)


def labelled(label: str, value: object, style: ParagraphStyle = BODY) -> TextBlock:
    """``Label: value`` with the label in bold."""
    return TextBlock([(f"{label}: ", True), (str(value), False)], style, FONT_BOLD)


def facts(rows: list[tuple[str, Flowable]]) -> Table:
    """A column of small labels beside their values (dates, references)."""
    table = Table([[Paragraph(escape(label), SMALL), value] for label, value in rows],
                  colWidths=[45 * mm, CONTENT_WIDTH - 45 * mm])
    table.setStyle(table_style([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    return table


def money(cents: int, currency: str, style: ParagraphStyle = BODY_RIGHT) -> Paragraph:
    return Paragraph(escape(format_money(cents, currency)), style)


def party(label: str, name: str, *lines: str | None) -> list[Flowable]:
    """A party's block: a small label, the name in bold, then each line given (an address
    may be several lines)."""
    return [Paragraph(escape(label), LABEL), para(name, BOLD)] + [
        para(line, BODY) for line in lines if line
    ]


def date_utc(moment: datetime) -> str:
    """The day in UTC, ``2027-03-02``. A naive datetime (as SQLite hands back) is taken
    to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d")


def table_style(commands: list[tuple]) -> TableStyle:
    # Table sets each cell's font on the canvas even when the cell holds Paragraphs; its
    # default is Helvetica, which would end up in the PDF as a non-embedded font.
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT_REGULAR, 10), *commands])


def header(conference_name: str, title: str, number: str, *details: str) -> Table:
    """The conference's name on the left; on the right the title, the number large, and
    a line for each detail."""
    left = [para(conference_name, CONFERENCE)]
    right = [Paragraph(escape(title), TITLE), para(number, NUMBER)]
    right += [para(detail, BODY_RIGHT) for detail in details]
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.55, CONTENT_WIDTH * 0.45])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 1, DARK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def side_by_side(left: list[Flowable], right: list[Flowable]) -> Table:
    """Two blocks in halves of the page, such as the seller and the buyer."""
    half = CONTENT_WIDTH / 2
    table = Table([[left, right]], colWidths=[half, half])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LEFTPADDING", (1, 0), (1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


# --- the document ---------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds each page back until the last is known, then numbers them "Page n of m"
    with ``footer`` before it."""

    def __init__(self, *args, footer: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for number, page in enumerate(self._pages, start=1):
            self.__dict__.update(page)
            self.setFont(FONT_REGULAR, 8)
            self.setFillColor(MUTED)
            self.drawRightString(
                PAGE_WIDTH - MARGIN,
                MARGIN / 2,
                f"{self._footer}Page {number} of {len(self._pages)}",
            )
            super().showPage()
        super().save()


def render(
    story: list[Flowable],
    *,
    title: str,
    author: str,
    subject: str,
    one_page: bool = False,
    footer: str = "",
) -> bytes:
    """The story as an A4 PDF with embedded (subset) fonts. ``one_page`` shrinks it to
    fit a single page; otherwise it flows onto as many as it needs, each numbered
    "Page n of m" after ``footer``."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=unicodedata.normalize("NFC", title),
        author=unicodedata.normalize("NFC", author),
        subject=unicodedata.normalize("NFC", subject),
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
        id="content",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    if one_page:
        doc.build([KeepInFrame(CONTENT_WIDTH, CONTENT_HEIGHT, story, mode="shrink")])
    else:
        footer = unicodedata.normalize("NFC", footer)
        doc.build(story, canvasmaker=functools.partial(_NumberedCanvas, footer=footer))
    return buffer.getvalue()
