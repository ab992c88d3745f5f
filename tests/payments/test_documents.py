"""Invoices and credit notes: VAT per line, and everything the law asks for on the PDF."""

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from services.payments import rf
from services.payments.documents import (
    BankAccount,
    Document,
    DocumentLine,
    Party,
    line,
    render_document,
    vat_split,
)
from services.payments.pdf import FONT_BOLD, FONT_REGULAR
from shared.money import format_money

RATE = Decimal("25.5")

SUPPLIER = Party(
    name="Ecsite AISBL",
    organisation=None,
    address="Avenue Louise 89/7\n1050 Brussels",
    country="Belgium",
    vat_number="BE0456567898",
)
BUYER = Party(
    name="Zofia Wiśniewska-Łącka",
    organisation="Copernicus Science Centre",
    address="Wybrzeże Kościuszkowskie 20\n00-390 Warszawa",
    country="Poland",
    vat_number="PL5252460367",
)
BANK = BankAccount(
    account_holder="Ecsite AISBL",
    iban="BE71096123456769",
    bic="GKCCBEBB",
    bank_name="Belfius Banque",
)


def make_invoice(**changes) -> Document:
    invoice = Document(
        kind="invoice",
        number="ECS27-I-000012",
        issued_on=date(2027, 1, 10),
        supplied="10–12 June 2027",
        supplier=SUPPLIER,
        buyer=BUYER,
        conference_name="Ecsite Annual Conference 2027",
        order_reference="ECS27-7KQ3M9",
        purchase_order="PO-2027-0113",
        lines=(
            line("Full conference ticket (member): Zofia Wiśniewska-Łącka", 59000, RATE),
            line("Gala dinner", 9500, RATE),
            line("Discount code WELCOME15", -8850, RATE),
        ),
        vat_rate_percent=RATE,
        currency="EUR",
        payment_reference=rf.for_order("ECS27-7KQ3M9"),
        due_on=date(2027, 1, 24),
        bank=BANK,
        paid_note=None,
        credits=None,
        reason=None,
    )
    return replace(invoice, **changes)


def make_paid_invoice(**changes) -> Document:
    return make_invoice(
        payment_reference=None, due_on=None, bank=None,
        paid_note="Paid by card on 2027-01-10 (pi_3PqXyZ2eZvKYlo2C)", **changes,
    )


def make_credit_note(**changes) -> Document:
    return make_invoice(
        kind="credit_note", number="ECS27-C-000003", issued_on=date(2027, 2, 1),
        payment_reference=None, due_on=None, bank=None,
        credits="ECS27-I-000012 of 10 January 2027", reason="Order cancelled", **changes,
    )


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    return "\n".join(pages_of(pdf))


def lines_of(pdf: bytes) -> list[str]:
    return [each.strip() for each in text_of(pdf).splitlines()]


# --- VAT per line ---------------------------------------------------------------------------


def test_vat_is_worked_out_from_the_gross():
    # 99000 * 100 / 125.5 = 78884.46...: net 78884, VAT 20116
    assert vat_split(99000, RATE) == (78884, 20116)
    assert line("Full ticket", 99000, RATE) == DocumentLine("Full ticket", 99000, 78884, 20116)
    # 59000 / 1.255 = 47011.95...
    assert vat_split(59000, RATE) == (47012, 11988)
    assert vat_split(12100, Decimal("21")) == (10000, 2100)
    assert vat_split(0, RATE) == (0, 0)
    assert vat_split(10000, Decimal("0")) == (10000, 0)


def test_half_a_cent_rounds_away_from_zero_and_a_discount_splits_as_its_price():
    # 1010 * 100 / 101 = 1000 exactly; 5 * 100 / 200 = 2.5 -> 3
    assert vat_split(5, Decimal("100")) == (3, 2)
    assert vat_split(-5, Decimal("100")) == (-3, -2)
    for gross in range(-3000, 3001, 7):
        net, vat = vat_split(gross, RATE)
        assert net + vat == gross
        assert vat_split(-gross, RATE) == (-net, -vat)


def test_totals_are_the_sums_of_the_lines():
    invoice = make_invoice()
    assert invoice.gross == 59650
    assert invoice.net == sum(each.net for each in invoice.lines)
    assert invoice.vat == sum(each.vat for each in invoice.lines)
    assert invoice.net + invoice.vat == invoice.gross
    for each in invoice.lines:
        assert each.net + each.vat == each.gross


# --- the PDF --------------------------------------------------------------------------------


def _assert_common(text: str, lines: list[str], document: Document) -> None:
    for expected in [
        document.number,
        "Date of issue",
        "Date of supply",
        "10–12 June 2027",
        "Ecsite Annual Conference 2027",
        "Ecsite AISBL",
        "Avenue Louise 89/7",
        "1050 Brussels",
        "Belgium",
        "VAT: BE0456567898",
        "Zofia Wiśniewska-Łącka",
        "Copernicus Science Centre",
        "Wybrzeże Kościuszkowskie 20",
        "00-390 Warszawa",
        "Poland",
        "VAT: PL5252460367",
        "ECS27-7KQ3M9",
        "PO-2027-0113",
        "Description",
        "Net",
        "VAT rate",
        "Total net",
        "Total VAT 25.5%",
    ]:
        assert expected in text, expected
    for each in document.lines:
        assert each.description in text.replace("\n", " ")
        for amount in (each.net, each.vat, each.gross):
            assert format_money(amount, "EUR") in lines, (each, amount)
    assert lines.count("25.5%") == len(document.lines)
    for total in (document.net, document.vat, document.gross):
        assert format_money(total, "EUR") in lines, total


