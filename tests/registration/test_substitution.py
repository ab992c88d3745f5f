"""Substitution through the real parts (registration, payments, badges, notifications on
RabbitMQ, localstripe, SMTP): a museum sends a colleague instead of a delegate it paid for.
The colleague gets their own link, e-ticket and badge; the replaced delegate's link and QR
code stop working (the desk says "replaced"); nothing is charged, refunded or freed."""

import pytest

from shared.auth import ticket_token
from tests.conftest import wait_until
from tests.registration.conftest import delegate
from tests.stack import mail_to

SECRET = "test-secret-key"
BUYER = {"name": "Inês Costa", "email": "bookings@pavilhao.example",
         "organisation": "Pavilhão do Conhecimento", "country": "PT"}
COLLEAGUE = {"given_name": "Tomás", "family_name": "Ferreira", "email": "tomas@pavilhao.example",
             "organisation": "Pavilhão do Conhecimento", "country": "PT",
             "dietary_needs": "no fish"}


def paid_order(stack, *delegates) -> dict:
    order = stack.registration.post("/api/orders", json={
        "buyer": BUYER, "delegates": list(delegates), "payment_method": "card"}).json()
    assert stack.pay(stack.payment(order)) == "succeeded"
    wait_until(lambda: stack.order(order)["status"] == "confirmed", 15,
               message="the order confirmed")
    return order


def test_a_colleague_takes_a_paid_place_and_the_old_qr_code_is_refused(everything, listen):
    stack, badges, sink = everything
    api = stack.registration
    bus = listen("registration")
    money = listen("payments")
    order = paid_order(stack, delegate(given_name="Rita", family_name="Sousa",
                                       email="rita@pavilhao.example"),
                       delegate(given_name="João", family_name="Lima",
                                email="joao@pavilhao.example", add_ons=[]))
    rita = order["delegates"][0]
    stats_before = api.get("/api/admin/stats", headers=api.as_admin()).json()
    wait_until(lambda: badges.get(f"/api/badges/{rita['id']}.pdf",
                                  headers=badges.as_desk()).status_code == 200, 20)

    answer = api.post(f"/api/orders/{order['id']}/delegates/{rita['id']}/substitute",
                      json=COLLEAGUE, headers={"X-Order-Token": order["token"]})
    assert answer.status_code == 201, answer.text
    tomas = answer.json()
    assert (tomas["given_name"], tomas["status"], tomas["ticket_type"], tomas["add_ons"]) == (
        "Tomás", "confirmed", rita["ticket_type"], rita["add_ons"])
    assert tomas["amount_due"] == rita["amount_due"] and tomas["amount_paid"] == rita["amount_due"]
    assert tomas["reference"] != rita["reference"]

    # Rita's private link shows her place gone; Tomás's opens his booking.
    old = api.get(f"/api/registrations/{rita['id']}", headers={"X-Registration-Token":
                                                               rita["token"]}).json()
    assert old["status"] == "cancelled"
    assert api.get(f"/api/registrations/{tomas['id']}", headers={
        "X-Registration-Token": tomas["token"]}).json()["dietary_needs"] == "no fish"
    # The order lists who holds each place now, with the same lines and money.
    now = stack.order(order)
    assert [d["given_name"] for d in now["delegates"]] == ["Tomás", "João"]
    assert sum(line["amount"] for line in now["lines"]) == order["amount_due"]
    assert now["amount_paid"] == order["amount_due"] and now["amount_refunded"] == 0
    # No seat freed or taken twice, nothing refunded.
    stats_after = api.get("/api/admin/stats", headers=api.as_admin()).json()
    places = ("conference", "add_ons", "by_ticket_type")
    assert [stats_after[k] for k in places] == [stats_before[k] for k in places]
    assert stats_after["by_status"]["substituted"] == 1
    [substituted] = bus.wait_for("delegate_substituted", order["id"])
    assert substituted["data"] == {"order_id": order["id"], "replaced_registration_id":
                                   rita["id"], "registration_id": tomas["id"], "by": "buyer"}

    # At the desk: Rita's code is refused as replaced, Tomás's new badge admits him.
    wait_until(lambda: badges.get(f"/api/badges/{tomas['id']}.pdf",
                                  headers=badges.as_desk()).status_code == 200, 20,
               message="the colleague's badge")
    refused = badges.post("/api/checkin", json={"token": ticket_token(SECRET, rita["id"])},
                          headers=badges.as_desk())
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "replaced"
    assert "passed to a colleague" in refused.json()["error"]["message"]
    assert badges.get(f"/api/badges/{rita['id']}.pdf", headers=badges.as_desk()
                      ).status_code == 410
    admitted = badges.post("/api/checkin", json={"token": ticket_token(SECRET, tomas["id"])},
                           headers=badges.as_desk())
    assert admitted.status_code == 200 and admitted.json()["name"] == "Tomás Ferreira"

    # Tomás gets his e-ticket; Rita is told her place was passed on, once.
    wait_until(lambda: mail_to(sink, COLLEAGUE["email"]) and
               len(mail_to(sink, "rita@pavilhao.example")) >= 2, 30, message="the emails")
    [ticket] = mail_to(sink, COLLEAGUE["email"])
    assert ticket["Subject"].startswith("Your e-ticket")
    assert f"/manage/{tomas['id']}#token=" in ticket.get_body(("plain",)).get_content()
    [told] = [m for m in mail_to(sink, "rita@pavilhao.example")
              if "passed to a colleague" in m["Subject"]]
    assert "no longer admit anyone" in told.get_body(("plain",)).get_content()
    assert not money.of_type("payment_refunded", order["id"])

    # Cancelling the colleague later refunds the share the place was paid with.
    cancelled = api.post(f"/api/orders/{order['id']}/delegates/{tomas['id']}/cancel",
                         headers={"X-Order-Token": order["token"]})
    assert cancelled.status_code == 200, cancelled.text
    [refund] = money.wait_for("payment_refunded", order["id"])
    assert refund["data"]["amount"] == rita["amount_due"]


