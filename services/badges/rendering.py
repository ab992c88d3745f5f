"""Conference badges as print-ready PDFs.

A pure module: :func:`render_badges` takes :class:`BadgeData` and returns PDF bytes. It
talks to no database and no message bus; the only I/O is reading the layout and the fonts
once per process. What a badge shows, where and in which colours, and how badges sit on
paper ("a6": one per page for the desk printer; "a4": sheets of four with cut marks) is
data, in ``layout.yaml``. Text in every script goes through :mod:`shared.typesetting`
(Noto, shaped, right to left where it should be); characters no font has are reported.

The QR code is encoded by zxing-cpp (C++: about a fifth of the time segno takes in pure
Python, best mask included) and drawn as a one-bit image, one pixel a module.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pycountry
import yaml
import zxingcpp
from PIL import Image
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from shared import typesetting
from shared.typesetting.fonts import REGULAR

LAYOUT_FILE = Path(__file__).with_name("layout.yaml")
NAME_ORDERS = ("given_first", "family_first")

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
    name_order: str = "given_first"  # one of NAME_ORDERS


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    missing_glyphs: dict[str, str]  # registration_id -> characters no embedded font has


# --- the layout, from layout.yaml ---------------------------------------------------------


@dataclass(frozen=True)
class TextStyle:
    size: float
    min_size: float
    lines: int
    colour: Color
    bold: bool


@dataclass(frozen=True)
class Role:
    colour: Color
    label: str


@dataclass(frozen=True)
class Sheet:
    width: float  # points
    height: float
    columns: int
    rows: int
    cut_marks: float  # length of the marks at the page edges; 0 for none


@dataclass(frozen=True)
class Layout:
    event_name: str
    logo: Path | None
    roles: dict[str, Role]
    sheets: dict[str, Sheet]
    width: float
    height: float
    margin: float
    leading: float
    descent: float
    cap_height: float
    event: TextStyle
    event_gap: float
    logo_height: float
    band_height: float
    band_radius: float
    band_size: float
    band_fill: float
    band_text: Color
    name: TextStyle
    pronouns: TextStyle
    organisation: TextStyle
    country: TextStyle
    gap: float
    qr_size: float
    qr_quiet_modules: int
    qr_gap: float
    ink: Color

    @property
    def content_width(self) -> float:
        return self.width - 2 * self.margin


def load_layout(path: Path = LAYOUT_FILE) -> Layout:
    data = yaml.safe_load(path.read_text())
    colours = {name: HexColor(value) for name, value in data["colours"].items()}
    badge = data["badge"]

    def style(key: str) -> TextStyle:
        spec = badge[key]
        return TextStyle(spec["size"], spec.get("min_size", spec["size"]), spec.get("lines", 1),
                         colours[spec.get("colour", "ink")], spec.get("bold", False))

    return Layout(
        event_name=data.get("event_name") or "",
        logo=path.with_name(data["logo"]) if data.get("logo") else None,
        roles={name: Role(HexColor(role["colour"]), role["label"])
               for name, role in data["roles"].items()},
        sheets={name: Sheet(sheet["page"][0] * mm, sheet["page"][1] * mm, sheet["columns"],
                            sheet["rows"], sheet["cut_marks"] * mm)
                for name, sheet in data["sheets"].items()},
        width=badge["width"] * mm, height=badge["height"] * mm, margin=badge["margin"] * mm,
        leading=badge["leading"], descent=badge["descent"], cap_height=badge["cap_height"],
        event=style("event"), event_gap=badge["event"]["gap"] * mm,
        logo_height=badge["logo_height"] * mm,
        band_height=badge["band"]["height"] * mm, band_radius=badge["band"]["radius"] * mm,
        band_size=badge["band"]["size"], band_fill=badge["band"]["fill"],
        band_text=colours["band_text"],
        name=style("name"), pronouns=style("pronouns"), organisation=style("organisation"),
        country=style("country"), gap=badge["gap"] * mm,
        qr_size=badge["qr"]["size"] * mm, qr_quiet_modules=badge["qr"]["quiet_modules"],
        qr_gap=badge["qr"]["gap"] * mm, ink=colours["ink"],
    )


LAYOUT = load_layout()
ROLES = tuple(LAYOUT.roles)
LAYOUTS = tuple(LAYOUT.sheets)


# --- text ------------------------------------------------------------------------------


def _width(text: str, bold: bool) -> float:
    """Width of text at 1 pt."""
    return typesetting.layout(text, bold).width


def _two_lines(text: str, bold: bool) -> list[str]:
    """Break text at the space (or after the hyphen) that makes the wider line narrowest."""
    breaks = [(i, i + 1) for i, c in enumerate(text) if c == " "]
    breaks += [(i + 1, i + 1) for i, c in enumerate(text[:-1]) if c == "-"]
    candidates = [(text[:end].rstrip(), text[start:].lstrip()) for end, start in breaks]
    candidates = [(a, b) for a, b in candidates if a and b]
    if not candidates:
        return [text]
    return list(min(candidates, key=lambda ab: max(_width(ab[0], bold), _width(ab[1], bold))))


@dataclass(frozen=True)
class _Block:
    """Centred lines of text in one weight, size and colour."""

    lines: list[str]
    bold: bool
    size: float
    colour: Color

    def height(self, leading: float) -> float:
        return len(self.lines) * self.size * leading


def _block(text: str, style: TextStyle, width: float, size: float | None = None,
           min_size: float | None = None) -> _Block:
    """Text in ``width``: shrunk from ``size`` down to ``min_size`` on one line; then, if
    the style allows two lines, wrapped onto them as large as they fit (up to ``size``);
    below ``min_size`` only if nothing else fits."""
    size = style.size if size is None else size
    min_size = style.min_size if min_size is None else min_size
    if not text:
        return _Block([], style.bold, size, style.colour)
    single = min(size, width / (_width(text, style.bold) or 1))
    if single >= min_size or style.lines == 1:
        return _Block([text], style.bold, single, style.colour)
    lines = _two_lines(text, style.bold)
    widest = max(_width(line, style.bold) for line in lines)
    return _Block(lines, style.bold, min(size, width / widest), style.colour)


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


def _draw_centred(canvas: Canvas, text: str, bold: bool, size: float, centre_x: float,
                  baseline: float) -> str:
    """Draw one line centred on centre_x; return the characters no font has."""
    line = typesetting.layout(text, bold)
    typesetting.draw(canvas, line, size, centre_x - line.width_at(size) / 2, baseline)
    return line.missing


def _draw_block(canvas: Canvas, block: _Block, centre_x: float, top: float,
                missing: set[str]) -> float:
    """Draw the block's lines from ``top`` downwards; return the y below the block."""
    canvas.setFillColor(block.colour)
    line_height = block.size * LAYOUT.leading
    for line in block.lines:
        top -= line_height
        baseline = top + block.size * LAYOUT.descent
        missing.update(_draw_centred(canvas, line, block.bold, block.size, centre_x, baseline))
    return top


