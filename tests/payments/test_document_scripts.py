"""Invoices, credit notes and receipts print a buyer's name, organisation and address in every
script the brief lists: the letters are in the PDF's text (after Unicode normalisation;
letters HarfBuzz fuses into one glyph aside), their glyphs have ink where the PDF puts them,
Arabic is joined and reads right to left."""

import io
import unicodedata
from dataclasses import replace

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from services.payments.documents import Party, render_document
from services.payments.receipts import render_receipt
from tests.payments.test_documents import BUYER, make_credit_note, make_invoice
from tests.payments.test_receipts import make_receipt
from tests.printed import SCRIPTS, assert_inked, fused_letters


def drawn(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return unicodedata.normalize("NFKC", text)


def assert_printed(pdf: bytes, *texts: str) -> None:
    shown = drawn(pdf)
    for text in texts:
        for word in text.split():
            letters = {c for c in word if unicodedata.category(c)[0] == "L"}
            assert letters - set(shown) <= fused_letters(word), word


def buyer(given: str, family: str, organisation: str) -> Party:
    return replace(BUYER, name=f"{given} {family}", organisation=organisation,
                   address=f"{organisation}\n{family} 12")


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_invoice_and_credit_note_print_every_script(script, given, family, organisation):
    line = f"Full conference ticket: {given} {family}"
    for document in (make_invoice, make_credit_note):
        made = document(buyer=buyer(given, family, organisation))
        made = replace(made, lines=(replace(made.lines[0], description=line), *made.lines[1:]))
        pdf = render_document(made)
        assert_printed(pdf, given, family, organisation)
        assert_inked(pdf, given, family, organisation)


@pytest.mark.parametrize(("script", "given", "family", "organisation"), SCRIPTS,
                         ids=[script for script, *_ in SCRIPTS])
def test_receipt_prints_every_script(script, given, family, organisation):
    pdf = render_receipt(make_receipt(buyer_name=f"{given} {family}", organisation=organisation))
    assert_printed(pdf, given, family, organisation)


def test_an_arabic_buyer_reads_right_to_left_on_the_invoice():
    pdf = render_document(make_invoice(buyer=buyer("فاطمة", "الأحمد", "متحف العلوم")))
    text = pdfium.PdfDocument(pdf)[0].get_textpage()
    boxes = {}
    for index in range(text.count_chars()):
        boxes.setdefault(text.get_text_range(index, 1), text.get_charbox(index)[0])
    assert boxes["ط"] > boxes["ة"]  # فاطمة: its first letters on the right
    raw = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert any(0xFE70 <= ord(c) <= 0xFEFF for c in raw)  # joined forms
