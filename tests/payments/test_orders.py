"""Orders through every real part: registration, payments, badges and notifications on
RabbitMQ, localstripe with signed webhooks, and an SMTP server."""

import pytest

from services.registration.service import RegistrationService
from tests.conftest import free_port, make_config, wait_until
from tests.registration.conftest import delegate
from tests.stack import Stack, mail_to

BUYER = {"name": "Maja Lindqvist", "email": "finance@universeum.example",
         "organisation": "Universeum", "country": "SE", "vat_number": "SE556000000001",
         "purchase_order": "PO-2027-114"}
SIX = [
    delegate(given_name="Łukasz", family_name="Żółć", email="lukasz@example.org",
             member_code="ECSITE-MEMBER-2027", add_ons=["gala-dinner", "ws-evaluation"]),
    delegate(given_name="Αλέξανδρος", family_name="Παπαδόπουλος", email="alex@example.org",
             discount_code="NEWCOMER15", add_ons=[]),
    delegate(given_name="Борис", family_name="Іваненко", email="boris@example.org",
             ticket_type="day-friday", add_ons=["gala-dinner"]),
    delegate(given_name="Søren", family_name="Ørsted", email="soren@example.org",
             ticket_type="young-professional", add_ons=["study-visit-museum-labs"]),
    delegate(given_name="Çağlar", family_name="Öztürk", email="caglar@example.org",
             ticket_type="speaker", discount_code="SPEAKER27", add_ons=[]),
    delegate(given_name="Ana María", family_name="Ruiz", email="ana@example.org",
             member_code="ECSITE-MEMBER-2027", discount_code="PARTNER100", add_ons=[]),
]


def book(api, delegates, key=None, **buyer):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/api/orders", json={"buyer": {**BUYER, **buyer}, "delegates": delegates,
                                         "payment_method": "card"}, headers=headers)


def test_an_order_of_six_one_payment_six_badges_six_e_tickets(everything, listen):
    stack, badges, sink = everything
    payments = listen("payments")
    answer = book(stack.registration, SIX, key="form-submit-1")
    assert answer.status_code == 201, answer.text
    order = answer.json()
    shares = [d["amount_due"] for d in order["delegates"]]
    assert order["amount_due"] == sum(shares) == sum(line["amount"] for line in order["lines"])
    assert shares[4] == 0, "the speaker code makes that ticket free"
    full = next(t for t in stack.registration.get("/api/catalog").json()["ticket_types"]
                if t["code"] == "full")
    member, non_member = ((full["early_bird_member"], full["early_bird_non_member"])
                          if full["early_bird_now"] else
                          (full["price_member"], full["price_non_member"]))
    assert shares[0] == member + 9500 + 12000, "member price, gala dinner and a workshop"
    assert shares[1] == non_member * 85 // 100, "15% off the non-member price"
    assert len({d["token"] for d in order["delegates"]}) == 6

    assert stack.pay(stack.payment(order)) == "succeeded"
    confirmed = wait_until(lambda: (o := stack.order(order))["status"] == "confirmed" and o,
                           15, message="the order confirmed")
    assert [d["status"] for d in confirmed["delegates"]] == ["confirmed"] * 6
    assert confirmed["amount_paid"] == order["amount_due"]
    assert len(payments.of_type("payment_succeeded", order["id"])) == 1

    for seat in order["delegates"]:
        wait_until(lambda s=seat: badges.get(f"/api/badges/{s['id']}.pdf",
                                             headers=badges.as_desk()).status_code == 200,
                   20, message="every delegate's badge")
    wait_until(lambda: all(mail_to(sink, d["email"]) for d in SIX) and
               len(mail_to(sink, BUYER["email"])) >= 2, 30, message="the emails")
    for seat in SIX:
        [ticket] = mail_to(sink, seat["email"])
        assert any(part.get_content_type() == "image/png" for part in ticket.walk())
    to_buyer = mail_to(sink, BUYER["email"])
    documents = [[part.get_filename() for part in m.iter_attachments()
                  if part.get_filename().endswith(".pdf")] for m in to_buyer]
    [attached] = [names for names in documents if names]
    assert len(attached) == 2 and "receipt.pdf" in attached, "one receipt and one invoice"
    receipt_pdf = stack.registration.get(f"/api/orders/{order['id']}/receipt.pdf",
                                         headers={"X-Order-Token": order["token"]})
    assert receipt_pdf.status_code == 200 and receipt_pdf.content.startswith(b"%PDF")

    friday = order["delegates"][2]
    cancelled = stack.registration.post(
        f"/api/orders/{order['id']}/delegates/{friday['id']}/cancel",
        headers={"X-Order-Token": order["token"]})
    assert cancelled.status_code == 200, cancelled.text
    [refund] = payments.wait_for("payment_refunded", order["id"])
    assert refund["data"]["amount"] == friday["amount_due"], "full refund until April"
    assert not refund["data"]["fully_refunded"]
    after = wait_until(lambda: (o := stack.order(order))["amount_refunded"] and o, 10)
    assert after["status"] == "confirmed"
    assert [d["status"] for d in after["delegates"]].count("cancelled") == 1
    wait_until(lambda: badges.get(f"/api/badges/{friday['id']}.pdf", headers=badges.as_desk()
                                  ).status_code == 410, 10, message="the badge withdrawn")


