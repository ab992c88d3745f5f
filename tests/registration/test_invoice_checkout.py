"""Paying by invoice from the booking page, in a real browser (tests/registration/
browser.py): a group of two books by invoice, and the order's page shows how to transfer
the money and, once payments has issued it, the invoice among the order's documents.
Registration, payments and notifications as the money desk's tests run them."""

import re

from tests.conftest import FINANCE_TOKEN
from tests.registration.test_money_desk import browse, desk  # noqa: F401 - fixtures
from tests.registration.test_pages import FINANCE, GREEK, euro, price_of

AS_FINANCE = {"Authorization": f"Bearer {FINANCE_TOKEN}"}

TEAM = [
    {"given_name": "Ingrid", "family_name": "Ødegård", "organisation": "Vitensenteret",
     "country": "NO", "email": "ingrid@vitensenteret.example", "ticket_type": "full",
     "add_ons": ["gala-dinner"]},
    {"given_name": "Björn", "family_name": "Åkesson", "email": "bjorn@vitensenteret.example",
     "ticket_type": "day-friday", "add_ons": []},
]


def test_a_group_of_two_books_paying_by_invoice(desk, browse):  # noqa: F811
    api = desk.registration
    conference = api.get("/api/catalog").json()["conference"]
    amount = sum(price_of(api, person) for person in TEAM)
    seen = browse("invoice_booking", desk, delegates=TEAM, buyer=FINANCE)

    assert conference["payment_methods"] == ["card", "invoice"]
    assert seen["invoice_choice"] == "Pay by invoice (bank transfer within 14 days)"
    assert "(optional)" in seen["billing_label_by_card"]
    assert "(required)" in seen["billing_label_by_invoice"]
    assert seen["unlabelled"] == []
    assert seen["register_axe"] == []
    # Straight to the order's page: no card form, and payments never asked for one.
    assert re.search(r"/orders/[0-9a-f-]{36}$", seen["order_url"])
    assert not seen["card_form_visible"] and not seen["payment_visible"]
    assert seen["payment_asked"] == []
    assert seen["order-status"] == "Awaiting payment"
    order_id = seen["order_url"].rsplit("/", 1)[1]
    order = api.get(f"/api/admin/orders/{order_id}", headers=AS_FINANCE).json()
    invoice = order["invoice"]
    assert order["payment_method"] == "invoice" and order["amount_due"] == amount
    assert len(order["delegates"]) == 2
    assert order["buyer"]["billing_address"] == FINANCE["billing_address"]
    assert seen["transfer-amount"] == euro(amount)
    due = invoice["due_on"]
    assert seen["due-on"] == f"{int(due[8:])} {MONTHS[int(due[5:7]) - 1]} {due[:4]}"
    assert seen["transfer-intro"].startswith(f"Please transfer {euro(amount)} by {seen['due-on']}")
    reference = invoice["payment_reference"]
    assert reference.startswith("RF")
    assert seen["payment-reference"] == " ".join(
        reference[i:i + 4] for i in range(0, len(reference), 4))
    assert seen["account-holder"] == invoice["bank"]["account_holder"] == "Ecsite AISBL"
    assert seen["iban"] == "BE71 0961 2345 6769"
    assert (seen["bic"], seen["bank-name"]) == ("GKCCBEBB", "Belfius Bank")
    assert seen["invoice-number"] == invoice["invoice_number"]
    assert seen["invoice-status"] == (
        f"Invoice {invoice['invoice_number']} is issued: download it from the documents below.")
    [listed] = seen["documents"]
    assert listed.startswith(f"Invoice {invoice['invoice_number']}") and euro(amount) in listed
    assert seen["order_axe"] == []
    assert seen["invoice_pdf"] == {"filename": f"{invoice['invoice_number']}.pdf",
                                   "start": "%PDF-"}


def test_paying_by_invoice_needs_the_billing_address(desk, browse):  # noqa: F811
    seen = browse("invoice_without_billing_address", desk, delegate=GREEK,
                  billing_address="Leof. Andrea Syngrou 387, 175 64 Athens")

    message = "Enter the billing address: it is printed on the invoice."
    assert seen["page_errors"] == {"buyer-billing_address-error": message}
    assert seen["page_summary"] == [message]
    assert seen["focused"] == "buyer-billing_address"
    assert seen["invalid"] == "true"
    assert "buyer-billing_address-error" in seen["described_by"]
    # The server refuses an invoice order without the address, by the same field.
    [answer] = seen["server_answers"]
    assert answer["status"] == 422
    assert answer["body"]["error"]["code"] == "billing_address_required"
    assert answer["body"]["error"]["field"] == "buyer.billing_address"
    assert seen["server_errors"] == {
        "buyer-billing_address-error": answer["body"]["error"]["message"]}
    assert seen["server_focused"] == "buyer-billing_address"
    assert desk.registration.get("/api/admin/orders", headers=AS_FINANCE).json()["total"] == 0


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
