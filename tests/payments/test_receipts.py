"""Receipt PDFs: content, embedded fonts, names in any script, one A4 page, nothing off-page."""

import io
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from services.payments.pdf import FONT_BOLD, FONT_REGULAR
from services.payments.receipts import Receipt, ReceiptLine, render_receipt
from shared.money import format_money

NAMES = [
    "Łukasz Żółć",
    "Αλέξανδρος Παπαδόπουλος",
    "Борис Іваненко",
    "Søren Ørsted",
    "Çağlar Öztürk",
]


def make_receipt(**changes) -> Receipt:
    receipt = Receipt(
        number="ECS27-R-000042",
        issued_at=datetime(2027, 3, 2, 9, 15, tzinfo=UTC),
        conference_name="Ecsite Annual Conference 2027",
        organiser_name="Ecsite AISBL",
        organiser_address="Avenue Louise 89/7\n1050 Brussels\nBelgium",
        organiser_vat_number="BE0456567898",
        buyer_name="Łukasz Żółć",
        organisation="Copernicus Science Centre",
        email="lukasz@example.org",
        order_reference="ECS27-7KQ3M9",
        lines=(
            ReceiptLine("Full conference ticket (member)", 59000),
            ReceiptLine("Gala dinner", 9500),
            ReceiptLine("Discount code WELCOME15", -8850),
        ),
        currency="EUR",
        vat_rate_percent="25.5",
        vat_amount=12023,
        total=59650,
        payment_reference="pi_3PqXyZ2eZvKYlo2C1aBcDeFg",
    )
    return replace(receipt, **changes)


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return reader(pdf).pages[0].extract_text()


def lines_of(pdf: bytes) -> list[str]:
    return [line.strip() for line in text_of(pdf).splitlines()]


# --- the document -----------------------------------------------------------------------


def test_is_a_one_page_a4_pdf_with_title():
    pdf = render_receipt(make_receipt())
    assert pdf.startswith(b"%PDF")
    doc = reader(pdf)
    assert len(doc.pages) == 1
    box = doc.pages[0].mediabox
    assert float(box.width) == pytest.approx(595.28, abs=0.5)
    assert float(box.height) == pytest.approx(841.89, abs=0.5)
    assert doc.metadata.title == "Receipt ECS27-R-000042"


def test_shows_number_references_and_parties():
    text = text_of(render_receipt(make_receipt()))
    for expected in [
        "Ecsite Annual Conference 2027",
        "Receipt",
        "ECS27-R-000042",
        "2027-03-02",
        "Ecsite AISBL",
        "Avenue Louise 89/7",
        "1050 Brussels",
        "VAT number: BE0456567898",
        "Copernicus Science Centre",
        "lukasz@example.org",
        "ECS27-7KQ3M9",
        "pi_3PqXyZ2eZvKYlo2C1aBcDeFg",
        "Paid by card. Thank you.",
    ]:
        assert expected in text, expected


def test_date_is_printed_in_utc():
    # 00:30 in Helsinki on 1 March is still 28 February in UTC
    helsinki = timezone(timedelta(hours=2))
    receipt = make_receipt(issued_at=datetime(2027, 3, 1, 0, 30, tzinfo=helsinki))
    text = text_of(render_receipt(receipt))
    assert "2027-02-28" in text
    assert "2027-03-01" not in text


@pytest.mark.parametrize("name", NAMES)
def test_buyer_name_prints_exactly(name):
    lines = lines_of(render_receipt(make_receipt(buyer_name=name)))
    assert name in lines


@pytest.mark.parametrize("name", NAMES)
def test_fonts_have_glyphs_for_every_name(name):
    # A missing glyph would still extract correctly (ToUnicode) but print as a box.
    for font_name in (FONT_REGULAR, FONT_BOLD):
        face = pdfmetrics.getFont(font_name).face
        missing = [c for c in name if ord(c) not in face.charToGlyph]
        assert missing == [], (font_name, missing)


def test_decomposed_text_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Łukasz Żółć")
    assert decomposed != "Łukasz Żółć"
    lines = lines_of(render_receipt(make_receipt(buyer_name=decomposed)))
    assert "Łukasz Żółć" in lines


def test_markup_characters_are_printed_literally():
    receipt = make_receipt(organisation="Science <Museum> & Co")
    assert "Science <Museum> & Co" in text_of(render_receipt(receipt))


