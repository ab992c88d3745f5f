"""Badge PDFs: names in every script (drawn, shaped, right to left), embedded fonts,
everything inside the badge, QR codes that scan, A4 sheets of four in order, the layout as
data, name order, and characters no font has reported."""

import io
import re
import unicodedata
from dataclasses import replace

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from services.badges.rendering import LAYOUT, ROLES, BadgeData, render_badges
from shared.typesetting import register
from shared.typesetting.fonts import FACES

NAMES = [
    ("Łukasz", "Żółć"),
    ("Αλέξανδρος", "Παπαδόπουλος"),
    ("Борис", "Іваненко"),
    ("Søren", "Ørsted"),
    ("Çağlar", "Öztürk"),
]
LONG_NAME = "Maria Fernanda de los Ángeles Santísima Trinidad Ñúñez-Öberg"
LONG_ORGANISATION = (
    "Organismo Autónomo de Museos y Centros del Cabildo Insular de Tenerife – "
    "Museo de la Ciencia y el Cosmos, La Laguna (ES)"
)
FONT_NAMES = {  # the PostScript name in the PDF -> the name registered with reportlab
    pdfmetrics.getFont(register(face)).face.name.decode(): face.name for face in FACES
}
EVENT = LAYOUT.event_name
A4_WIDTH, A4_HEIGHT = A4
QUADRANTS = [  # (left, bottom, right, top) of each badge's quarter of an A4 sheet, in order
    (0, A4_HEIGHT / 2, A4_WIDTH / 2, A4_HEIGHT),
    (A4_WIDTH / 2, A4_HEIGHT / 2, A4_WIDTH, A4_HEIGHT),
    (0, 0, A4_WIDTH / 2, A4_HEIGHT / 2),
    (A4_WIDTH / 2, 0, A4_WIDTH, A4_HEIGHT / 2),
]


def token(n: int) -> str:
    """A ticket-like signed token: a UUID, a dot, a base64url HMAC."""
    return f"6f1c2a7e-4b9d-4c1e-9a3f-{n:012d}.Zk3vQ9mX2pL7rT1sW8yB4nC6dF0gH5jK-_aE3uI9oP2q"


def badge(n: int = 1, **changes) -> BadgeData:
    data = BadgeData(
        registration_id=f"reg-{n}",
        given_name="Łukasz",
        family_name="Żółć",
        pronouns="he/him",
        organisation="Copernicus Science Centre",
        country="PL",
        role="delegate",
        qr_payload=token(n),
    )
    return replace(data, **changes)


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_text(pdf: bytes, page: int = 0) -> str:
    return reader(pdf).pages[page].extract_text()


def spans(pdf: bytes, page: int = 0) -> list[tuple[float, float, float, float, str]]:
    """(x start, x end, baseline y, font size, text) of every piece of text on a page."""
    found = []

    def visit(text, cm, tm, font_dict, font_size):
        text = text.strip()
        if not text or font_dict is None:
            return
        font_name = FONT_NAMES[str(font_dict["/BaseFont"]).split("+")[-1]]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = font_size * tm[0] * cm[0]
        # shaped glyphs carry private-use characters, whose width reportlab also knows
        end = x + pdfmetrics.stringWidth(text, font_name, size)
        found.append((x, end, y, size, text))

    reader(pdf).pages[page].extract_text(visitor_text=visit)
    return found


def quadrant_of(x: float, y: float) -> int:
    for index, (left, bottom, right, top) in enumerate(QUADRANTS):
        if left <= x < right and bottom <= y < top:
            return index
    raise AssertionError(f"({x}, {y}) is off the page")


def decoded_qr_codes(pdf: bytes, page: int = 0) -> list[tuple[float, float, str]]:
    """(x, y in PDF points, text) of every QR code found on the rasterised page."""
    scale = 4
    image = pdfium.PdfDocument(pdf)[page].render(scale=scale).to_pil()
    codes = []
    for code in zxingcpp.read_barcodes(image):
        corner = code.position.top_left
        codes.append((corner.x / scale, image.height / scale - corner.y / scale, code.text))
    return codes


# --- the document ------------------------------------------------------------------------


def test_a6_is_one_page_per_badge_with_title():
    pdf = render_badges([badge(n) for n in range(3)]).pdf
    doc = reader(pdf)
    assert len(doc.pages) == 3
    box = doc.pages[0].mediabox
    assert float(box.width) == pytest.approx(A6[0], abs=0.5)
    assert float(box.height) == pytest.approx(A6[1], abs=0.5)
    assert doc.metadata.title


def test_a4_holds_four_badges_per_sheet():
    pdf = render_badges([badge(n) for n in range(5)], "a4").pdf
    doc = reader(pdf)
    assert len(doc.pages) == 2
    box = doc.pages[0].mediabox
    assert float(box.width) == pytest.approx(A4_WIDTH, abs=0.5)
    assert float(box.height) == pytest.approx(A4_HEIGHT, abs=0.5)
    assert doc.metadata.title


