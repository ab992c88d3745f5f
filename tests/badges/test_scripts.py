"""Every script the brief lists prints on a badge, checked from the PDF itself: every letter
of the name is drawn (the text in the PDF, after Unicode normalisation, has the name's
letters; letters HarfBuzz fused into one glyph are in glyphs with ink), its glyphs have ink
where the PDF puts them, Arabic letters are joined and run right to left, and the QR code
(a real ticket token) still decodes."""

import io
import unicodedata

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from services.badges import rendering
from services.badges.rendering import LAYOUT, BadgeData, render_badges
from shared import typesetting
from shared.auth import ticket_token
from tests.printed import SCRIPTS, assert_inked, fused_letters

TOKEN = ticket_token("test-secret", "6f1c2a7e-4b9d-4c1e-9a3f-000000000042")  # as printed
ARABIC_PRESENTATION_FORMS = [(0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]


def badge(given: str, family: str, organisation: str, **changes) -> BadgeData:
    fields = dict(registration_id="reg-1", given_name=given, family_name=family,
                  pronouns=None, organisation=organisation, country="FR", role="delegate",
                  qr_payload=TOKEN)
    return BadgeData(**{**fields, **changes})


def shows(pdf: bytes) -> list[tuple[float, float, str]]:
    """(x, y, text) of every text-showing operation on the first page, in drawing order."""
    found = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() and font_dict is not None:
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], text))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_every_letter_of_the_name_is_drawn(script, given, family, organisation):
    rendered = render_badges([badge(given, family, organisation)])
    assert rendered.missing_glyphs == {}
    drawn = unicodedata.normalize("NFKC", "".join(text for *_, text in shows(rendered.pdf)))
    for word in (given, family, *organisation.split()):
        letters = {c for c in word if unicodedata.category(c)[0] == "L"}
        assert letters - set(drawn) <= fused_letters(word), (script, word)


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_the_name_has_ink_where_it_is_printed(script, given, family, organisation):
    assert_inked(render_badges([badge(given, family, organisation)]).pdf,
                 given, family, organisation)


def placed(pdf: bytes) -> list[tuple[str, float, float]]:
    """(character, left, bottom) of every character pdfium finds on the first page, in the
    text's logical order (presentation forms decomposed to letters)."""
    text = pdfium.PdfDocument(pdf)[0].get_textpage()
    found = []
    for index in range(text.count_chars()):
        left, bottom, *_ = text.get_charbox(index)
        found.append((text.get_text_range(index, 1), left, bottom))
    return found


def x_of(found, char: str, bottom: float | None = None) -> float:
    (x,) = [x for c, x, y in found if c == char and (bottom is None or abs(y - bottom) < 4)]
    return x


def test_arabic_is_joined_and_runs_right_to_left():
    pdf = render_badges([badge("فاطمة", "الأحمد", "متحف العلوم")]).pdf
    drawn = "".join(text for *_, text in shows(pdf))
    assert any(low <= ord(c) <= high for c in drawn for low, high in ARABIC_PRESENTATION_FORMS)
    found = placed(pdf)
    # each word from right to left: its first letter on the right
    assert x_of(found, "ط") > x_of(found, "ة")
    # and the first word of a line stands to the right of the second
    assert x_of(found, "ت") > x_of(found, "ع")


def test_hebrew_runs_right_to_left():
    found = placed(render_badges([badge("נועה", "כהן", "מוזיאון המדע")]).pdf)
    (line,) = [y for c, _, y in found if c == "נ"]
    assert x_of(found, "נ") > x_of(found, "ו", line) > x_of(found, "ע", line)
    assert x_of(found, "ז") > x_of(found, "ד")


def test_a_latin_organisation_beside_an_arabic_name_reads_in_order():
    found = placed(render_badges([badge("فاطمة", "الأحمد", "متحف العلوم (Science Museum)")]).pdf)
    # right to left as a whole: the Arabic words on the right, the Latin ones to their left,
    # themselves left to right
    assert x_of(found, "S") < x_of(found, "M") < x_of(found, "ع") < x_of(found, "ت")


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_qr_code_still_decodes(script, given, family, organisation):
    pdf = render_badges([badge(given, family, organisation)]).pdf
    image = pdfium.PdfDocument(pdf)[0].render(scale=4).to_pil()
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [TOKEN]


def test_family_name_first_when_the_delegate_asks():
    found = placed(render_badges([badge("小明", "王", "中国科学技术馆",
                                        name_order="family_first")]).pdf)
    y_of = {char: y for char, _, y in found}
    assert y_of["王"] > y_of["小"]  # higher on the page: read first
    found = placed(render_badges([badge("Ana", "Silva", "Ciência Viva")]).pdf)
    y_of = {char: y for char, _, y in found}
    assert y_of["A"] > y_of["S"]


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_long_names_in_any_script_fit_the_badge(script, given, family, organisation):
    long_name = " ".join([given, family] * 2)
    block = rendering._block(long_name, LAYOUT.name, LAYOUT.content_width)
    assert block.size >= LAYOUT.name.min_size * 0.75  # smaller only if nothing else fits
    for line in block.lines:
        assert typesetting.layout(line, True).width_at(block.size) <= LAYOUT.content_width
    left_edges = [x for x, _, _ in shows(render_badges([badge(long_name, "", organisation)]).pdf)]
    assert min(left_edges) >= LAYOUT.margin - 0.5


def test_a_character_no_font_has_is_reported():
    rendered = render_badges([badge("Anna", "\U0001F9EA Lab", "Ecsite")])  # a test tube emoji
    assert rendered.missing_glyphs == {"reg-1": "\U0001F9EA"}