def test_lines_and_totals():
    receipt = make_receipt()
    text = text_of(render_receipt(receipt))
    for line in receipt.lines:
        assert line.description in text
        assert format_money(line.amount, "EUR") in text
    assert "-EUR 88.50" in text
    assert "Total (VAT included)" in text
    assert format_money(receipt.total, "EUR") in text
    assert "of which VAT 25.5%" in text
    assert format_money(receipt.vat_amount, "EUR") in text


def test_optional_billing_fields_absent_when_not_given():
    text = text_of(render_receipt(make_receipt()))
    assert "Purchase order" not in text
    assert text.count("VAT number") == 1  # the organiser's only
    assert "Wybrzeże" not in text


def test_optional_billing_fields_shown_when_given():
    receipt = make_receipt(
        billing_address="Wybrzeże Kościuszkowskie 20\n00-390 Warszawa\nPoland",
        vat_number="PL5252460367",
        purchase_order="PO-2027-0113",
    )
    lines = lines_of(render_receipt(receipt))
    # each line of the address on its own line
    assert "Wybrzeże Kościuszkowskie 20" in lines
    assert "00-390 Warszawa" in lines
    assert "Poland" in lines
    assert "VAT number: PL5252460367" in lines
    assert "Purchase order: PO-2027-0113" in lines


def test_an_issued_receipt_shows_no_refunds():
    # a refund is a credit note's business: the receipt stays as it was issued
    assert "amount_refunded" not in Receipt.__dataclass_fields__
    text = text_of(render_receipt(make_receipt()))
    assert "Refunded" not in text
    assert "Net paid" not in text


def _fonts(page) -> list:
    fonts = []
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        if font["/Subtype"] == "/Type0":
            fonts.extend(d.get_object() for d in font["/DescendantFonts"])
        else:
            fonts.append(font)
    return fonts


@pytest.mark.parametrize("name", NAMES)
def test_every_font_is_embedded(name):
    page = reader(render_receipt(make_receipt(buyer_name=name))).pages[0]
    fonts = _fonts(page)
    assert fonts
    for font in fonts:
        assert "/FontDescriptor" in font, font.get("/BaseFont")
        assert "/FontFile2" in font["/FontDescriptor"].get_object(), font.get("/BaseFont")


def _text_spans(pdf: bytes) -> tuple[float, list[tuple[float, float, str]]]:
    """(page width, [(x start, x end, text)]) for every piece of text drawn on the page."""
    page = reader(pdf).pages[0]
    spans = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip() or font_dict is None:
            return
        base = str(font_dict.get("/BaseFont", ""))
        font_name = FONT_BOLD if "Bold" in base else FONT_REGULAR
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        scale = tm[0] * cm[0]
        width = pdfmetrics.stringWidth(text.rstrip("\n"), font_name, font_size) * scale
        spans.append((x, x + width, text))

    page.extract_text(visitor_text=visit)
    return float(page.mediabox.width), spans


@pytest.mark.parametrize(
    "description",
    [
        ("Pre-conference workshop on inclusive exhibition design " * 4)[:200],
        "W" * 200,  # no spaces to break at
    ],
)
def test_long_description_wraps_inside_the_page(description):
    assert len(description) == 200
    receipt = make_receipt(lines=(ReceiptLine(description, 12000), *make_receipt().lines))
    pdf = render_receipt(receipt)
    assert len(reader(pdf).pages) == 1
    page_width, spans = _text_spans(pdf)
    assert spans
    for start, end, text in spans:
        assert 0 <= start <= page_width, text
        assert end <= page_width, text
    # the description wrapped onto several lines rather than being cut
    text = text_of(pdf).replace("\n", "")
    assert description.replace(" ", "") in text.replace(" ", "")
    assert "EUR 120.00" in text


def test_many_lines_still_fit_on_one_page():
    lines = tuple(ReceiptLine(f"Study visit number {i}", 2500) for i in range(60))
    pdf = render_receipt(make_receipt(lines=lines))
    assert len(reader(pdf).pages) == 1
    text = text_of(pdf)
    assert "Study visit number 59" in text
    assert "Paid by card. Thank you." in text


def test_renders_fast():
    receipt = make_receipt(
        billing_address="Wybrzeże Kościuszkowskie 20\n00-390 Warszawa",
    )
    render_receipt(receipt)  # warm up
    start = time.perf_counter()
    for _ in range(5):
        render_receipt(receipt)
    assert (time.perf_counter() - start) / 5 < 0.1
