"""The organisers' money desk in a real browser (tests/registration/browser.py): with the
finance token, a transfer recorded, a bank statement imported, part of a card payment
refunded, billing details corrected, an order cancelled; with the admin token, a
complimentary booking. Registration, payments and notifications run on RabbitMQ with
localstripe and an SMTP sink; the pages call payments and notifications from the
registration origin (CORS)."""

import shutil
from datetime import date

import pytest

from tests.conftest import ADMIN_TOKEN, FINANCE_TOKEN, wait_until
from tests.payments.camt_fixtures import statement_xml
from tests.registration.conftest import delegate
from tests.registration.test_pages import SCREENSHOTS, euro, run_browser
from tests.stack import Stack

FINANCE = {"Authorization": f"Bearer {FINANCE_TOKEN}"}
BUYER = {"name": "Ingrid Solberg", "email": "invoices@vitensenteret.example",
         "organisation": "Vitensenteret Trondheim", "country": "NO",
         "billing_address": "Kongens gate 1, 7011 Trondheim", "vat_number": "NO974760673MVA",
         "purchase_order": "PO-4471"}


@pytest.fixture
def desk(stack, mail):  # noqa: F811
    """Registration, payments and notifications (with an SMTP sink), payments and
    notifications answering the registration origin's pages."""
    return stack


@pytest.fixture
def browse(request):
    """Run a browser.py scenario against the registration service; what it saw."""
    shots = SCREENSHOTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)

    def run_scenario(scenario: str, site: Stack, **args) -> dict:
        return run_browser(scenario, site.registration.base_url, args, shots)

    return run_scenario


