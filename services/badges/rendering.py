"""Conference badges as print-ready PDFs.

A pure module: :func:`render_badges` takes :class:`BadgeData` and returns PDF bytes. It
talks to no database and no message bus; the only I/O is reading the font files once per
process. Roboto (Latin Extended, Greek, Cyrillic) is embedded for all text, with Source
Sans Pro for the few characters Roboto lacks; characters neither has are reported.

Layouts: "a6" is one A6 badge per page (the desk printer); "a4" is A4 sheets of four A6
badges (2 x 2) with cut marks at the page edges.

The QR code is drawn as vector rectangles, one per horizontal run of dark modules. Its
mask pattern is fixed: segno's search for the best of the eight masks costs about 3 ms
per code in pure Python, more than the rest of the badge; payloads are signed tokens
(high entropy), for which every mask scores about the same.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

import font_roboto
import font_source_sans_pro
import pycountry
import segno
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

ROLES = ("delegate", "speaker", "exhibitor", "staff", "press", "volunteer")
ROLE_COLOURS: dict[str, str] = {
    "delegate": "#1d4f91",  # blue
    "speaker": "#b01e2f",  # red
    "exhibitor": "#0b6e4f",  # green
    "staff": "#2b2b2b",  # charcoal
    "press": "#6b2c91",  # purple
    "volunteer": "#a34a00",  # burnt orange
}
LAYOUTS = ("a6", "a4")

FONT_REGULAR = "Roboto"
FONT_BOLD = "Roboto-Bold"
FALLBACK_REGULAR = "SourceSansPro"
FALLBACK_BOLD = "SourceSansPro-Bold"
_FONT_FILES = {
    FONT_REGULAR: (font_roboto, "Roboto-Regular.ttf"),
    FONT_BOLD: (font_roboto, "Roboto-Bold.ttf"),
    FALLBACK_REGULAR: (font_source_sans_pro, "SourceSansPro-Regular.ttf"),
    FALLBACK_BOLD: (font_source_sans_pro, "SourceSansPro-Bold.ttf"),
}

BADGE_WIDTH, BADGE_HEIGHT = A6  # 105 x 148 mm
MARGIN = 7 * mm  # clear of the cut marks and of most printers' unprintable edge
CONTENT_WIDTH = BADGE_WIDTH - 2 * MARGIN
BAND_HEIGHT = 16 * mm
QR_SIZE = 30 * mm  # the symbol, without its quiet zone
QR_QUIET_MODULES = 4
QR_MASK = 2  # the lowest mean penalty over random tokens of the ticket length
CUT_MARK_LENGTH = 5 * mm

NAME_SIZE, NAME_MIN_SIZE = 28, 14
PRONOUNS_SIZE, PRONOUNS_MIN_SIZE = 13, 8
ORGANISATION_SIZE, ORGANISATION_MIN_SIZE = 14, 11
COUNTRY_SIZE, COUNTRY_MIN_SIZE = 12, 8
ROLE_SIZE = 22
LEADING = 1.15
CAP_HEIGHT = 0.711  # Roboto's, in em
DESCENT = 0.25  # room under the baseline in a line, in em (Roboto's descender is 0.21)

_INK = HexColor("#1a1a1a")
_MUTED = HexColor("#4d4d4d")
_COUNTRY_NAMES = {  # where pycountry has no name, or only an inverted one ("Palestine, State of")
    "XK": "Kosovo",  # a user-assigned code, not in ISO 3166-1
    "CD": "Democratic Republic of the Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}


@dataclass(frozen=True)
class BadgeData:
    registration_id: str
    given_name: str
    family_name: str  # may be ""
    pronouns: str | None
    organisation: str
    country: str  # ISO 3166-1 alpha-2
    role: str  # one of ROLES
    qr_payload: str  # the signed token, exactly as scanned


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    missing_glyphs: dict[str, str]  # registration_id -> characters no embedded font has


@dataclass(frozen=True)
class _Style:
    """A primary font, its fallback, and the characters each has."""

    primary: str
    fallback: str
    primary_chars: frozenset[int]
    fallback_chars: frozenset[int]


def _register_font(name: str) -> frozenset[int]:
    """Register one embedded TrueType font (once per process); return the characters it has."""
    if name not in pdfmetrics.getRegisteredFontNames():
        package, filename = _FONT_FILES[name]
        path = os.path.join(os.path.dirname(package.__file__), "files", filename)
        pdfmetrics.registerFont(TTFont(name, path))
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


def _style(primary: str, fallback: str) -> _Style:
    return _Style(primary, fallback, _register_font(primary), _register_font(fallback))


REGULAR = _style(FONT_REGULAR, FALLBACK_REGULAR)
BOLD = _style(FONT_BOLD, FALLBACK_BOLD)


# --- text ------------------------------------------------------------------------------


def _runs(text: str, style: _Style) -> list[tuple[str, str]]:
    """Split text into (font name, characters) runs, each drawn with a font that has them."""

    def font_of(char: str) -> str:
        code = ord(char)
        if code in style.primary_chars or code not in style.fallback_chars:
            return style.primary
        return style.fallback

    return [(font, "".join(chars)) for font, chars in groupby(text, key=font_of)]


def _missing(text: str, style: _Style) -> set[str]:
    """The characters neither font of the style has."""
    return {
        c for c in text if ord(c) not in style.primary_chars and ord(c) not in style.fallback_chars
    }


def _width(text: str, style: _Style) -> float:
    """Width of text at 1 pt."""
    return sum(pdfmetrics.stringWidth(run, font, 1) for font, run in _runs(text, style))


def _two_lines(text: str, style: _Style) -> list[str]:
    """Break text at the space (or after the hyphen) that makes the wider line narrowest."""
    breaks = [(i, i + 1) for i, c in enumerate(text) if c == " "]
    breaks += [(i + 1, i + 1) for i, c in enumerate(text[:-1]) if c == "-"]
    candidates = [(text[:end].rstrip(), text[start:].lstrip()) for end, start in breaks]
    candidates = [(a, b) for a, b in candidates if a and b]
    if not candidates:
        return [text]
    return list(min(candidates, key=lambda ab: max(_width(ab[0], style), _width(ab[1], style))))


def _fit(
    text: str, style: _Style, size: float, min_size: float, max_lines: int = 2
) -> tuple[float, list[str]]:
    """Font size and lines for text in the content width.

    Shrinks from ``size`` down to ``min_size`` on one line; then, if allowed, wraps onto two
    lines as large as they fit (up to ``size``); below ``min_size`` only if nothing else fits.
    """
    if not text:
        return size, []
    single = min(size, CONTENT_WIDTH / (_width(text, style) or 1))
    if single >= min_size or max_lines == 1:
        return single, [text]
    lines = _two_lines(text, style)
    widest = max(_width(line, style) for line in lines)
    return min(size, CONTENT_WIDTH / widest), lines


@dataclass(frozen=True)
class _Block:
    """Centred lines of text in one style, size and colour."""

    lines: list[str]
    style: _Style
    size: float
    colour: Color

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEADING


def _block(
    text: str, style: _Style, size: float, min_size: float, colour: Color, max_lines: int = 2
) -> _Block:
    fitted, lines = _fit(text, style, size, min_size, max_lines)
    return _Block(lines, style, fitted, colour)


def _country_name(code: str) -> str:
    code = code.strip().upper()
    if code in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def _clean(text: str | None) -> str:
    """NFC, with runs of whitespace (tabs, newlines) made single spaces."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


