"""A delegate's data in payments, through RabbitMQ and localstripe: exported over RPC,
then erased by registration's ``delegate_erased`` (once, however often it comes): no row
names them any more, except the issued invoices and credit notes, which stay unchanged."""

import base64
import io

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from pypdf import PdfReader

from services.cli import pay_with_test_card
from services.payments.service import PaymentsService
from shared.events import new_event
from shared.privacy import ERASED_EMAIL, ERASED_NAME
from tests.conftest import FINANCE_TOKEN
from tests.erasure import (
    deliver,
    dump,
    erased_event,
    export_of,
    mentions,
    outbox_drained,
    rows_naming,
)
from tests.notifications import samples

RID, OID, REFERENCE = samples.REGISTRATION_ID, samples.ORDER_ID, "ECS27-7KQ3M9"
GIVEN, FAMILY, EMAIL = "Zdzisława", "Brzęczyszczykiewicz", "zdzislawa.b@example.org"
FULL = f"{GIVEN} {FAMILY}"
BILLING = "ul. Wybrzeże Kościuszkowskie 20, Warszawa"
VAT, PO = "PL5250001090", "PO-4471-ZB"
NEEDLES = (GIVEN, FAMILY, EMAIL, BILLING, VAT, PO)
FINANCE = {"Authorization": f"Bearer {FINANCE_TOKEN}"}


@pytest.fixture
def payments(start_service, payments_config, webhook, stripe_client, listen):
    """Payments with localstripe's webhooks pointed at it, and the events it publishes."""
    events = listen("payments")
    container, api = start_service(PaymentsService, payments_config)
    webhook(payments_config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    return container, api, events, payments_config["DATABASE_URL"]


def order_of_one() -> dict:
    data = samples.order(FULL, buyer_email=EMAIL, delegates=[
        samples.order_delegate(FULL, EMAIL, RID, REFERENCE)])
    data["buyer"] |= {"billing_address": BILLING, "vat_number": VAT, "purchase_order": PO}
    return data


def receipt_text(amqp_uri) -> str:
    with ServiceRpcProxy("payments", {"AMQP_URI": amqp_uri}) as proxy:
        pdf = base64.b64decode(proxy.receipt_pdf(OID))
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_export_then_the_erasure_of_a_buyer_who_paid_by_card_and_was_refunded(
        payments, publish, stripe_client, amqp_uri):
    container, _, events, url = payments
    publish(new_event("order_placed", order_of_one()))
    [ready] = events.wait_for("payment_ready", OID)
    assert pay_with_test_card(stripe_client, ready["data"]["payment_intent_id"]) == "succeeded"
    events.wait_for("invoice_issued", OID)
    publish(new_event("registration_cancelled", samples.registration(
        GIVEN, FAMILY, email=EMAIL, status="cancelled", reason="delegate", refund_due=10000)))
    events.wait_for("credit_note_issued", OID)
    outbox_drained(url)
    documents = dump(url)["documents"]
    assert FAMILY in receipt_text(amqp_uri)

    before = export_of(amqp_uri, "payments", RID, OID)
    assert before["service"] == "payments" and any("invoices" in k for k in before["kept"])
    data = before["data"]
    assert data["order"]["buyer"] | {"country": "PL"} == order_of_one()["buyer"]
    [payment] = data["payments"]
    assert payment["payment_intent_id"] == ready["data"]["payment_intent_id"]
    assert payment["status"] == "succeeded" and payment["receipt_number"]
    [refund] = payment["refunds"]
    assert refund["amount"] == 10000 and FAMILY in refund["reason"]
    assert [(d["kind"], d["amount"]) for d in data["documents"]] == [
        ("credit_note", 10000), ("invoice", 59000)]
    assert "client_secret" not in payment
    assert {table for table, _ in rows_naming(url, [GIVEN, BILLING])} >= {
        "orders", "payments", "refunds", "documents"}

    erasure = erased_event(RID, OID, whole_order=True)
    deliver(container, publish, erasure)

    assert rows_naming(url, NEEDLES, but_not=("documents",)) == []
    assert dump(url)["documents"] == documents  # issued documents never change
    assert {table for table, _ in rows_naming(url, NEEDLES)} == {"documents"}
    assert not [row for row in dump(url)["outbox"] if OID in " ".join(row)]
    after = export_of(amqp_uri, "payments", RID, OID)
    assert mentions(after, NEEDLES) == []
    assert after["data"]["documents"] == data["documents"]
    assert after["data"]["order"]["buyer"]["name"] == ERASED_NAME
    assert after["data"]["order"]["buyer"]["email"] == ERASED_EMAIL
    [payment_after] = after["data"]["payments"]
    assert payment_after["refunds"][0]["reason"] == ERASED_NAME
    assert payment_after["amount_refunded"] == 10000
    assert (payment_after["receipt_number"], payment_after["amount_received"]) == (
        payment["receipt_number"], payment["amount_received"])
    assert FAMILY not in receipt_text(amqp_uri)  # made again from the anonymised copy

    everything = dump(url)
    deliver(container, publish, erasure)  # delivered again: nothing changes
    assert dump(url) == everything


def test_a_delegate_of_a_larger_invoice_order_is_taken_out_and_the_buyer_kept(
        payments, publish, amqp_uri):
    """The sample invoice order: Zofia, and Łukasz, its buyer. Zofia is erased; the
    transfer that named her keeps its amount, the invoice naming her stays."""
    container, api, events, url = payments
    zofia, her_email = "Zofia Zielińska", "zofia@example.org"
    order = samples.invoice_order()
    order["lines"] = [{**line, "description": f"{d['name']}: {line['description']}"}
                      for line, d in zip(order["lines"], order["delegates"], strict=True)]
    publish(new_event("order_placed", order))
    events.wait_for("invoice_issued", OID)
    recorded = api.post(f"/api/admin/orders/{OID}/transfers", headers=FINANCE, json={
        "amount": 50000, "received_on": "2027-03-05", "payer": "Łukasz Żółć",
        "reference": f"For {zofia} ECS27-ZZ1111"})
    assert recorded.status_code == 201, recorded.text
    outbox_drained(url)
    documents = dump(url)["documents"]

    before = export_of(amqp_uri, "payments", samples.OTHER_REGISTRATION_ID, OID)
    assert "buyer" not in before["data"]["order"] and "transfers" not in before["data"]
    assert [d["name"] for d in before["data"]["order"]["delegates"]] == [zofia]
    assert [line["description"] for line in before["data"]["order"]["lines"]] == [
        f"{zofia}: {samples.TICKET}"]
    assert [d["kind"] for d in before["data"]["documents"]] == ["invoice"]
    assert {table for table, _ in rows_naming(url, [zofia])} == {
        "orders", "transfers", "documents"}  # an invoice order has no card payment

    deliver(container, publish, erased_event(samples.OTHER_REGISTRATION_ID, OID, False))

    assert rows_naming(url, [zofia, her_email], but_not=("documents",)) == []
    assert dump(url)["documents"] == documents
    assert rows_naming(url, ["lukasz@example.org"], but_not=("documents",))
    money = api.get(f"/api/admin/orders/{OID}/money", headers=FINANCE).json()
    [transfer] = money["transfers"]
    assert (transfer["amount"], transfer["payer"], transfer["reference"]) == (
        50000, "Łukasz Żółć", ERASED_NAME)
    after = export_of(amqp_uri, "payments", samples.OTHER_REGISTRATION_ID, OID)
    assert mentions(after, [zofia, her_email]) == []
    assert after["data"]["order"]["lines"][0]["description"] == f"{ERASED_NAME}: {samples.TICKET}"