def test_unpaid_invoice():
    invoice = make_invoice()
    pdf = render_document(invoice)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Invoice ECS27-I-000012"
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.28, 841.89), abs=0.5)
    text, lines = text_of(pdf), lines_of(pdf)
    _assert_common(text, lines, invoice)
    assert "Invoice" in lines
    assert "10 January 2027" in lines
    assert "Gross" in lines
    assert "Total gross" in lines
    assert "EUR 470.12" in lines  # 590.00 / 1.255
    assert "-EUR 88.50" in lines  # the discount
    for expected in [
        "Amount due: EUR 596.50",
        "Due date: 24 January 2027",
        "Reference: RF02 ECS2 77KQ 3M9",
        "Account holder: Ecsite AISBL",
        "IBAN: BE71 0961 2345 6769",
        "BIC: GKCCBEBB",
        "Bank: Belfius Banque",
    ]:
        assert expected in lines, expected
    assert "Paid" not in text
    assert "Page 1 of 1" in text


def test_paid_invoice_says_how_it_was_paid_instead_of_how_to_pay():
    invoice = make_paid_invoice()
    pdf = render_document(invoice)
    text, lines = text_of(pdf), lines_of(pdf)
    _assert_common(text, lines, invoice)
    assert "Paid by card on 2027-01-10 (pi_3PqXyZ2eZvKYlo2C)" in lines
    for absent in ["Amount due", "Reference:", "IBAN", "BIC", "Due date"]:
        assert absent not in text, absent


def test_credit_note():
    note = make_credit_note()
    pdf = render_document(note)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Credit note ECS27-C-000003"
    text, lines = text_of(pdf), lines_of(pdf)
    _assert_common(text, lines, note)
    assert "Credit note" in lines
    assert "1 February 2027" in lines
    assert "Credited" in lines  # the heading of the gross column
    assert "Total credited" in lines
    assert "Credits invoice ECS27-I-000012 of 10 January 2027" in lines
    assert "Reason: Order cancelled" in lines
    assert "Credited: EUR 596.50" in lines
    for absent in ["Amount due", "IBAN", "Total gross"]:
        assert absent not in text, absent


def test_optional_fields_are_left_out_when_not_given():
    invoice = make_paid_invoice(
        purchase_order=None,
        buyer=Party(name="Жанна Иванова"),
    )
    text = text_of(render_document(invoice))
    assert "Purchase order" not in text
    assert "PO-2027" not in text
    assert text.count("VAT:") == 1  # the supplier's
    assert "Жанна Иванова" in text


def test_an_unpaid_invoice_prints_what_it_knows_of_the_payment():
    text = text_of(render_document(make_invoice(bank=None, due_on=None)))
    assert "Amount due: EUR 596.50" in text
    assert "Reference: RF02 ECS2 77KQ 3M9" in text
    assert "IBAN" not in text


@pytest.mark.parametrize(
    "name",
    ["Zofia Wiśniewska-Łącka", "Αλέξανδρος Παπαδόπουλος", "Жанна Иванова", "Søren Ørsted",
     "Çağlar Öztürk"],
)
def test_names_in_latin_greek_and_cyrillic_print(name):
    buyer = replace(BUYER, name=name, organisation=f"{name} Museum")
    lines = lines_of(render_document(make_invoice(buyer=buyer)))
    assert name in lines
    assert f"{name} Museum" in lines


def test_markup_characters_print_literally():
    invoice = make_invoice(buyer=replace(BUYER, organisation="Science <Museum> & Co"))
    assert "Science <Museum> & Co" in text_of(render_document(invoice))


def test_sixty_lines_flow_onto_numbered_pages_without_losing_one():
    lines = tuple(line(f"Study visit number {i}", 2500 + i, RATE) for i in range(60))
    invoice = make_invoice(lines=lines)
    pages = pages_of(render_document(invoice))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Description" in page  # the heading on every page of the table
    text = "\n".join(pages)
    for i in range(60):
        assert text.count(f"Study visit number {i}\n") == 1, i
    assert format_money(invoice.gross, "EUR") in text
    assert "Reference: RF02 ECS2 77KQ 3M9" in pages[-1]


def test_a_long_description_and_address_wrap():
    description = ("Pre-conference workshop on inclusive exhibition design " * 4)[:200]
    address = "Wybrzeże Kościuszkowskie 20, " * 6 + "\n00-390 Warszawa"
    invoice = make_invoice(
        lines=(line(description, 12000, RATE), line("W" * 120, 100, RATE)),
        buyer=replace(BUYER, address=address),
    )
    pdf = render_document(invoice)
    for page in PdfReader(io.BytesIO(pdf)).pages:
        width = float(page.mediabox.width)
        for start, end, text in _text_spans(page):
            assert start >= 0 and end <= width, text
    flat = text_of(pdf).replace("\n", "").replace(" ", "")
    assert description.replace(" ", "") in flat
    assert "W" * 120 in flat
    assert address.replace("\n", "").replace(" ", "") in flat


def _text_spans(page) -> list[tuple[float, float, str]]:
    """(x start, x end, text) of every piece of text drawn on the page."""
    spans = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip() or font_dict is None:
            return
        font = FONT_BOLD if "Bold" in str(font_dict.get("/BaseFont", "")) else FONT_REGULAR
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        width = pdfmetrics.stringWidth(text.rstrip("\n"), font, font_size) * tm[0] * cm[0]
        spans.append((x, x + width, text))

    page.extract_text(visitor_text=visit)
    assert spans
    return spans


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        render_document(make_invoice(kind="receipt"))