# --- drawing ---------------------------------------------------------------------------


def _draw_line(
    canvas: Canvas, text: str, style: _Style, size: float, centre_x: float, y: float
) -> None:
    """Draw one line centred on centre_x, run by run, each in the font that has it."""
    runs = [
        (font, run, pdfmetrics.stringWidth(run, font, size)) for font, run in _runs(text, style)
    ]
    x = centre_x - sum(width for *_, width in runs) / 2
    for font, run, width in runs:
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += width


def _draw_block(canvas: Canvas, block: _Block, centre_x: float, top: float) -> float:
    """Draw the block's lines from ``top`` downwards; return the y below the block."""
    canvas.setFillColor(block.colour)
    line_height = block.size * LEADING
    for line in block.lines:
        top -= line_height
        _draw_line(canvas, line, block.style, block.size, centre_x, top + block.size * DESCENT)
    return top


def _qr_runs(payload: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The symbol's width in modules, and (row from the top, first column, length) of every
    horizontal run of dark modules."""
    matrix = segno.make(payload, error="m", micro=False, mask=QR_MASK).matrix
    runs = []
    for row_index, row in enumerate(matrix):
        start = row.find(1)
        while start != -1:
            end = row.find(0, start)
            if end == -1:
                end = len(row)
            runs.append((row_index, start, end - start))
            start = row.find(1, end)
    return len(matrix), runs


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float) -> None:
    """Draw the QR code (QR_SIZE wide, plus its quiet zone) with its lower left corner at x, y.

    The runs become one path in module units. Its operators are written directly: with
    ``path.rect()`` reportlab's float formatting of ~350 rectangles a code took about half
    the time of a 1,200 badge print.
    """
    modules, runs = _qr_runs(payload)
    module = QR_SIZE / modules
    quiet = QR_QUIET_MODULES * module
    canvas.setFillColor(white)
    canvas.rect(x - quiet, y - quiet, QR_SIZE + 2 * quiet, QR_SIZE + 2 * quiet, stroke=0, fill=1)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(module, module)
    top = modules - 1
    path = PDFPathObject([f"{start} {top - row} {length} 1 re" for row, start, length in runs])
    canvas.setFillColor(_INK)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _draw_badge(canvas: Canvas, badge: BadgeData, x0: float, y0: float) -> set[str]:
    """Draw one badge with its lower left corner at x0, y0; return the characters missing."""
    given, family = _clean(badge.given_name), _clean(badge.family_name)
    role = badge.role.upper()
    pronouns = _clean(badge.pronouns)
    organisation = _clean(badge.organisation)
    country = _clean(_country_name(badge.country))
    centre = x0 + BADGE_WIDTH / 2

    # the role band
    band_bottom = y0 + BADGE_HEIGHT - MARGIN - BAND_HEIGHT
    canvas.setFillColor(HexColor(ROLE_COLOURS[badge.role]))
    canvas.roundRect(x0 + MARGIN, band_bottom, CONTENT_WIDTH, BAND_HEIGHT, 2 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    role_size = min(ROLE_SIZE, CONTENT_WIDTH * 0.9 / _width(role, BOLD))
    role_baseline = band_bottom + (BAND_HEIGHT - CAP_HEIGHT * role_size) / 2
    _draw_line(canvas, role, BOLD, role_size, centre, role_baseline)

    # the QR code, then country and organisation upwards from it
    qr_bottom = y0 + MARGIN
    _draw_qr(canvas, badge.qr_payload, centre - QR_SIZE / 2, qr_bottom)
    organisation_block = _block(
        organisation, REGULAR, ORGANISATION_SIZE, ORGANISATION_MIN_SIZE, _INK
    )
    # the country is never larger than the organisation above it
    country_size = min(COUNTRY_SIZE, organisation_block.size)
    country_block = _block(
        country, REGULAR, country_size, min(COUNTRY_MIN_SIZE, country_size), _MUTED, max_lines=1
    )
    footer = [organisation_block, country_block]
    footer_bottom = qr_bottom + QR_SIZE + 6 * mm
    footer_top = footer_bottom + sum(block.height for block in footer)

    # the name and pronouns, centred in the space between the band and the organisation
    given_block = _block(given, BOLD, NAME_SIZE, NAME_MIN_SIZE, _INK)
    # the family name is never larger than the given name above it
    family_size = given_block.size if given else NAME_SIZE
    header = [
        given_block,
        _block(family, BOLD, family_size, min(NAME_MIN_SIZE, family_size), _INK),
        _block(pronouns, REGULAR, PRONOUNS_SIZE, PRONOUNS_MIN_SIZE, _MUTED, max_lines=1),
    ]
    header_height = sum(block.height for block in header)
    space_top, space_bottom = band_bottom - 4 * mm, footer_top + 4 * mm
    top = space_top - max(0, (space_top - space_bottom - header_height) / 2)
    for block in header:
        top = _draw_block(canvas, block, centre, top)
    top = footer_top
    for block in footer:
        top = _draw_block(canvas, block, centre, top)

    return _missing(given + family, BOLD) | _missing(pronouns + organisation + country, REGULAR)


def _draw_cut_marks(canvas: Canvas) -> None:
    """Short lines at the page edges where the A4 sheet is cut into four A6 badges."""
    width, height = A4
    cut_x, cut_y = width / 2, height / 2
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.5)
    canvas.lines(
        [
            (cut_x, 0, cut_x, CUT_MARK_LENGTH),
            (cut_x, height - CUT_MARK_LENGTH, cut_x, height),
            (0, cut_y, CUT_MARK_LENGTH, cut_y),
            (width - CUT_MARK_LENGTH, cut_y, width, cut_y),
        ]
    )


def _a4_origin(index: int) -> tuple[float, float]:
    """Lower left corner of the index-th badge of a sheet: each centred in its quarter."""
    width, height = A4
    column, row = index % 2, index // 2
    quarter_height = height / 2
    return column * width / 2, (1 - row) * quarter_height + (quarter_height - BADGE_HEIGHT) / 2


def render_badges(badges: Sequence[BadgeData], layout: str = "a6") -> Rendered:
    """Render badges into one PDF: one A6 page each ("a6"), or four per A4 sheet ("a4")."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    for badge in badges:
        if badge.role not in ROLE_COLOURS:
            raise ValueError(f"unknown role {badge.role!r}; expected one of {', '.join(ROLES)}")

    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=A4 if layout == "a4" else A6,
        pageCompression=1,
        initialFontName=FONT_REGULAR,  # else every page refers to Helvetica, not embedded
    )
    canvas.setTitle(f"Conference badges ({layout.upper()})")
    missing_glyphs: dict[str, str] = {}
    per_page = 4 if layout == "a4" else 1
    for index, badge in enumerate(badges):
        slot = index % per_page
        if index and not slot:
            canvas.showPage()
        if layout == "a4":
            if not slot:
                _draw_cut_marks(canvas)
            x0, y0 = _a4_origin(slot)
        else:
            x0 = y0 = 0
        missing = _draw_badge(canvas, badge, x0, y0)
        if missing:
            missing_glyphs[badge.registration_id] = "".join(sorted(missing))
    canvas.save()
    return Rendered(buffer.getvalue(), missing_glyphs)
