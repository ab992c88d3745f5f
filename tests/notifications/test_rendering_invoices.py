"""The emails about paying by invoice and about documents: amounts, due dates in the
conference's time zone, RF references in groups of four, and why a credit note is."""

import pytest

from services.notifications.rendering import format_day, in_groups, render
from services.notifications.sending import payment_terms
from tests.notifications import samples
from tests.notifications.test_rendering import RF_PRINTED, context_of


@pytest.mark.parametrize("kind", ["invoice", "invoice_reminder", "transfer_received"])
def test_the_rf_reference_is_printed_in_groups_of_four(kind):
    rendered = render(kind, context_of(kind))

    for part in (rendered.text, rendered.html):
        assert RF_PRINTED in part and samples.RF not in part


def test_the_invoice_says_amount_due_date_reference_and_where_the_bank_details_are():
    rendered = render("invoice", context_of("invoice"))

    assert rendered.subject == f"Invoice {samples.INVOICE_NUMBER} for order ECS27-O-4F2K8P"
    assert "Amount due: EUR 1,180.00 (VAT included)" in rendered.text
    assert "Due date: 15 March 2027" in rendered.text
    assert f"Payment reference: {RF_PRINTED}" in rendered.text
    assert "The bank details are on the attached invoice" in rendered.text
    assert "IBAN: BE71 0961 2345 6769" in rendered.text and "BIC: GKCCBEBB" in rendered.text
    assert "replaces" not in rendered.text


def test_a_corrected_invoice_says_it_replaces_the_earlier_one():
    unpaid = render("invoice", context_of("invoice", reason="billing_corrected",
                                          number="ECS27-I-000013"))
    named = render("invoice", context_of("invoice", reason="billing_corrected",
                                         invoice_number=samples.INVOICE_NUMBER))

    assert unpaid.subject.startswith("Corrected invoice ECS27-I-000013")
    assert "replaces the invoice we sent you before" in unpaid.text
    assert "replaces the invoice we sent you before" in unpaid.html
    assert RF_PRINTED in unpaid.text and "15 March 2027" in unpaid.text
    assert f"replaces invoice {samples.INVOICE_NUMBER}" in named.text


def test_a_corrected_invoice_already_paid_asks_for_nothing():
    rendered = render("invoice", context_of("invoice", reason="billing_corrected", paid=True,
                                            payment_reference=None, due_on=None))

    assert "already paid: there is nothing more to pay" in rendered.text
    for part in (rendered.text, rendered.html):
        assert "Amount due" not in part and "RF" not in part and "IBAN" not in part


def test_without_an_invoice_due_date_the_hold_s_end_is_read_in_the_conference_s_zone():
    # 23:30 UTC on 15 March is 01:30 on 16 March in Tampere (Europe/Helsinki, UTC+2).
    order = samples.invoice_order(hold_expires_at="2027-03-15T23:30:00+00:00")

    terms = payment_terms(order, samples.invoice(due_on=None), received=0)
    rendered = render("invoice_reminder", context_of(
        "invoice_reminder", order=order, invoice=samples.invoice(due_on=None)))

    assert terms["due_on"] == "2027-03-16"
    assert "Due date: 16 March 2027" in rendered.text
    assert rendered.subject.endswith("is due on 16 March 2027")


def test_a_reminder_asks_only_for_what_is_still_due():
    rendered = render("invoice_reminder", context_of("invoice_reminder", received=50000))

    assert "Amount due: EUR 680.00 (VAT included)" in rendered.text
    assert "Received so far: EUR 500.00 of EUR 1,180.00" in rendered.text
    assert "EUR 680.00" in rendered.html and "EUR 500.00 of EUR 1,180.00" in rendered.html


def test_a_part_payment_says_what_came_and_what_is_still_due_by_when():
    rendered = render("transfer_received", context_of("transfer_received"))

    assert rendered.subject == ("Transfer received for order ECS27-O-4F2K8P: EUR 680.00 "
                                "still due")
    assert "on 5 March 2027 we received your bank transfer of EUR 500.00" in rendered.text
    assert "EUR 680.00 is still due by 15 March 2027" in rendered.text
    assert f"quoting the same payment reference: {RF_PRINTED}" in rendered.text


@pytest.mark.parametrize(("reason", "words"), [
    ("refund", "it records the money we have refunded to you"),
    ("cancelled", "the order was cancelled"),
    ("expired", "was not paid by its due date, so the order expired"),
    ("billing_corrected", "A new invoice replaces this one"),
])
def test_a_credit_note_says_what_it_credits_and_why(reason, words):
    rendered = render("credit_note", context_of("credit_note", reason=reason))

    assert rendered.subject == (f"Credit note {samples.CREDIT_NOTE_NUMBER} for order "
                                "ECS27-O-4F2K8P")
    for part in (rendered.text, rendered.html):
        assert words in part
        assert f"invoice {samples.INVOICE_NUMBER}" in part and "EUR 590.00" in part


@pytest.mark.parametrize(("method", "words", "not_said"), [
    ("card", "We have received your payment of EUR 1,180.00.", "bank transfer"),
    ("transfer", "Your bank transfer has reached us: we have received EUR 1,180.00 in total",
     "your payment of"),
])
def test_a_payment_confirmation_says_how_the_money_came(method, words, not_said):
    rendered = render("payment_confirmed", context_of("payment_confirmed", method=method))

    assert words in rendered.text
    assert not_said not in rendered.text + rendered.html


def test_a_payment_confirmation_names_the_invoices_it_carries():
    attached = ({"kind": "receipt", "number": None, "filename": "receipt.pdf"},
                {"kind": "invoice", "number": samples.INVOICE_NUMBER, "filename": "i.pdf"})

    one = render("payment_confirmed", context_of("payment_confirmed", documents=attached))
    none = render("payment_confirmed", context_of("payment_confirmed"))

    assert (f"Your receipt is attached to this email as a PDF, with your invoice "
            f"{samples.INVOICE_NUMBER}.") in one.text
    assert "Your receipt is attached to this email as a PDF. Each" in none.text


def test_money_paid_by_transfer_goes_back_by_transfer():
    refunded = render("refunded", context_of("refunded", method="transfer",
                                             payment_intent_id=None))
    cancelled = render("order_cancelled", context_of(
        "order_cancelled", order=samples.invoice_order(), refund_due=8850))

    assert "by bank transfer, to the account your payment came from" in refunded.text
    assert "card" not in refunded.text + refunded.html
    assert "is on its way to the account you paid from" in cancelled.text
    assert "card" not in cancelled.text + cancelled.html


@pytest.mark.parametrize(("code", "printed"), [
    ("RF18539007547034", "RF18 5390 0754 7034"),
    ("rf18 5390 0754 7034", "RF18 5390 0754 7034"),
    ("RF7112345", "RF71 1234 5"),
    (None, ""),
])
def test_in_groups(code, printed):
    assert in_groups(code) == printed


@pytest.mark.parametrize(("day", "printed"), [
    ("2027-03-15", "15 March 2027"), ("2027-12-01T10:00:00+00:00", "1 December 2027")])
def test_format_day(day, printed):
    assert format_day(day) == printed