def _qr_image(payload: str) -> tuple[int, str]:
    """The symbol of the payload (level M) without its quiet zone: its width in modules,
    and the PDF inline image of its modules, one bit each (0 dark), hex-encoded."""
    symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = symbol.to_image(add_quiet_zones=False)  # a byte a module: 0 dark, 255 light
    height, width = image.shape
    bits = Image.frombytes("L", (width, height), memoryview(image).tobytes()).convert("1")
    return width, (f"BI /W {width} /H {height} /BPC 1 /CS /G /F /AHx ID "
                   f"{bits.tobytes().hex()}> EI")


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float) -> None:
    """Draw the QR code (the layout's size, plus its quiet zone) with its lower left corner
    at x, y: a white square, and the modules as a one-bit image scaled to the size.

    An image of 37 x 37 bits is what printers and viewers draw without smoothing
    (/Interpolate is false), and what every scanner reads; written as operators it costs a
    few microseconds, where ~350 rectangles a code took most of a 1,200 badge print.
    """
    modules, inline_image = _qr_image(payload)
    size = LAYOUT.qr_size
    quiet = LAYOUT.qr_quiet_modules * size / modules
    canvas.setFillColor(white)
    canvas.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    canvas.addLiteral(f"q {size:.3f} 0 0 {size:.3f} {x:.3f} {y:.3f} cm {inline_image} Q")


def _draw_header(canvas: Canvas, x0: float, top: float, centre: float) -> float:
    """The event's name and logo above the band; return the y below them."""
    if not (LAYOUT.event_name or LAYOUT.logo):
        return top
    height = LAYOUT.event.size * LAYOUT.leading
    if LAYOUT.logo:
        height = max(height, LAYOUT.logo_height)
        canvas.drawImage(str(LAYOUT.logo), x0 + LAYOUT.margin, top - LAYOUT.logo_height,
                         height=LAYOUT.logo_height, width=LAYOUT.content_width / 3,
                         preserveAspectRatio=True, anchor="w", mask="auto")
    if LAYOUT.event_name:
        canvas.setFillColor(LAYOUT.event.colour)
        baseline = top - height / 2 - LAYOUT.cap_height * LAYOUT.event.size / 2
        _draw_centred(canvas, LAYOUT.event_name, LAYOUT.event.bold, LAYOUT.event.size, centre,
                      baseline)
    return top - height - LAYOUT.event_gap