def test_the_same_idempotency_key_gives_one_order(stack, listen):
    events = listen("registration")
    first = book(stack.registration, SIX[:2], key="retry-after-lost-response")
    again = book(stack.registration, SIX[:2], key="retry-after-lost-response")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["delegates"] == again.json()["delegates"]
    other = book(stack.registration, SIX[2:3], key="retry-after-lost-response")
    assert other.status_code == 409
    assert other.json()["error"] == {
        "code": "idempotency_key_reused", "field": "Idempotency-Key",
        "message": other.json()["error"]["message"]}
    single = {**SIX[3], "billing_address": "Box 7, Göteborg"}
    one = stack.registration.post("/api/registrations", json=single,
                                  headers={"Idempotency-Key": "k-single"})
    two = stack.registration.post("/api/registrations", json=single,
                                  headers={"Idempotency-Key": "k-single"})
    assert one.json()["id"] == two.json()["id"]
    bad = stack.registration.post("/api/registrations", json=single,
                                  headers={"Idempotency-Key": "é" * 3})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "Idempotency-Key"
    events.wait_for("order_placed", first.json()["id"])
    events.wait_for("order_placed", one.json()["order_id"])
    assert len(events.of_type("order_placed")) == 2
    assert stack.registration.get("/api/admin/orders", headers=stack.registration.as_admin()
                                  ).json()["total"] == 2


def test_errors_in_an_order_name_the_delegate_and_field(stack):
    bad = book(stack.registration, [SIX[0], {**SIX[1], "email": "not an address"}])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "delegates[1].email"
    clash = book(stack.registration, [SIX[0], {**SIX[1], "add_ons": [
        "ws-evaluation", "ws-climate-dialogue"]}])
    assert clash.status_code == 422
    assert clash.json()["error"]["field"] == "delegates[1].add_ons[1]"
    no_buyer = stack.registration.post("/api/orders", json={"delegates": [SIX[0]]})
    assert no_buyer.status_code == 422 and no_buyer.json()["error"]["field"] == "buyer"
    cheque = stack.registration.post("/api/orders", json={
        "buyer": BUYER, "delegates": SIX[:1], "payment_method": "cheque"})
    assert cheque.status_code == 422 and cheque.json()["error"]["field"] == "payment_method"
    assert stack.registration.get("/api/admin/orders", headers=stack.registration.as_admin()
                                  ).json()["total"] == 0


def test_a_group_delegate_cannot_pay_but_the_buyer_can(stack):
    order = book(stack.registration, SIX[:2]).json()
    colleague = order["delegates"][1]
    refused = stack.registration.get(f"/api/registrations/{colleague['id']}/payment",
                                     headers={"X-Registration-Token": colleague["token"]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "paid_by_buyer"
    own = stack.registration.get(f"/api/registrations/{colleague['id']}",
                                 headers={"X-Registration-Token": colleague["token"]})
    assert own.status_code == 200 and own.json()["given_name"] == "Αλέξανδρος"
    intent_id = stack.payment(order)["payment_intent_id"]
    unpaid_one = stack.registration.post(
        f"/api/orders/{order['id']}/delegates/{colleague['id']}/cancel",
        headers={"X-Order-Token": order["token"]})
    assert unpaid_one.status_code == 409
    assert unpaid_one.json()["error"]["code"] == "order_not_paid"
    whole = stack.registration.post(f"/api/orders/{order['id']}/cancel",
                                    headers={"X-Order-Token": order["token"]})
    assert whole.status_code == 200 and whole.json()["status"] == "cancelled"
    wait_until(lambda: stack.stripe.v1.payment_intents.retrieve(intent_id).status ==
               "canceled", message="the cancelled order's intent cancelled at Stripe")


@pytest.fixture
def stripe_away(start_service, amqp_uri, tmp_path, catalog_file, payments_config):
    """Registration and payments, with Stripe unreachable; (stack, payments' container)."""
    payments_config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    from services.payments.service import PaymentsService

    container, payments = start_service(PaymentsService, payments_config)
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}",
        CATALOG_FILE=str(catalog_file())))
    return Stack(registration, payments, None, amqp_uri), container


def test_a_remote_refusal_keeps_its_code_and_only_an_absent_service_is_a_503(stripe_away):
    stack, payments = stripe_away
    order = book(stack.registration, SIX[:1]).json()
    assert order["status"] == "pending_payment", "taken while Stripe is away"
    token = {"X-Order-Token": order["token"]}
    preparing = stack.registration.get(f"/api/orders/{order['id']}/payment", headers=token)
    assert preparing.status_code == 202 and preparing.headers["Retry-After"]
    refused = stack.registration.post(f"/api/orders/{order['id']}/pay",
                                      json={"payment_method": "pm_card_visa"}, headers=token)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "payment_not_ready"

    payments.stop()
    unreachable = stack.registration.post(f"/api/orders/{order['id']}/pay",
                                          json={"payment_method": "pm_card_visa"},
                                          headers=token)
    assert unreachable.status_code == 503, unreachable.text
    assert unreachable.headers["Retry-After"]
    assert unreachable.json()["error"]["code"] == "service_unavailable"