def test_a4_sheet_keeps_the_given_order():
    badges = [
        badge(n, given_name=given, family_name=family)
        for n, (given, family) in enumerate(NAMES[:4])
    ]
    pdf = render_badges(badges, "a4").pdf
    for index, (given, family) in enumerate(NAMES[:4]):
        texts = [text for x, _, y, _, text in spans(pdf) if quadrant_of(x, y) == index]
        assert given in texts
        assert family in texts
    assert NAMES[4][0] not in page_text(pdf)


def test_a4_sheet_has_short_cut_marks_at_the_edges():
    content = reader(render_badges([badge()], "a4").pdf).pages[0].get_contents().get_data()
    number = r"(-?[\d.]+)"
    segments = [
        tuple(float(v) for v in match)
        for match in re.findall(rf"{number} {number} m {number} {number} l", content.decode())
    ]
    cut_x, cut_y = A4_WIDTH / 2, A4_HEIGHT / 2
    marks = [
        (x1, y1, x2, y2)
        for x1, y1, x2, y2 in segments
        if (x1 == x2 == pytest.approx(cut_x)) or (y1 == y2 == pytest.approx(cut_y))
    ]
    ends = set()
    for x1, y1, x2, y2 in marks:
        assert abs(x2 - x1) + abs(y2 - y1) <= 6 * mm  # stays in the margin, off the content
        ends.add(min((x1, y1), (x2, y2)))
    assert {(round(x), round(y)) for x, y in ends} == {
        (round(cut_x), 0),
        (round(cut_x), round(A4_HEIGHT - 5 * mm)),
        (0, round(cut_y)),
        (round(A4_WIDTH - 5 * mm), round(cut_y)),
    }


def test_unknown_layout_or_role_is_refused():
    with pytest.raises(ValueError):
        render_badges([badge()], "letter")
    with pytest.raises(ValueError):
        render_badges([badge(), badge(role="sponsor")])


def test_role_colours_are_distinct_and_readable_under_the_band_text():
    assert set(ROLES) == {"delegate", "speaker", "exhibitor", "staff", "press", "volunteer"}
    colours = {role: LAYOUT.roles[role].colour.hexval() for role in ROLES}
    assert len(set(colours.values())) == len(ROLES)

    def luminance(colour) -> float:
        channels = [colour.red, colour.green, colour.blue]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    text = luminance(LAYOUT.band_text)
    for role in ROLES:
        contrast = (text + 0.05) / (luminance(LAYOUT.roles[role].colour) + 0.05)
        assert contrast >= 4.5, (role, colours[role], contrast)


@pytest.mark.parametrize("role", ROLES)
def test_role_is_printed_in_capitals(role):
    assert role.upper() in page_text(render_badges([badge(role=role)]).pdf)


def test_the_event_is_named_above_the_band():
    found = spans(render_badges([badge()]).pdf)
    (event,) = [span for span in found if span[4] == EVENT]
    (band,) = [span for span in found if span[4] == "DELEGATE"]
    assert event[2] > band[2]


# --- the text ------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "family"), NAMES)
def test_names_print_exactly(given, family):
    rendered = render_badges([badge(given_name=given, family_name=family)])
    lines = [line.strip() for line in page_text(rendered.pdf).splitlines()]
    assert given in lines
    assert family in lines
    assert rendered.missing_glyphs == {}


def test_empty_family_name_prints_the_given_name_alone():
    pdf = render_badges([badge(given_name="Mx Rain", family_name="")]).pdf
    assert "Mx Rain" in [line.strip() for line in page_text(pdf).splitlines()]


def test_text_is_normalised_to_nfc():
    decomposed = badge(
        given_name=unicodedata.normalize("NFD", "Łukasz"),
        family_name=unicodedata.normalize("NFD", "Żółć"),
        organisation=unicodedata.normalize("NFD", "Muzeum Fryderyka Chopina"),
    )
    assert decomposed.family_name != "Żółć"
    text = page_text(render_badges([decomposed]).pdf)
    assert "Łukasz" in text
    assert "Żółć" in text


def test_pronouns_only_when_given():
    assert "she/her" in page_text(render_badges([badge(pronouns="she/her")]).pdf)
    text = page_text(render_badges([badge(pronouns=None)]).pdf)
    assert "/" not in text
    assert [line.strip() for line in text.splitlines() if line.strip()] == [
        EVENT,
        "DELEGATE",
        "Łukasz",
        "Żółć",
        "Copernicus Science Centre",
        "Poland",
    ]


def test_organisation_and_country_name():
    text = page_text(render_badges([badge(organisation="Experimentarium", country="DK")]).pdf)
    assert "Experimentarium" in text
    assert "Denmark" in text


def test_kosovo():
    assert "Kosovo" in page_text(render_badges([badge(country="XK")]).pdf)


@pytest.mark.parametrize("name", ["Łukasz Żółć", "Борис Іваненко"])
def test_every_font_is_embedded(name):
    given, family = name.split()
    pdf = render_badges([badge(given_name=given, family_name=family)], "a4").pdf
    fonts = []
    for ref in reader(pdf).pages[0]["/Resources"]["/Font"].values():
        font = ref.get_object()
        if font["/Subtype"] == "/Type0":
            fonts.extend(d.get_object() for d in font["/DescendantFonts"])
        else:
            fonts.append(font)
    assert fonts
    for font in fonts:
        assert "/FontDescriptor" in font, font.get("/BaseFont")
        assert "/FontFile2" in font["/FontDescriptor"].get_object(), font.get("/BaseFont")


