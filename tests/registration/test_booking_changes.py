"""Changing a confirmed booking through the real parts (registration, payments, badges,
notifications on RabbitMQ, localstripe, SMTP): add an add-on and pay the difference, swap
a workshop in a full slot only when a place exists, upgrade a day pass, drop an add-on and
be refunded, and a difference whose payment fails leaving the booking as it was."""

import pytest

from shared.auth import ticket_token
from tests.conftest import ADMIN_TOKEN, wait_until
from tests.registration.conftest import delegate

SECRET = "test-secret-key"
GALA, WORKSHOP, OTHER_WORKSHOP = "gala-dinner", "ws-climate-dialogue", "ws-evaluation"


def confirmed(stack, **changes) -> dict:
    created = stack.registration.post("/api/registrations", json=delegate(**changes))
    assert created.status_code == 201, created.text
    created = created.json()
    assert stack.pay(stack.payment(created)) == "succeeded"
    stack.wait_for_status(created, "confirmed")
    return created


def own(created: dict) -> dict:
    return {"X-Registration-Token": created["token"]}


def change(stack, created: dict, key: str | None = None, **wanted):
    headers = own(created) | ({"Idempotency-Key": key} if key else {})
    return stack.registration.post(f"/api/registrations/{created['id']}/changes",
                                   json=wanted, headers=headers)


def held(stack, add_on: str) -> int:
    stats = stack.registration.get("/api/admin/stats", headers=stack.registration.as_admin())
    return next(a["held"] for a in stats.json()["add_ons"] if a["code"] == add_on)


def left(stack, ticket_type: str) -> int:
    stats = stack.registration.get("/api/admin/stats", headers=stack.registration.as_admin())
    return next(t["remaining"] for t in stats.json()["by_ticket_type"]
                if t["code"] == ticket_type)


def pay_change(stack, made: dict, card: str = "ok") -> str:
    """Pay the order of a change that costs more, as the page does."""
    payment = stack.payment({"id": made["order_id"], "token": made["order_token"],
                             "delegates": []})
    return stack.pay(payment, card)