@pytest.mark.catalog(conference={"name_changes_until": "2026-01-01"})
def test_after_the_deadline_only_organisers_and_the_desk_send_a_colleague(stack):
    api = stack.registration
    order = paid_order(stack, delegate(email="first@example.org"),
                       delegate(email="second@example.org"))
    first, second = order["delegates"]
    by_buyer = api.post(f"/api/orders/{order['id']}/delegates/{first['id']}/substitute",
                        json=COLLEAGUE, headers={"X-Order-Token": order["token"]})
    assert by_buyer.status_code == 409
    assert by_buyer.json()["error"]["code"] == "substitution_closed"

    by_desk = api.post(f"/api/admin/registrations/{first['id']}/substitute", json=COLLEAGUE,
                       headers=api.as_desk())
    assert by_desk.status_code == 201, by_desk.text
    assert "email" not in by_desk.json() and "dietary_needs" not in by_desk.json()
    by_admin = api.post(f"/api/admin/registrations/{second['id']}/substitute",
                        json={**COLLEAGUE, "email": "other@example.org"},
                        headers=api.as_admin())
    assert by_admin.status_code == 201 and by_admin.json()["email"] == "other@example.org"
    # A place already given away cannot be given away again from the old registration.
    again = api.post(f"/api/admin/registrations/{first['id']}/substitute", json=COLLEAGUE,
                     headers=api.as_admin())
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_substitutable"


def test_a_substitution_is_checked_like_a_booking_and_changes_nothing_when_refused(stack):
    api = stack.registration
    order = paid_order(stack, delegate(email="one@example.org"))
    [only] = order["delegates"]
    path = f"/api/orders/{order['id']}/delegates/{only['id']}/substitute"
    headers = {"X-Order-Token": order["token"]}
    for body, field in [({**COLLEAGUE, "email": "not-an-address"}, "email"),
                        ({**COLLEAGUE, "given_name": ""}, "given_name"),
                        ({**COLLEAGUE, "country": "XX"}, "country"),
                        ({**COLLEAGUE, "ticket_type": "speaker"}, "ticket_type")]:
        refused = api.post(path, json=body, headers=headers)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field
    assert api.post(path, json=COLLEAGUE, headers={"X-Order-Token": "wrong"}
                    ).status_code == 403
    other = paid_order(stack, delegate(email="two@example.org"))
    assert api.post(f"/api/orders/{order['id']}/delegates/{other['delegates'][0]['id']}"
                    "/substitute", json=COLLEAGUE, headers=headers).status_code == 404
    assert [d["id"] for d in stack.order(order)["delegates"]] == [only["id"]]