def book(site, method="invoice", delegates=None, **buyer) -> dict:
    answer = site.registration.post("/api/orders", json={
        "buyer": {**BUYER, **buyer}, "payment_method": method,
        "delegates": delegates or [delegate(email="first@example.org", add_ons=[])]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def invoiced(site, created) -> dict:
    """The order once payments has issued its invoice."""
    return wait_until(lambda: (seen := site.order(created))["invoice"]["invoice_number"]
                      and seen, timeout=15, message="the invoice")


def money(site, order_id) -> dict:
    answer = site.payments.get(f"/api/admin/orders/{order_id}/money", headers=FINANCE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def typed(cents: int) -> str:
    """An amount as a Belgian finance officer types it: "1 380,00"."""
    return f"{cents // 100:,},{cents % 100:02d}".replace(",", " ", cents >= 100_000)


def test_typed_amounts_read_as_euros():
    assert typed(138000) == "1 380,00" and typed(9500) == "95,00"


def test_a_transfer_recorded_at_the_desk_pays_an_invoice_order(desk, browse):
    created = book(desk, delegates=[
        delegate(given_name="Zofia", family_name="Wiśniewska", email="zofia@example.org",
                 add_ons=["gala-dinner"]),
        delegate(given_name="Jan", email="jan@example.org", add_ons=[])])
    order = invoiced(desk, created)
    amount = order["amount_due"]
    seen = browse("desk_transfer", desk, token=FINANCE_TOKEN, reference=order["reference"],
                  typed_amount=typed(amount), received_on="2027-02-03",
                  transfer_reference=order["invoice"]["payment_reference"],
                  payer="Vitensenteret Trondheim")

    # The finance token: orders and money, none of the admin's figures or downloads.
    assert seen["admin_only_visible"] == 0
    assert "finance token" in seen["signed_in_as"]
    assert seen["focused_on_open"] == "detail-heading"
    assert seen["unlabelled"] == []
    assert seen["method"] == "Invoice (bank transfer)"
    assert seen["status_before"] == "Awaiting payment"
    assert seen["money_before"] == {"due": euro(amount), "received": euro(0),
                                    "refunded": euro(0), "outstanding": euro(amount)}
    assert seen["amount_error"] == "Enter an amount in euros, such as 1 380,00 or 1380.00."
    # Asked first; the lost answer is said in the dialog, and confirming again re-sends the
    # same Idempotency-Key: the transfer is recorded once.
    assert seen["focused_in_dialog"] == "confirm-yes"
    assert seen["transfer_question"].startswith("Record this transfer?")
    assert f"{euro(amount)} received on 3 February 2027 for order {order['reference']}" in \
        seen["transfer_question"]
    assert "did not arrive" in seen["lost_answer"]
    assert seen["lost"] == [201]
    assert len(seen["transfer_keys"]) == 2 and len(set(seen["transfer_keys"])) == 1
    assert None not in seen["transfer_keys"]
    assert seen["news"] == f"The transfer of {euro(amount)} is recorded."
    assert seen["money_after"] == {"due": euro(amount), "received": euro(amount),
                                   "refunded": euro(0), "outstanding": euro(0)}
    [transfer] = seen["transfers"]
    assert euro(amount) in transfer and "Matched" in transfer and "Vitensenteret" in transfer
    kinds = [d.split()[0] for d in seen["documents"]]
    assert kinds == ["Invoice", "Receipt"]
    assert seen["axe"] == []
    assert seen["receipt_pdf"]["start"] == "%PDF-"
    # An email sent again: one request however often the button is clicked.
    assert any("Invoice" in row for row in seen["messages"])
    assert "Send this email again? The email “Invoice” of" in seen["resend_question"]
    assert len(seen["resend_keys"]) == 1 and seen["resend_keys"][0]
    assert seen["resend_news"] == "The email is queued to be sent again."

    now = money(desk, created["id"])
    assert len(now["transfers"]) == 1 and now["outstanding"] == 0
    assert desk.order(created)["status"] == "confirmed"


def test_a_statement_pays_an_order_and_an_unknown_transfer_is_dismissed(desk, browse, tmp_path):
    paid = invoiced(desk, book(desk))
    waiting = invoiced(desk, book(desk, delegates=[delegate(email="other@example.org",
                                                            add_ons=[])]))
    statement = tmp_path / "statement.xml"
    statement.write_bytes(statement_xml([
        {"amount_cents": paid["amount_due"], "booked_on": date(2027, 2, 1),
         "debtor_name": "NTNU", "structured_reference": paid["invoice"]["payment_reference"]},
        {"amount_cents": 45000, "booked_on": date(2027, 2, 2), "debtor_name": "Unknown AB",
         "free_text": "conference fee Jensen"},
        {"amount_cents": waiting["amount_due"], "booked_on": date(2027, 2, 3),
         "debtor_name": "Teknikens Hus", "free_text": "Ecsite 2027 registration"},
    ]))
    seen = browse("desk_statement", desk, token=FINANCE_TOKEN, statement=str(statement),
                  unknown_payer="Unknown AB",
                  note="Not for the conference: sent back to Unknown AB",
                  assign_to=waiting["reference"], paid_reference=paid["reference"])

    assert seen["statement_question"].startswith("Import this statement? statement.xml")
    assert len(seen["statement_keys"]) == 1 and seen["statement_keys"][0]
    assert seen["axe"] == []
    assert seen["imported"] == "Statement imported: 1 matched, 2 not matched."
    [matched] = seen["matched"]
    assert euro(paid["amount_due"]) in matched and "NTNU" in matched
    unknown, other = seen["unmatched_new"]
    assert "€450.00" in unknown and "Unknown AB" in unknown and "Teknikens Hus" in other
    assert any("€450.00" in row and "conference fee Jensen" in row for row in seen["unmatched"])
    assert seen["focused_on_dismiss"] == "dismiss-note"
    assert "€450.00" in seen["deciding"] and "Unknown AB" in seen["deciding"]
    assert seen["note_error"] == "Say why this transfer pays no order."
    assert "Not for the conference" in seen["dismiss_question"]
    assert len(seen["dismiss_keys"]) == 1
    assert seen["after_dismiss"] == "The transfer is dismissed."
    assert seen["focused_after_dismiss"] == "unmatched-heading"
    assert seen["no_such_order"] == "No order has this reference."
    assert f"pays order {waiting['reference']} (Ingrid Solberg)" in seen["assign_question"]
    assert len(seen["assign_keys"]) == 1
    assert seen["after_assign"] == f"The transfer is assigned to order {waiting['reference']}."
    assert seen["paid_money"]["outstanding"] == euro(0)
    [transfer] = seen["paid_transfers"]
    assert "Bank statement" in transfer and "NTNU" in transfer

    listed = desk.payments.get("/api/admin/transfers?status=dismissed", headers=FINANCE)
    [dismissed] = listed.json()["items"]
    assert dismissed["amount"] == 45000 and dismissed["note"].startswith("Not for the")
    assert desk.registration.get(f"/api/admin/orders/{paid['id']}",
                                 headers=FINANCE).json()["status"] == "confirmed"
    wait_until(lambda: desk.registration.get(f"/api/admin/orders/{waiting['id']}",
                                             headers=FINANCE).json()["status"] == "confirmed",
               15, message="the order the assigned transfer pays, confirmed")
    assert money(desk, waiting["id"])["transfers"][0]["payer"] == "Teknikens Hus"


def test_part_of_a_card_payment_is_refunded_with_a_credit_note(desk, browse):
    created = book(desk, method="card", delegates=[
        delegate(email="one@example.org", add_ons=["gala-dinner"])])
    assert desk.pay(desk.payment(created)) == "succeeded"
    wait_until(lambda: desk.order(created)["status"] == "confirmed", 15,
               message="the order confirmed")
    seen = browse("desk_refund", desk, token=FINANCE_TOKEN, reference=created["reference"],
                  too_much=typed(created["amount_due"] + 100000), typed_refund="50,00",
                  reason="Gala dinner cancelled", refunded=euro(5000))

    [payment] = seen["payments"]
    assert euro(created["amount_due"]) in payment and "Paid" in payment
    assert seen["refund_hint"] == (
        f"Leave empty to refund everything received: {euro(created['amount_due'])}.")
    assert seen["too_much_error"]  # the server's words, by the amount
    assert seen["focused_after_refusal"] == "refund-amount"
    assert "€50.00 of order" in seen["refund_question"]
    assert "Gala dinner cancelled" in seen["refund_question"]
    # The refused try and the refund: two requests, two keys; the double click added none.
    assert len(seen["refund_keys"]) == 2 and len(set(seen["refund_keys"])) == 2
    assert seen["news"] == "The refund of €50.00 is made."
    assert seen["money_after"]["refunded"] == euro(5000)
    assert seen["money_after"]["outstanding"] == euro(0)
    assert any("Refund" in row and "Gala dinner cancelled" in row
               for row in seen["payments_after"])
    assert [d.split()[0] for d in seen["documents"]] == ["Invoice", "Receipt", "Credit"]
    assert "€50.00" in seen["documents"][-1]

    refunded = money(desk, created["id"])
    assert refunded["amount_refunded"] == 5000
    assert [d["kind"] for d in refunded["documents"]].count("credit_note") == 1


def test_corrected_billing_details_credit_the_invoice_and_issue_a_new_one(desk, browse):
    created = book(desk)
    invoiced(desk, created)
    seen = browse("desk_billing", desk, token=FINANCE_TOKEN, reference=created["reference"],
                  billing_address="Postboks 5, 7400 Trondheim", vat_number="NO923609016MVA")

    assert seen["prefilled"] == {
        "name": BUYER["name"], "organisation": BUYER["organisation"], "country": "NO",
        "billing_address": BUYER["billing_address"], "vat_number": BUYER["vat_number"],
        "purchase_order": BUYER["purchase_order"]}
    assert seen["focused_on_form"] == "billing-name"
    assert "Change at least one detail first." in seen["nothing_changed"]
    assert seen["empty_address_error"]  # the server's words, by the billing address
    assert "Billing address: Postboks 5, 7400 Trondheim" in seen["billing_question"]
    assert "VAT number: NO923609016MVA" in seen["billing_question"]
    # The refused try and the correction: one request each.
    assert len(seen["billing_keys"]) == 2 and len(set(seen["billing_keys"])) == 2
    assert seen["billing_address"] == "Postboks 5, 7400 Trondheim"
    assert [d.split()[0] for d in seen["documents"]] == ["Invoice", "Credit", "Invoice"]
    assert not seen["form_visible"]

    now = desk.registration.get(f"/api/admin/orders/{created['id']}", headers=FINANCE).json()
    assert now["buyer"]["billing_address"] == "Postboks 5, 7400 Trondheim"
    assert now["buyer"]["vat_number"] == "NO923609016MVA"


def test_an_unpaid_invoice_order_is_cancelled_and_its_invoice_credited(desk, browse):
    created = book(desk)
    invoiced(desk, created)
    seen = browse("desk_cancel", desk, token=FINANCE_TOKEN, reference=created["reference"])

    assert seen["focused_in_dialog"] == "confirm-no"  # a destructive action: "Go back" first
    assert seen["question"].startswith("Cancel the whole order?")
    assert "without a refund" in seen["question"]
    assert len(seen["keys"]) == 1
    assert seen["focused_after"] == "detail-heading"
    assert not seen["cancel_form_visible"]
    assert seen["closed"] == "This order is no longer open."
    assert desk.order(created)["status"] == "cancelled"


def test_the_admin_books_a_complimentary_place(desk, browse):
    seen = browse("desk_complimentary", desk, token=ADMIN_TOKEN, guest={
        "buyer_name": "Ecsite Secretariat", "buyer_email": "office@ecsite.example",
        "organisation": "Ecsite", "country": "BE", "given_name": "Catherine",
        "family_name": "Franche", "email": "catherine@ecsite.example", "ticket_type": "full"})

    assert seen["admin_only_visible"] >= 4
    assert seen["signed_in_as"] == "Signed in with the admin token."
    assert "Catherine Franche" in seen["question"] and "free of charge" in seen["question"]
    assert len(seen["keys"]) == 1
    assert seen["axe"] == []  # the whole dashboard, as the admin sees it
    reference = seen["booked"].removeprefix("Booked: order ").removesuffix(", confirmed.")
    [order] = desk.registration.get("/api/admin/orders", params={"q": reference},
                                    headers=FINANCE).json()["items"]
    assert order["status"] == "confirmed" and order["amount_due"] == 0
    assert [d["given_name"] for d in order["delegates"]] == ["Catherine"]