# --- everything inside the badge ------------------------------------------------------------


LONG_BADGES = [
    {"given_name": LONG_NAME, "family_name": "", "organisation": LONG_ORGANISATION},
    {
        "given_name": LONG_NAME[:48],
        "family_name": LONG_NAME[49:],
        "pronouns": "they/them",
        "organisation": LONG_ORGANISATION,
    },
    {
        "given_name": "Wolfeschlegelsteinhausenbergerdorff" * 2,
        "family_name": "Ørsted-" * 8,
        "organisation": "X" * 120,
        "country": "CD",
    },
    {  # the most lines: the given and the family name each on two lines at full size
        "given_name": "Maria Fernanda de los Ángeles Santísima",
        "family_name": "Trinidad Ñúñez-Öberg Brzęczyszczykiewicz",
        "pronouns": "they/them",
        "organisation": LONG_ORGANISATION,
    },
]


def assert_inside(found, left, bottom, right, top):
    """Every span lies inside the box, and no two spans overlap."""
    for start, end, y, size, text in found:
        assert left <= start and end <= right, (text, start, end, left, right)
        assert bottom <= y - 0.25 * size and y + size <= top, (text, y, bottom, top)
    for index, (start, end, y, size, text) in enumerate(found):
        for other_start, other_end, other_y, other_size, other in found[index + 1 :]:
            apart_x = end <= other_start or other_end <= start
            # glyphs reach from about 0.2 em below the baseline to 0.75 em above it
            apart_y = y + 0.75 * size <= other_y - 0.2 * other_size or (
                other_y + 0.75 * other_size <= y - 0.2 * size
            )
            assert apart_x or apart_y, (text, other)


@pytest.mark.parametrize("changes", LONG_BADGES)
def test_long_text_stays_inside_an_a6_badge(changes):
    assert len(LONG_NAME) == 60
    assert len(LONG_ORGANISATION) == 120
    pdf = render_badges([badge(**changes)]).pdf
    found = spans(pdf)
    assert_inside(found, 0, 0, *A6)
    text = "".join(text for *_, text in found)
    for part in (changes["given_name"], changes["family_name"], changes["organisation"]):
        assert part.replace(" ", "") in text.replace(" ", "")


@pytest.mark.parametrize("changes", LONG_BADGES)
def test_long_text_stays_inside_each_quarter_of_an_a4_sheet(changes):
    pdf = render_badges([badge(n, **changes) for n in range(4)], "a4").pdf
    found = spans(pdf)
    for index, (left, bottom, right, top) in enumerate(QUADRANTS):
        mine = [span for span in found if quadrant_of(span[0], span[2]) == index]
        assert any(text == "DELEGATE" for *_, text in mine)
        assert_inside(mine, left, bottom, right, top)


def test_long_names_are_printed_large_enough():
    found = spans(render_badges([badge(given_name=LONG_NAME, family_name="")]).pdf)
    name_sizes = [size for *_, size, text in found if text in LONG_NAME]
    assert len(name_sizes) == 2  # wrapped onto two lines
    assert min(name_sizes) >= 14


# --- QR codes -------------------------------------------------------------------------------


def test_qr_code_on_an_a6_badge_scans():
    payload = token(42)
    codes = decoded_qr_codes(render_badges([badge(qr_payload=payload)]).pdf)
    assert [text for *_, text in codes] == [payload]


def test_qr_codes_on_an_a4_sheet_scan_in_order():
    badges = [badge(n) for n in range(4)]
    codes = decoded_qr_codes(render_badges(badges, "a4").pdf)
    assert len(codes) == 4
    by_quadrant = {quadrant_of(x, y): text for x, y, text in codes}
    assert by_quadrant == {index: b.qr_payload for index, b in enumerate(badges)}


def test_qr_code_sits_at_the_bottom_about_30_mm_wide():
    reader_pdf = render_badges([badge()]).pdf
    image = pdfium.PdfDocument(reader_pdf)[0].render(scale=4).to_pil()
    (code,) = zxingcpp.read_barcodes(image)
    width = (code.position.top_right.x - code.position.top_left.x) / 4 / mm
    assert 26 <= width <= 34
    assert code.position.bottom_left.y / 4 > A6[1] / 2


# --- many ---------------------------------------------------------------------------------------


def test_renders_a_hundred_badges_on_a4():
    badges = [
        badge(
            n, given_name=NAMES[n % 5][0], family_name=NAMES[n % 5][1], role=ROLES[n % len(ROLES)]
        )
        for n in range(100)
    ]
    rendered = render_badges(badges, "a4")
    doc = reader(rendered.pdf)
    assert len(doc.pages) == 25
    assert rendered.missing_glyphs == {}
    assert "Öztürk" in doc.pages[24].extract_text()
