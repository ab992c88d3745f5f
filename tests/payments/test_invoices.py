"""Paying by invoice, and documents, through the real parts: registration and payments
on RabbitMQ, localstripe with signed webhooks; notifications and an SMTP server where
emails matter."""

import io
from datetime import date

import pypdf
import pytest

from tests.conftest import ADMIN_TOKEN, FINANCE_TOKEN, wait_until
from tests.payments.camt_fixtures import statement_xml
from tests.registration.conftest import delegate

FINANCE = {"Authorization": f"Bearer {FINANCE_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BUYER = {"name": "Ingrid Solberg", "email": "invoices@vitensenteret.example",
         "organisation": "Vitensenteret Trondheim", "country": "NO",
         "billing_address": "Kongens gate 1, 7011 Trondheim", "vat_number": "NO974760673MVA",
         "purchase_order": "PO-4471"}


def book(stack, delegates=None, method="invoice", **buyer) -> dict:
    answer = stack.registration.post("/api/orders", json={
        "buyer": {**BUYER, **buyer}, "payment_method": method,
        "delegates": delegates or [delegate(email="first@example.org", add_ons=[])]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def invoiced(stack, created) -> dict:
    """The order once payments has issued its invoice."""
    return wait_until(lambda: (seen := stack.order(created))["invoice"]["invoice_number"]
                      and seen, timeout=15, message="the invoice")


def documents(stack, created) -> list[dict]:
    answer = stack.payments.get(f"/api/orders/{created['id']}/documents",
                                headers={"X-Order-Token": created["token"]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def text_of(stack, created, document) -> str:
    answer = stack.payments.get(document["url"], headers={"X-Order-Token": created["token"]})
    assert answer.headers["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(answer.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def money(stack, order_id) -> dict:
    return stack.payments.get(f"/api/admin/orders/{order_id}/money", headers=FINANCE).json()


def mod97_valid(reference: str) -> bool:
    """ISO 7064 mod 97-10, written out here rather than taken from the code under test."""
    compact = reference.replace(" ", "").upper()
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def test_an_invoice_order_gets_an_invoice_with_an_rf_reference_and_every_field(stack):
    created = book(stack, [
        delegate(given_name="Zofia", family_name="Wiśniewska-Łącka", email="zofia@example.org",
                 member_code="ECSITE-MEMBER-2027", add_ons=["gala-dinner"]),
        delegate(given_name="Αλέξανδρος", family_name="Παπαδόπουλος", email="alex@example.org",
                 ticket_type="day-friday", add_ons=[])])
    assert created["status"] == "pending_payment"
    order = invoiced(stack, created)
    invoice = order["invoice"]
    reference = invoice["payment_reference"]
    assert reference.startswith("RF") and mod97_valid(reference)
    assert invoice["bank"]["iban"] and invoice["due_on"]

    [document] = documents(stack, created)
    assert document["kind"] == "invoice" and document["number"] == invoice["invoice_number"]
    assert document["amount"] == created["amount_due"]
    text = text_of(stack, created, document)
    grouped = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
    due = date.fromisoformat(invoice["due_on"])
    for expected in [
        document["number"], "Invoice", created["reference"], "PO-4471",
        "Ecsite - European Network of Science Centres and Museums", "BE0459164560",
        "Avenue Louise 89/7", "Ingrid Solberg", "Vitensenteret Trondheim",
        "Kongens gate 1, 7011 Trondheim", "NO974760673MVA", "Wiśniewska-Łącka",
        "Παπαδόπουλος", "Gala dinner", "25.5", grouped, "BE71 0961 2345 6769", "GKCCBEBB",
        "Belfius Bank", "10–12 June 2027", str(due.year)]:
        assert expected in text, expected

    answer = stack.registration.get(f"/api/orders/{created['id']}/payment",
                                    headers={"X-Order-Token": created["token"]})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "pay_by_invoice"


def test_an_invoice_needs_a_billing_address_and_is_refused_when_not_offered(stack):
    answer = stack.registration.post("/api/orders", json={
        "buyer": {**BUYER, "billing_address": None}, "payment_method": "invoice",
        "delegates": [delegate(add_ons=[])]})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "buyer.billing_address"
    assert stack.registration.get("/api/admin/orders", headers=ADMIN).json()["total"] == 0


@pytest.mark.catalog(invoice={"offered_until": "2026-01-01"})
def test_no_invoice_after_the_catalog_stops_offering_it(stack):
    answer = stack.registration.post("/api/orders", json={
        "buyer": BUYER, "payment_method": "invoice", "delegates": [delegate(add_ons=[])]})
    assert answer.status_code == 422
    assert answer.json()["error"] | {"message": None} == {
        "code": "invoice_not_offered", "field": "payment_method", "message": None}
    catalog = stack.registration.get("/api/catalog").json()
    assert catalog["conference"]["payment_methods"] == ["card"]


def test_a_bank_statement_confirms_exactly_the_orders_it_pays(stack, listen):
    registration = listen("registration")
    full, partial, in_text, untouched = (
        invoiced(stack, book(stack, [delegate(email=f"d{n}@example.org", add_ons=[])]))
        for n in range(4))
    reference = in_text["invoice"]["payment_reference"]
    spaced = f"invoice {reference[:4].lower()} {reference[4:9].lower()} {reference[9:]} thanks"
    statement = statement_xml([
        {"amount_cents": full["amount_due"], "booked_on": date(2027, 2, 1),
         "debtor_name": "NTNU", "structured_reference": full["invoice"]["payment_reference"]},
        {"amount_cents": partial["amount_due"] - 10000, "booked_on": date(2027, 2, 1),
         "debtor_name": "Vitensenteret",
         "structured_reference": partial["invoice"]["payment_reference"]},
        {"amount_cents": in_text["amount_due"] + 500, "booked_on": date(2027, 2, 2),
         "debtor_name": "Teknikens Hus", "free_text": spaced},
        {"amount_cents": 45000, "booked_on": date(2027, 2, 2), "debtor_name": "Unknown AB",
         "free_text": "conference fee Jensen"},
    ])
    answer = stack.payments.post("/api/admin/statements", data=statement, headers={
        **FINANCE, "Content-Type": "application/xml"})
    assert answer.status_code == 201, answer.text
    outcome = answer.json()
    assert sorted(t["order_id"] for t in outcome["matched"]) == sorted(
        [full["id"], partial["id"], in_text["id"]])
    [unknown] = outcome["unmatched"]
    assert unknown["amount"] == 45000 and unknown["payer"] == "Unknown AB"

    for paid in (full, in_text):
        registration.wait_for("order_confirmed", paid["id"])
    assert money(stack, partial["id"])["outstanding"] == 10000
    assert money(stack, in_text["id"])["outstanding"] == -500
    assert not registration.of_type("order_confirmed", partial["id"])
    assert not registration.of_type("order_confirmed", untouched["id"])
    assert [d["kind"] for d in money(stack, full["id"])["documents"]] == ["invoice", "receipt"]

    again = stack.payments.post("/api/admin/statements", data=statement, headers={
        **FINANCE, "Content-Type": "application/xml"}).json()
    assert again["already_imported"] == 4 and not again["matched"] and not again["unmatched"]
    listed = stack.payments.get("/api/admin/transfers?status=unmatched", headers=FINANCE)
    assert [t["id"] for t in listed.json()["items"]] == [unknown["id"]]

    assigned = stack.payments.post(f"/api/admin/transfers/{unknown['id']}/assign",
                                   json={"order_id": untouched["id"]}, headers=FINANCE)
    assert assigned.status_code == 200, assigned.text
    assert money(stack, untouched["id"])["amount_received"] == 45000
    assert stack.payments.post(f"/api/admin/transfers/{unknown['id']}/dismiss",
                               json={"note": "twice"}, headers=FINANCE).status_code == 409


def test_an_organiser_records_a_transfer_once_and_the_order_is_paid(stack, listen):
    registration = listen("registration")
    created = book(stack)
    invoiced(stack, created)
    path = f"/api/admin/orders/{created['id']}/transfers"
    body = {"amount": created["amount_due"], "received_on": "2027-02-03",
            "reference": "PO-4471", "payer": "Vitensenteret Trondheim"}
    first = stack.payments.post(path, json=body, headers={**FINANCE, "Idempotency-Key": "t1"})
    again = stack.payments.post(path, json=body, headers={**FINANCE, "Idempotency-Key": "t1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    registration.wait_for("order_confirmed", created["id"])
    seen = money(stack, created["id"])
    assert (seen["amount_received"], seen["outstanding"]) == (created["amount_due"], 0)
    assert len(seen["transfers"]) == 1
    assert [d["kind"] for d in seen["documents"]] == ["invoice", "receipt"]

    refused = stack.payments.post(path, json={**body, "amount": True}, headers=FINANCE)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "amount"
    desk = stack.payments.post(path, json=body, headers={
        "Authorization": "Bearer test-desk-token"})
    assert desk.status_code == 403


def test_refunds_and_cancellations_credit_the_invoice_and_never_change_it(stack, listen):
    registration = listen("registration")
    created = book(stack, [delegate(email="one@example.org", add_ons=["gala-dinner"]),
                           delegate(email="two@example.org", add_ons=[])], method="card")
    stack.pay(stack.payment(created))
    registration.wait_for("order_confirmed", created["id"])
    [invoice] = wait_until(lambda: [d for d in documents(stack, created)
                                    if d["kind"] == "invoice"], message="the paid invoice")
    issued = text_of(stack, created, invoice)
    assert "Paid online on" in issued  # paid with Stripe.js alone: payments was not told how

    second = created["delegates"][1]
    answer = stack.registration.post(
        f"/api/orders/{created['id']}/delegates/{second['id']}/cancel",
        headers={"X-Order-Token": created["token"]})
    assert answer.status_code == 200, answer.text
    share = next(d for d in answer.json()["delegates"] if d["id"] == second["id"])
    refunded = stack.payments.post(f"/api/admin/orders/{created['id']}/refund",
                                   json={"amount": 1000, "reason": "goodwill"},
                                   headers={**FINANCE, "Idempotency-Key": "goodwill-1"})
    assert refunded.status_code == 201, refunded.text

    notes = wait_until(lambda: len(found := [d for d in documents(stack, created)
                                             if d["kind"] == "credit_note"]) == 2 and found,
                       message="two credit notes")
    assert sorted(note["amount"] for note in notes) == sorted([share["amount_refunded"], 1000])
    numbers = [int(note["number"].rsplit("-", 1)[1]) for note in notes]
    assert numbers == list(range(numbers[0], numbers[0] + 2))
    goodwill = text_of(stack, created, next(note for note in notes if note["amount"] == 1000))
    assert invoice["number"] in goodwill and "goodwill" in goodwill
    assert text_of(stack, created, invoice) == issued, "an issued invoice never changes"


def test_corrected_billing_details_reissue_the_invoice_through_a_credit_note(stack):
    created = book(stack)
    first = invoiced(stack, created)["invoice"]["invoice_number"]
    answer = stack.registration.patch(
        f"/api/admin/orders/{created['id']}/billing", headers=FINANCE,
        json={"billing_address": "Postboks 5, 7400 Trondheim", "vat_number": ""})
    assert answer.status_code == 200, answer.text
    assert answer.json()["buyer"]["vat_number"] is None
    kinds = wait_until(lambda: len(found := documents(stack, created)) == 3 and found,
                       message="a credit note and a new invoice")
    assert [d["kind"] for d in kinds] == ["invoice", "credit_note", "invoice"]
    old, note, new = kinds
    assert old["number"] == first and note["amount"] == old["amount"] == new["amount"]
    assert "Postboks 5" in text_of(stack, created, new)
    assert "Kongens gate 1" in text_of(stack, created, old)
    assert wait_until(lambda: stack.order(created)["invoice"]["invoice_number"] ==
                      new["number"], message="registration to show the new invoice")
    assert stack.order(created)["invoice"]["payment_reference"] == \
        invoiced(stack, created)["invoice"]["payment_reference"]


SECONDS = 1 / 86400


@pytest.mark.catalog(invoice={"period_days": 12 * SECONDS,
                              "reminder_days_before": [8 * SECONDS, 4 * SECONDS]})
def test_an_unpaid_invoice_is_reminded_once_each_then_expires_with_a_credit_note(
        stack, mail, listen):
    sink = mail
    registration = listen("registration")
    created = book(stack)
    registration.wait_for("order_expired", created["id"], timeout=30)
    wait_until(lambda: [d["kind"] for d in documents(stack, created)]
               == ["invoice", "credit_note"], message="the credit note")
    invoice, note = documents(stack, created)
    assert note["amount"] == invoice["amount"]
    assert "expired" in text_of(stack, created, note).lower()

    def subjects():
        return sorted(m["Subject"] for m in sink.messages() if m["To"] == BUYER["email"])

    wait_until(lambda: len(subjects()) >= 5, timeout=20,
               message="the invoice, two reminders, the hold's end and the credit note")
    mails = [m for m in sink.messages() if m["To"] == BUYER["email"]]
    attachments = [[part.get_filename() for part in m.iter_attachments()] for m in mails]
    assert sum(names == [f"{invoice['number']}.pdf"] for names in attachments) == 3
    assert sum(names == [f"{note['number']}.pdf"] for names in attachments) == 1
    assert len(mails) == 5, subjects()