def _draw_badge(canvas: Canvas, badge: BadgeData, x0: float, y0: float) -> set[str]:
    """Draw one badge with its lower left corner at x0, y0; return the characters missing."""
    given, family = _clean(badge.given_name), _clean(badge.family_name)
    first, second = (family, given) if badge.name_order == "family_first" and family else (
        given, family)
    pronouns = _clean(badge.pronouns)
    organisation = _clean(badge.organisation)
    country = _clean(_country_name(badge.country))
    role = LAYOUT.roles[badge.role]
    width = LAYOUT.content_width
    centre = x0 + LAYOUT.width / 2
    missing: set[str] = set()

    # the event, then the role band
    band_top = _draw_header(canvas, x0, y0 + LAYOUT.height - LAYOUT.margin, centre)
    band_bottom = band_top - LAYOUT.band_height
    canvas.setFillColor(role.colour)
    canvas.roundRect(x0 + LAYOUT.margin, band_bottom, width, LAYOUT.band_height,
                     LAYOUT.band_radius, stroke=0, fill=1)
    canvas.setFillColor(LAYOUT.band_text)
    role_size = min(LAYOUT.band_size, width * LAYOUT.band_fill / _width(role.label, True))
    role_baseline = band_bottom + (LAYOUT.band_height - LAYOUT.cap_height * role_size) / 2
    missing.update(_draw_centred(canvas, role.label, True, role_size, centre, role_baseline))

    # the QR code, then country and organisation upwards from it
    qr_bottom = y0 + LAYOUT.margin
    _draw_qr(canvas, badge.qr_payload, centre - LAYOUT.qr_size / 2, qr_bottom)
    organisation_block = _block(organisation, LAYOUT.organisation, width)
    country_size = min(LAYOUT.country.size, organisation_block.size)
    country_block = _block(country, LAYOUT.country, width, country_size,
                           min(LAYOUT.country.min_size, country_size))
    footer = [organisation_block, country_block]
    footer_bottom = qr_bottom + LAYOUT.qr_size + LAYOUT.qr_gap
    footer_top = footer_bottom + sum(block.height(LAYOUT.leading) for block in footer)

    # the name and pronouns, centred in the space between the band and the organisation
    first_block = _block(first, LAYOUT.name, width)
    second_size = first_block.size if first else LAYOUT.name.size
    header = [
        first_block,
        _block(second, LAYOUT.name, width, second_size, min(LAYOUT.name.min_size, second_size)),
        _block(pronouns, LAYOUT.pronouns, width),
    ]
    header_height = sum(block.height(LAYOUT.leading) for block in header)
    space_top, space_bottom = band_bottom - LAYOUT.gap, footer_top + LAYOUT.gap
    top = space_top - max(0, (space_top - space_bottom - header_height) / 2)
    for block in header:
        top = _draw_block(canvas, block, centre, top, missing)
    top = footer_top
    for block in footer:
        top = _draw_block(canvas, block, centre, top, missing)
    return missing


def _draw_cut_marks(canvas: Canvas, sheet: Sheet) -> None:
    """Short lines at the page edges where the sheet is cut into badges."""
    length = sheet.cut_marks
    lines = []
    for column in range(1, sheet.columns):
        x = column * sheet.width / sheet.columns
        lines += [(x, 0, x, length), (x, sheet.height - length, x, sheet.height)]
    for row in range(1, sheet.rows):
        y = row * sheet.height / sheet.rows
        lines += [(0, y, length, y), (sheet.width - length, y, sheet.width, y)]
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.5)
    canvas.lines(lines)


def _origin(sheet: Sheet, slot: int) -> tuple[float, float]:
    """Lower left corner of the slot-th badge of a page (left to right, top to bottom),
    each centred in its cell."""
    cell_width, cell_height = sheet.width / sheet.columns, sheet.height / sheet.rows
    column, row = slot % sheet.columns, slot // sheet.columns
    return (column * cell_width + (cell_width - LAYOUT.width) / 2,
            (sheet.rows - 1 - row) * cell_height + (cell_height - LAYOUT.height) / 2)


def render_badges(badges: Sequence[BadgeData], layout: str = "a6") -> Rendered:
    """Render badges into one PDF, laid out on the named sheet ("a6", "a4", ...)."""
    if layout not in LAYOUT.sheets:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    for badge in badges:
        if badge.role not in LAYOUT.roles:
            raise ValueError(f"unknown role {badge.role!r}; expected one of {', '.join(ROLES)}")
        if badge.name_order not in NAME_ORDERS:
            raise ValueError(f"unknown name order {badge.name_order!r}")

    sheet = LAYOUT.sheets[layout]
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(sheet.width, sheet.height),
        pageCompression=1,
        # else every page refers to Helvetica, which is not embedded
        initialFontName=typesetting.register(REGULAR[0]),
    )
    canvas.setTitle(f"Conference badges ({layout.upper()})")
    missing_glyphs: dict[str, str] = {}
    per_page = sheet.columns * sheet.rows
    for index, badge in enumerate(badges):
        slot = index % per_page
        if index and not slot:
            canvas.showPage()
        if not slot and sheet.cut_marks:
            _draw_cut_marks(canvas, sheet)
        missing = _draw_badge(canvas, badge, *_origin(sheet, slot))
        if missing:
            missing_glyphs[badge.registration_id] = "".join(sorted(missing))
    canvas.save()
    return Rendered(buffer.getvalue(), missing_glyphs)