def test_add_an_add_on_and_pay_the_difference(everything, listen):
    stack, badges, sink = everything
    api, bus, money = stack.registration, listen("registration"), listen("payments")
    created = confirmed(stack, add_ons=[])
    badge_of = f"/api/badges/{created['id']}.pdf"
    wait_until(lambda: badges.get(badge_of, headers=badges.as_desk()).status_code == 200, 20)

    quoted = api.post(f"/api/registrations/{created['id']}/changes/quote",
                      json={"add_ons": [GALA]}, headers=own(created))
    assert quoted.status_code == 200, quoted.text
    assert (quoted.json()["difference"], quoted.json()["to_pay"],
            quoted.json()["payment_method"]) == (9500, 9500, "card")

    made = change(stack, created, key="add-the-gala", add_ons=[GALA])
    assert made.status_code == 201, made.text
    made = made.json()
    assert (made["status"], made["difference"], made["after"]["add_ons"]) == (
        "pending_payment", 9500, [GALA])
    assert change(stack, created, key="add-the-gala", add_ons=[GALA]).json()["id"] == made["id"]
    # Until it is paid the booking is as it was, and a second change waits for this one.
    assert stack.status(created)["add_ons"] == []
    again = change(stack, created, add_ons=[GALA, "study-visit-museum-labs"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "change_pending"

    assert pay_change(stack, made) == "succeeded"
    wait_until(lambda: stack.status(created)["add_ons"] == [GALA], 20,
               message="the change to take effect")
    now = stack.status(created)
    assert (now["amount_due"], now["amount_paid"]) == (
        created["amount_due"] + 9500, created["amount_due"] + 9500)
    [changed] = bus.wait_for("booking_changed", created["id"])
    assert (changed["data"]["difference"], changed["data"]["paid_with"],
            changed["data"]["before"]["add_ons"], changed["data"]["add_ons"]) == (
        9500, made["order_id"], [], [GALA])
    listed = api.get(f"/api/registrations/{created['id']}/changes", headers=own(created))
    assert [(c["status"], c["order_token"]) for c in listed.json()["items"]] == [
        ("applied", None)]

    # The difference has its own receipt and invoice, the badge is made again.
    documents = stack.payments.get(f"/api/orders/{made['order_id']}/documents",
                                   headers={"X-Order-Token": made["order_token"]}).json()
    assert {d["kind"] for d in documents} >= {"invoice", "receipt"}
    [succeeded] = money.wait_for("payment_succeeded", made["order_id"])
    assert succeeded["data"]["amount"] == 9500
    assert not money.of_type("payment_refunded", created["order_id"])
    # The desk knows the new add-on.
    checked_in = badges.post("/api/checkin", json={"token": ticket_token(
        SECRET, created["id"])}, headers=badges.as_desk())
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["add_on_names"] == ["Gala dinner (11 June)"]


def test_drop_an_add_on_within_the_policy_and_be_refunded(stack, listen):
    money = listen("payments")
    created = confirmed(stack, add_ons=[GALA, WORKSHOP])
    before = held(stack, GALA)

    dropped = change(stack, created, add_ons=[WORKSHOP])
    assert dropped.status_code == 201, dropped.text
    assert (dropped.json()["status"], dropped.json()["difference"],
            dropped.json()["refund_due"]) == ("applied", -9500, 9500)
    # At once: the booking holds one add-on less, and the place is free again.
    assert stack.status(created)["add_ons"] == [WORKSHOP]
    assert held(stack, GALA) == before - 1
    [refund] = money.wait_for("payment_refunded", created["order_id"])
    assert refund["data"]["amount"] == 9500
    [credit] = money.wait_for("credit_note_issued", created["order_id"])
    assert credit["data"]["amount"] == 9500
    wait_until(lambda: stack.order(created)["amount_refunded"] == 9500, 15)


def one_place_in(add_on: str):
    def edit(document):
        next(a for a in document["add_ons"] if a["code"] == add_on)["capacity"] = 1
    return edit


@pytest.mark.catalog(edit=one_place_in(WORKSHOP))
def test_swap_workshops_in_a_full_slot_only_when_a_place_exists(stack):
    api = stack.registration
    holder = confirmed(stack, email="holder@example.org", add_ons=[WORKSHOP])
    swapper = confirmed(stack, email="swapper@example.org", add_ons=[OTHER_WORKSHOP])

    full = change(stack, swapper, add_ons=[WORKSHOP])
    assert full.status_code == 409, full.text
    assert full.json()["error"]["code"] == "sold_out"
    assert full.json()["error"]["field"] == "add_ons[0]"
    assert stack.status(swapper)["add_ons"] == [OTHER_WORKSHOP]

    # The place frees: the swap (the same price) is made at once, nothing to pay.
    assert api.post(f"/api/registrations/{holder['id']}/cancel",
                    headers=own(holder)).status_code == 200
    swapped = change(stack, swapper, add_ons=[WORKSHOP])
    assert swapped.status_code == 201, swapped.text
    assert (swapped.json()["status"], swapped.json()["difference"]) == ("applied", 0)
    assert stack.status(swapper)["add_ons"] == [WORKSHOP]
    assert (held(stack, WORKSHOP), held(stack, OTHER_WORKSHOP)) == (1, 0)


def test_upgrade_a_day_pass(stack, listen):
    bus = listen("registration")
    created = confirmed(stack, ticket_type="day-friday", add_ons=[])
    full, friday = left(stack, "full"), left(stack, "day-friday")
    made = change(stack, created, ticket_type="full")
    assert made.status_code == 201, made.text
    made = made.json()
    assert made["status"] == "pending_payment" and made["difference"] > 0
    assert pay_change(stack, made) == "succeeded"
    stack.wait_for_status(created, "confirmed")
    wait_until(lambda: stack.status(created)["ticket_type"] == "full", 20,
               message="the upgrade")
    [changed] = bus.wait_for("booking_changed", created["id"])
    assert changed["data"]["before"]["ticket_type"] == "day-friday"
    assert changed["data"]["ticket_type_name"] != changed["data"]["before"]["ticket_type_name"]
    assert (left(stack, "full"), left(stack, "day-friday")) == (full - 1, friday + 1)


def test_a_failed_payment_of_the_difference_keeps_the_booking_as_it_was(stack):
    api = stack.registration
    created = confirmed(stack, add_ons=[])
    before = held(stack, GALA)
    made = change(stack, created, add_ons=[GALA]).json()
    assert held(stack, GALA) == before + 1

    assert pay_change(stack, made, card="declined").startswith("declined")
    assert stack.status(created)["add_ons"] == []
    # The buyer gives up: the change's place goes back, the booking is untouched.
    dropped = api.post(f"/api/orders/{made['order_id']}/cancel",
                       headers={"X-Order-Token": made["order_token"]})
    assert dropped.status_code == 200, dropped.text
    now = stack.status(created)
    assert (now["status"], now["add_ons"], now["amount_due"], now["amount_paid"]) == (
        "confirmed", [], created["amount_due"], created["amount_due"])
    assert held(stack, GALA) == before
    listed = api.get(f"/api/registrations/{created['id']}/changes", headers=own(created))
    assert [c["status"] for c in listed.json()["items"]] == ["cancelled"]


def test_refusals_name_the_field_and_change_nothing(stack):
    api = stack.registration
    created = confirmed(stack, add_ons=[GALA])
    for body, code, field in [
            ({}, "invalid_request", None),
            ({"add_ons": [GALA]}, "no_change", None),
            ({"add_ons": ["no-such-thing"]}, "unknown_add_on", "add_ons[0]"),
            ({"ticket_type": "speaker"}, "code_required", "ticket_type"),
            ({"add_ons": [WORKSHOP, OTHER_WORKSHOP]}, "add_ons_clash", "add_ons[1]")]:
        answer = change(stack, created, **body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
        error = answer.json()["error"]
        if code != "invalid_request":
            assert (error["code"], error.get("field")) == (code, field), body
    assert stack.status(created)["add_ons"] == [GALA]
    unpaid = api.post("/api/registrations", json=delegate(email="later@example.org")).json()
    refused = change(stack, unpaid, add_ons=[])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_changeable"


@pytest.mark.catalog(conference={"hold_minutes": 0.1})
def test_a_change_left_unpaid_lapses_with_its_hold_and_frees_its_place(stack, listen):
    bus = listen("registration")
    created = confirmed(stack, add_ons=[])
    before = held(stack, GALA)
    made = change(stack, created, add_ons=[GALA]).json()
    bus.wait_for("order_expired", made["order_id"], timeout=30)
    assert held(stack, GALA) == before
    now = stack.status(created)
    assert (now["status"], now["add_ons"]) == ("confirmed", [])
    listed = stack.registration.get(f"/api/registrations/{created['id']}/changes",
                                    headers=own(created)).json()["items"]
    assert [(c["status"], c["order_token"]) for c in listed] == [("expired", None)]
    # Nothing waits any more: the delegate may ask again.
    assert change(stack, created, add_ons=[GALA]).status_code == 201


def test_an_invoiced_booking_pays_its_change_on_a_supplementary_invoice(stack, listen):
    money = listen("payments")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    order = stack.registration.post("/api/orders", json={
        "buyer": {"name": "Ingrid Solberg", "email": "invoices@vitensenteret.example",
                  "organisation": "Vitensenteret Trondheim", "country": "NO",
                  "billing_address": "Kongens gate 1, 7011 Trondheim"},
        "payment_method": "invoice",
        "delegates": [delegate(email="one@example.org", add_ons=[]),
                      delegate(email="two@example.org", add_ons=[])]}).json()
    [invoice] = money.wait_for("invoice_issued", order["id"])
    stack.payments.post(f"/api/admin/orders/{order['id']}/transfers", headers=admin, json={
        "amount": order["amount_due"], "received_on": "2027-02-03",
        "reference": invoice["data"]["payment_reference"], "payer": "Vitensenteret"})
    wait_until(lambda: stack.order(order)["status"] == "confirmed", 15)

    first = order["delegates"][0]
    made = stack.registration.post(
        f"/api/orders/{order['id']}/delegates/{first['id']}/changes",
        json={"add_ons": [GALA]}, headers={"X-Order-Token": order["token"]})
    assert made.status_code == 201, made.text
    made = made.json()
    assert (made["status"], made["by"]) == ("pending_payment", "buyer")
    [supplementary] = money.wait_for("invoice_issued", made["order_id"])
    assert supplementary["data"]["amount"] == 9500
    assert supplementary["data"]["payment_reference"].startswith("RF")
    assert supplementary["data"]["number"] != invoice["data"]["number"]
    listed = stack.registration.get(f"/api/orders/{order['id']}/changes",
                                    headers={"X-Order-Token": order["token"]}).json()
    assert [c["order_id"] for c in listed["items"]] == [made["order_id"]]

    stack.payments.post(f"/api/admin/orders/{made['order_id']}/transfers", headers=admin, json={
        "amount": 9500, "received_on": "2027-02-10",
        "reference": supplementary["data"]["payment_reference"], "payer": "Vitensenteret"})
    wait_until(lambda: stack.order(order)["delegates"][0]["add_ons"] == [GALA], 20,
               message="the change paid by transfer")


def test_cancelling_after_an_upgrade_refunds_each_payment_its_part(stack, listen):
    money, bus = listen("payments"), listen("registration")
    created = confirmed(stack, add_ons=[])
    made = change(stack, created, add_ons=[GALA]).json()
    assert pay_change(stack, made) == "succeeded"
    wait_until(lambda: stack.status(created)["add_ons"] == [GALA], 20)

    cancelled = stack.registration.post(f"/api/registrations/{created['id']}/cancel",
                                        headers=own(created))
    assert cancelled.status_code == 200, cancelled.text
    [change_refund] = money.wait_for("payment_refunded", made["order_id"])
    [booking_refund] = money.wait_for("payment_refunded", created["order_id"])
    assert change_refund["data"]["amount"] == 9500
    assert booking_refund["data"]["amount"] == created["amount_due"]
    assert stack.status(created)["amount_refunded"] == created["amount_due"] + 9500
    # the change's order ends with its booking, and says so (its email tells of the change)
    [change_ended] = bus.wait_for("order_cancelled", made["order_id"])
    [booking_ended] = bus.wait_for("order_cancelled", created["order_id"])
    assert change_ended["data"]["with_booking"] and change_ended["data"]["refund_due"] == 9500
    assert not booking_ended["data"]["with_booking"]


def test_erasing_a_delegate_anonymises_the_orders_of_their_changes(stack):
    api = stack.registration
    created = confirmed(stack, add_ons=[])
    made = change(stack, created, add_ons=[GALA]).json()
    erased = api.post(f"/api/admin/registrations/{created['id']}/erase", headers=api.as_admin())
    assert erased.status_code == 202, erased.text
    seen = api.get(f"/api/admin/orders/{made['order_id']}", headers=api.as_admin()).json()
    assert created["email"] not in str(seen) and "Żółć" not in str(seen)
