"""The delegates', buyers' and organisers' pages in a real browser (Debian's chromium through
Playwright, in tests/registration/browser.py), against registration and payments running
with localstripe, its Stripe.js stand-in and real webhooks."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, ROOT, wait_until
from tests.registration.conftest import delegate, register

SCREENSHOTS = ROOT / "var" / "screenshots" / "registration"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"
MEMBER_CODE = "ECSITE-MEMBER-2027"
GREEK = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος",
         "organisation": "Eugenides Foundation", "country": "GR",
         "email": "alexandros@example.org", "ticket_type": "full", "add_ons": ["gala-dinner"]}
FINANCE = {"name": "Zofia Księgowa", "email": "finance@kopernik.example.org",
           "organisation": "Copernicus Science Centre", "country": "PL",
           "billing_address": "Wybrzeże Kościuszkowskie 20, 00-390 Warszawa",
           "vat_number": "PL5252248481", "purchase_order": "PO-2027-118"}
# A team of three: mixed tickets and add-ons; colleagues take organisation and country
# from delegate 1.
TEAM = [
    {"given_name": "Łukasz", "family_name": "Żółć", "organisation": "Copernicus Science Centre",
     "country": "PL", "email": "lukasz@kopernik.example.org", "ticket_type": "full",
     "add_ons": ["ws-evaluation", "gala-dinner"], "member_code": MEMBER_CODE},
    {"given_name": "Agnieszka", "family_name": "Wróbel", "email": "agnieszka@kopernik.example.org",
     "ticket_type": "day-friday", "add_ons": ["study-visit-museum-labs"]},
    {"given_name": "Jan", "family_name": "", "email": "jan@kopernik.example.org",
     "ticket_type": "young-professional", "add_ons": []},
]
SOLD_OUT_ADD_ON = "study-visit-museum-labs"


@pytest.fixture
def site(stack):  # noqa: F811 - tests.stack's fixture, imported above
    """Registration and payments with localstripe: what the pages talk to."""
    return stack


@pytest.fixture
def browse(request):
    """Run a browser.py scenario against a base URL; what it saw. Screenshots go to
    var/screenshots/registration/<test>/."""
    shots = SCREENSHOTS / re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    shutil.rmtree(shots, ignore_errors=True)

    def run_scenario(scenario: str, base_url: str, **args) -> dict:
        return run_browser(scenario, base_url, args, shots)

    return run_scenario


def run_browser(scenario: str, base_url: str, args: dict, shots: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "tests.registration.browser", scenario, base_url,
         json.dumps(args), str(shots)],
        capture_output=True, text=True, timeout=150, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert not [e for e in seen["console_errors"] if "Content Security Policy" in e]
    assert list(shots.glob(f"{scenario}-*.png"))
    return seen


def euro(cents: int) -> str:
    return f"€{cents / 100:,.2f}"


def price(api, ticket_code: str, add_ons=(), member=False) -> int:
    """What the catalog says a ticket and its add-ons cost today."""
    catalog = api.get("/api/catalog").json()
    ticket = next(t for t in catalog["ticket_types"] if t["code"] == ticket_code)
    kind = "member" if member else "non_member"
    ticket_price = ticket[f"early_bird_{kind}"] if ticket["early_bird_now"] else ticket[
        f"price_{kind}"]
    return ticket_price + sum(a["price"] for a in catalog["add_ons"] if a["code"] in add_ons)


def price_of(api, person: dict) -> int:
    return price(api, person["ticket_type"], person["add_ons"], bool(person.get("member_code")))


def orders(api, q: str = "") -> list[dict]:
    response = api.get("/api/admin/orders", params={"q": q}, headers=api.as_admin())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def place_order(api, buyer: dict, delegates: list[dict]) -> dict:
    response = api.post("/api/orders", json={"buyer": buyer, "delegates": delegates,
                                             "payment_method": "card"})
    assert response.status_code == 201, response.text
    return response.json()


def team(organisation="Copernicus Science Centre", country="PL") -> list[dict]:
    """TEAM as the API takes it: every delegate with their organisation and country."""
    return [{k: v for k, v in {"organisation": organisation, "country": country,
                               **person}.items() if v != ""} for person in TEAM]


def payments_of(site, order: dict) -> list[dict]:
    return site.payments.get(f"/api/admin/orders/{order['id']}/payments",
                             headers=site.payments.as_admin()).json()["items"]


def assert_paid_once(site, order: dict, amount: int):
    assert order["status"] == "confirmed"
    assert order["amount_paid"] == amount == order["amount_due"]
    assert [p["status"] for p in payments_of(site, order)].count("succeeded") == 1


@pytest.mark.parametrize("card", [CARD_OK, CARD_3DS], ids=["card", "3d-secure"])
def test_one_delegate_books_and_pays_with_the_keyboard(site, browse, card):
    api = site.registration
    amount = price(api, "full", GREEK["add_ons"])
    seen = browse("register_and_pay", api.base_url, delegate=GREEK, card=card,
                  member_code=MEMBER_CODE, other_ticket_type="day-friday",
                  purchase_order="PO 4711")

    assert seen["unlabelled"] == []
    assert "Member €" in seen["full_ticket_details"]
    assert "Non-member €" in seen["full_ticket_details"]
    assert "Early-bird price until 15 March 2027" in seen["full_ticket_details"]
    # Every country the server accepts, by name, and nothing else.
    countries = api.get("/api/catalog").json()["countries"]
    assert seen["country_codes"][0] == "" and seen["countries"][0] == "Choose a country"
    assert sorted(seen["country_codes"][1:]) == sorted(c["code"] for c in countries)
    assert {"Greece", "Kosovo", "Belgium", "Japan", "Brazil"} <= set(seen["countries"])
    assert seen["estimate_member"] == euro(price(api, "full", GREEK["add_ons"], member=True))
    assert seen["estimate_member_other_ticket"] == euro(
        price(api, "day-friday", GREEK["add_ons"], member=True))
    assert seen["estimate_total"] == euro(amount)
    assert seen["estimate_live"] == f"Estimated total: {euro(amount)}"
    assert seen["focused_before_submit"] == "submit"
    assert seen["amount_due"] == euro(amount)
    assert seen["focused_after_booking"] == "payment-heading"
    assert seen["card_group_label"] == 1
    assert "confirmed" in seen["confirmation_status"]
    assert "#" not in seen["url_after_confirmation"]  # the token left the address bar
    assert seen["confirmation_delegates"] == [
        "Αλέξανδρος Παπαδόπουλος · Full conference (10-12 June) (non-member, early bird)"]
    assert seen["confirmation_paid"] == euro(amount)
    assert "receipt" in seen["next_steps"] and "badge" in seen["next_steps"]
    assert seen["receipt_start"] == "%PDF-"
    assert seen["receipt_filename"] == f"receipt-{seen['confirmation_reference']}.pdf"

    [order] = orders(api, "Παπαδόπουλος")
    assert order["id"] == seen["confirmation_id"]
    assert order["reference"] == seen["confirmation_reference"]
    assert seen["order_url"].endswith(f"/orders/{order['id']}")
    # The one delegate is the booking contact.
    assert (order["buyer"]["name"], order["buyer"]["email"], order["buyer"]["organisation"],
            order["buyer"]["country"], order["buyer"]["purchase_order"]) == (
        "Αλέξανδρος Παπαδόπουλος", "alexandros@example.org", "Eugenides Foundation", "GR",
        "PO 4711")
    [booked] = order["delegates"]
    assert (booked["given_name"], booked["country"], booked["add_ons"], booked["pronouns"]) == (
        "Αλέξανδρος", "GR", ["gala-dinner"], None)  # pronouns left out
    assert_paid_once(site, order, amount)


def test_a_group_of_three_books_and_pays_once(site, browse):
    api = site.registration
    amounts = [price_of(api, person) for person in TEAM]
    seen = browse("group_booking", api.base_url, buyer=FINANCE, delegates=TEAM, card=CARD_OK)

    # Adding a colleague copies organisation and country, and says so.
    assert seen["copied"] == {"organisation": "Copernicus Science Centre", "country": "PL"}
    assert seen["focused_after_add"] == "d2-given_name"
    assert seen["added_status"].startswith("Delegate 2 added.")
    assert seen["headings_with_four"] == [f"Delegate {n}" for n in (1, 2, 3, 4)]
    assert seen["removed_status"] == "Delegate 3 removed."
    assert seen["focused_after_remove"] == "add-delegate"
    assert seen["headings"] == ["Delegate 1", "Delegate 2", "Delegate 3"]
    assert seen["remove_buttons"] == ["Remove delegate 2", "Remove delegate 3"]
    assert seen["unlabelled"] == []
    # The estimate per delegate and for the order.
    assert seen["estimates"] == {"1": euro(amounts[0]), "2": euro(amounts[1]),
                                 "3": euro(amounts[2]), "order": euro(sum(amounts))}
    assert seen["estimate_lines"][0].startswith("Delegate 1: Full conference")
    assert "Łukasz Żółć" in seen["estimate_lines"][0]
    # One booking, one key; then "preparing" while payments prepares it, then the card.
    [key] = seen["idempotency_keys"]
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert seen["preparing"] == "Preparing your payment…"
    assert not seen["card_form_while_preparing"]
    assert seen["payment_asks"] >= 3  # two 202s, then the real answer
    assert seen["amount_due"] == euro(sum(amounts))
    assert [line.split("\t")[-1] for line in seen["amount_lines"]] == [euro(a) for a in amounts]
    assert "Łukasz Żółć" in seen["amount_lines"][0] and "Jan" in seen["amount_lines"][2]
    assert "confirmed" in seen["confirmation_status"]
    assert [d.split(" · ")[0] for d in seen["confirmation_delegates"]] == [
        "Łukasz Żółć", "Agnieszka Wróbel", "Jan"]
    assert seen["confirmation_paid"] == euro(sum(amounts))

    [order] = orders(api, "Księgowa")
    assert order["reference"] in seen["order_placed"]
    assert order["buyer"] == FINANCE
    assert [(d["given_name"], d["organisation"], d["country"], d["ticket_type"], d["add_ons"],
             d["amount_due"], d["status"]) for d in order["delegates"]] == [
        (p["given_name"], "Copernicus Science Centre", "PL", p["ticket_type"], p["add_ons"],
         amount, "confirmed") for p, amount in zip(TEAM, amounts, strict=True)]
    assert order["status"] == "confirmed" and order["amount_paid"] == sum(amounts)
    assert [p["status"] for p in payments_of(site, order)] == ["succeeded"]


def test_a_lost_answer_is_sent_again_with_the_same_key(site, browse):
    api = site.registration
    seen = browse("retry_after_network_error", api.base_url, delegate=GREEK)

    assert seen["lost_status"] == 201  # the server had booked
    assert "could not reach the server" in seen["network_error"]
    first, again = seen["idempotency_keys"]
    assert first == again
    [order] = orders(api)  # booked once
    assert order["reference"] in seen["order_placed"]
    assert seen["amount_due"] == euro(order["amount_due"])


def test_a_declined_card_then_another(site, browse):
    api = site.registration
    amount = price(api, "full", GREEK["add_ons"])
    seen = browse("declined_then_retry", api.base_url, delegate=GREEK,
                  declined_card=CARD_DECLINED, card=CARD_OK)

    assert "declined" in seen["decline_message"].lower()
    assert "card-error" in seen["card_described_by"].split()
    assert seen["pay_button_after_decline"] == f"Pay {euro(amount)}"
    assert "confirmed" in seen["confirmation_status"]
    [order] = orders(api, "Παπαδόπουλος")
    assert order["status"] == "confirmed" and order["amount_paid"] == amount
    tries = [(p["failure_reason"], p["status"] == "succeeded") for p in payments_of(site, order)]
    assert tries == [("card_declined", False), (None, True)]  # the declined intent, a new one


def one_place_for(add_on: str):
    def edit(document):
        next(a for a in document["add_ons"] if a["code"] == add_on)["capacity"] = 1
    return edit


@pytest.mark.catalog(edit=one_place_for(SOLD_OUT_ADD_ON))
def test_errors_are_shown_by_their_field(site, browse):
    api = site.registration
    bad_email = "agnieszka@example"  # the page's pattern lets it through; the server does not
    refused = api.post("/api/orders", json={"buyer": FINANCE, "delegates": [
        team()[0], {**team()[1], "email": bad_email}]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "delegates[1].email"
    mine = dict(GREEK, add_ons=[SOLD_OUT_ADD_ON])
    colleague = {"given_name": "Eleni", "family_name": "Kostopoulou", "email": bad_email,
                 "ticket_type": "day-friday", "add_ons": []}
    seen = browse(
        "validation_error", api.base_url, delegate=mine, colleague=colleague,
        viewport={"width": 360, "height": 800},
        clashing_workshops=["ws-evaluation", "ws-climate-dialogue"],
        competitor=delegate(add_ons=[SOLD_OUT_ADD_ON]), good_email="eleni@example.org",
        sold_out_add_on=SOLD_OUT_ADD_ON)

    # Nothing wider than a small phone.
    assert seen["page_width"] <= 360
    assert seen["page_width_with_errors"] <= 360 and seen["page_width_at_payment"] <= 360
    # In the page: delegate 1's empty given name, and two workshops in the same time slot.
    assert list(seen["page_errors"]) == ["d1-add_ons-error", "d1-given_name-error"]
    assert seen["page_errors"]["d1-add_ons-error"].startswith("Choose only one of")
    assert seen["page_errors"]["d1-given_name-error"] == "Enter the given name."
    assert seen["summary"] == [f"Delegate 1: {m}" for m in seen["page_errors"].values()]
    assert seen["summary_role"] == "alert"
    assert "d1-given_name-error" in seen["given_name_described_by"].split()
    assert seen["given_name_invalid"] == "true"
    assert seen["focused_after_page_check"].startswith("d1-add_ons-")
    # The server's refusal of delegate 2's email, by that field, and nothing else.
    message = refused.json()["error"]["message"]
    assert seen["server_errors"] == {"d2-email-error": message}
    assert seen["server_summary"] == [f"Delegate 2: {message}"]
    assert seen["email_described_by"].split() == ["d2-email-hint", "d2-email-error"]
    assert seen["focused_after_server_check"] == "d2-email"
    # Sold out between loading the page and booking: shown by delegate 1's add-ons.
    assert seen["competitor_status"] == 201
    [sold_out_error] = seen["sold_out_errors"].items()
    assert sold_out_error[0] == "d1-add_ons-error" and "is fully booked" in sold_out_error[1]
    assert seen["sold_out_disabled"] and "Sold out" in seen["sold_out_details"]
    kept = ["ws-climate-dialogue"]  # the workshop left after the clash was resolved
    amounts = [price(api, "full", kept), price(api, "day-friday")]
    assert seen["estimates_after_sold_out"] == {
        "1": euro(amounts[0]), "2": euro(amounts[1]), "order": euro(sum(amounts))}
    # and booking again went through.
    assert seen["amount_due"] == euro(sum(amounts))
    mine_now = [o for o in orders(api) if o["buyer"]["email"] == GREEK["email"]]
    [order] = mine_now
    assert order["reference"] in seen["order_placed"]
    assert [(d["email"], d["add_ons"]) for d in order["delegates"]] == [
        (GREEK["email"], kept), ("eleni@example.org", [])]
    assert order["status"] == "pending_payment"
    assert len(orders(api)) == 2  # the competitor's and this one, nothing else


def test_a_free_booking_needs_no_payment(site, browse):
    speaker = dict(GREEK, ticket_type="speaker", discount_code="SPEAKER27", add_ons=[])
    seen = browse("free_booking", site.registration.base_url, delegate=speaker)

    assert seen["estimate_total"] == euro(price(site.registration, "speaker"))  # before the code
    assert "payment_asked" not in seen  # straight to the confirmation
    assert "confirmed" in seen["confirmation_status"]
    assert seen["confirmation_paid"] == euro(0)
    [order] = orders(site.registration, "Παπαδόπουλος")
    assert (order["status"], order["amount_due"]) == ("confirmed", 0)


def test_the_buyers_order_page(site, browse):
    api = site.registration
    placed = place_order(api, FINANCE, team())
    amounts = [d["amount_due"] for d in placed["delegates"]]
    seen = browse("order_page", api.base_url, id=placed["id"], token=placed["token"],
                  card=CARD_OK, cancel_delegate="Agnieszka Wróbel",
                  viewport={"width": 360, "height": 800})

    assert "#" not in seen["url_after_open"]
    assert seen["amount_due"] == f"Amount due: {euro(sum(amounts))}"
    assert seen["cancel_buttons_while_pending"] == 0  # paid once for all: the whole order
    assert "confirmed" in seen["confirmation_status"]
    [payment] = payments_of(site, placed)
    assert payment["amount_received"] == sum(amounts)  # paid once, for everyone
    assert seen["page_width"] <= 360
    assert seen["unlabelled"] == []
    assert seen["buyer"] == "Zofia Księgowa, Copernicus Science Centre"
    assert seen["total"] == seen["paid"] == euro(sum(amounts))
    assert seen["delegates"] == ["Łukasz Żółć", "Agnieszka Wróbel", "Jan"]
    assert seen["shares"] == [euro(a) for a in amounts]
    assert seen["policy"] == ["until 15 April 2027: 100 % refunded",
                              "until 15 May 2027: 50 % refunded",
                              "after 15 May 2027: no refund"]
    assert seen["refund_now"] == f"If you cancel today, you get back {euro(sum(amounts))}."
    assert not seen["payment_visible"]
    assert seen["receipt_start"] == "%PDF-"
    assert seen["receipt_filename"] == f"receipt-{placed['reference']}.pdf"
    assert seen["focused_on_delegate_question"] == "delegate-2-question"
    assert seen["delegate_question"] == (
        "Cancel the place of Agnieszka Wróbel? This cannot be undone.")
    assert seen["statuses_after_delegate"] == ["Confirmed", "Cancelled", "Confirmed"]
    assert seen["cancel_buttons_after_delegate"] == 2  # the two still coming
    assert seen["order_status_after_delegate"] == "Confirmed"
    assert seen["focused_on_question"] == "cancel-question"
    assert "order is cancelled" in seen["status_after_cancel"]
    assert seen["statuses_after_cancel"] == ["Cancelled"] * 3
    assert not seen["cancel_visible_after_cancel"]
    now = site.order(placed)
    assert now["status"] == "cancelled"
    assert [d["status"] for d in now["delegates"]] == ["cancelled"] * 3


def test_managing_a_booking(site, browse):
    api = site.registration
    created = register(api, ticket_type="speaker", discount_code="SPEAKER27", add_ons=[])
    assert created["status"] == "confirmed"
    seen = browse("manage", api.base_url, id=created["id"], token=created["token"],
                  new_given_name="Łucja", viewport={"width": 360, "height": 800})

    assert "#" not in seen["url_after_open"]  # the token left the address bar
    assert seen["page_width"] <= 360
    assert seen["unlabelled"] == []
    assert not seen["receipt_button_visible"]  # free: no receipt
    assert not seen["paid_by_visible"]  # the delegate booked for themselves
    assert seen["policy"] == ["until 15 April 2027: 100 % refunded",
                              "until 15 May 2027: 50 % refunded",
                              "after 15 May 2027: no refund"]
    assert "3 June 2027" in seen["badge_hint"]
    assert seen["ticket_qr_width"] > 100  # the QR code's SVG, drawn
    assert seen["ticket_qr_alt"] == f"QR code of the e-ticket {created['reference']}"
    assert seen["ticket_caption"] == (
        f"Łukasz Żółć · {created['reference']} · Speaker, full conference (non-member)")
    assert seen["saved"].startswith("Saved")
    assert seen["ticket_caption_after_save"].startswith("Łucja Żółć · ")
    assert seen["focused_on_question"] == "cancel-question"
    assert "cancelled" in seen["status_after_cancel"]
    assert seen["booking_status_after_cancel"] == "Cancelled"
    assert not seen["badge_form_visible_after_cancel"]
    now = site.status(created)
    assert (now["given_name"], now["family_name"], now["status"]) == (
        "Łucja", "Żółć", "cancelled")


def test_paying_later_from_the_booking_page(site, browse):
    created = register(site.registration)
    seen = browse("manage_and_pay", site.registration.base_url, id=created["id"],
                  token=created["token"], card=CARD_OK)

    assert seen["amount_due"] == f"Amount due: {euro(created['amount_due'])}"
    assert seen["status_after_paying"] == "Confirmed"
    assert not seen["payment_visible_after_paying"]
    assert seen["receipt_button_visible"]
    assert seen["ticket_qr_width"] > 100
    order = site.order({"id": created["order_id"], "token": created["order_token"]})
    assert_paid_once(site, order, created["amount_due"])


def test_a_delegate_of_a_group_sees_their_booking_paid_by_the_buyer(site, browse):
    api = site.registration
    placed = place_order(api, FINANCE, team())
    colleague = placed["delegates"][1]
    seen = browse("group_delegate", api.base_url, id=colleague["id"], token=colleague["token"],
                  new_family_name="Wróbel-Nowak", viewport={"width": 360, "height": 800})

    assert seen["paid_by"].startswith(
        "Your booking is paid by Copernicus Science Centre, who booked it for you")
    assert not seen["payment_visible"] and not seen["cancel_visible"]
    assert not seen["receipt_visible"] and not seen["e_ticket_visible"]  # not paid yet
    assert seen["page_width"] <= 360
    assert seen["saved"].startswith("Saved")
    now = site.status(colleague)
    assert (now["family_name"], now["status"]) == ("Wróbel-Nowak", "pending_payment")


def test_the_dashboard(site, browse):
    api = site.registration
    paid = register(api, email="paid@example.org")
    site.pay(site.payment(paid))
    site.wait_for_status(paid, "confirmed")
    register(api, given_name="Ingrid", family_name="Ødegård", email="pending@example.org",
             add_ons=[])
    register(api, ticket_type="speaker", discount_code="SPEAKER27", add_ons=[],
             given_name="Søren", family_name="Ørsted", email="soren@example.dk",
             dietary_needs="no pork")
    gone = register(api, email="gone@example.org", add_ons=["ws-evaluation"])
    api.post(f"/api/registrations/{gone['id']}/cancel",
             headers={"X-Registration-Token": gone["token"]}).raise_for_status()
    group = place_order(api, FINANCE, team()[:2])
    stats = api.get("/api/admin/stats", headers=api.as_admin()).json()

    seen = browse("dashboard", api.base_url, admin_token=ADMIN_TOKEN, search="odegard")

    assert seen["wrong_token"] == "The admin token was not accepted."
    assert seen["by_status"] == {k: str(v) for k, v in stats["by_status"].items()}
    assert stats["by_status"] == {"pending_payment": 3, "confirmed": 2, "cancelled": 1,
                                  "expired": 0, "substituted": 0}
    assert seen["revenue"] == {k: euro(stats["revenue"][k])
                               for k in ("gross", "refunded", "net", "vat")}
    assert stats["revenue"]["gross"] == paid["amount_due"]
    assert seen["capacity_left"] == (f"Places left at the conference: "
                                     f"{stats['conference']['remaining']} of "
                                     f"{stats['conference']['capacity']}")
    assert seen["tickets"] == {t["code"]: [str(t[k]) for k in (
        "confirmed", "pending", "capacity", "remaining")] for t in stats["by_ticket_type"]}
    assert seen["add_ons"] == {a["code"]: [str(a[k]) for k in ("held", "capacity", "remaining")]
                               for a in stats["add_ons"]}
    # The orders, newest first, each with its delegates.
    assert seen["recent_found"] == "The 5 most recent of 5"
    newest = seen["orders"][0]
    assert newest["id"] == group["id"]
    assert group["reference"] in newest["order"]
    assert "Zofia Księgowa" in newest["order"] and "2 delegates" in newest["order"]
    assert "Awaiting payment" in newest["order"] and euro(group["amount_due"]) in newest["order"]
    assert [row.split("\t")[1] for row in newest["delegates"]] == [
        "Łukasz Żółć", "Agnieszka Wróbel"]
    assert "Day pass, Friday 11 June" in newest["delegates"][1]
    assert "Cancelled" in seen["orders"][1]["order"] and "1 delegate" in seen["orders"][1]["order"]
    [found] = seen["searched"]
    assert "Ingrid Ødegård" in found
    assert seen["csv_filename"] == "catering.csv"
    header, *rows = seen["csv"].splitlines()
    assert header.startswith("reference,given_name,family_name")
    assert any("Ørsted" in row and "no pork" in row for row in rows)


def test_lost_links_page(site, browse):
    seen = browse("lost_links", site.registration.base_url, email="nobody@example.org")
    assert seen["field_error"]  # the server's refusal, at its field
    assert "If bookings were made with this address" in seen["status"]
    assert seen["axe"] == []


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_the_buyer_sends_a_colleague_instead(site, browse, width):
    api = site.registration
    placed = place_order(api, FINANCE, team())
    assert site.pay(site.payment(placed)) == "succeeded"
    wait_until(lambda: site.order(placed)["status"] == "confirmed", 15,
               message="the order confirmed")
    seen = browse("substitution", api.base_url, id=placed["id"], token=placed["token"],
                  replace="Agnieszka Wróbel", viewport={"width": width, "height": 900},
                  colleague={"given_name": "Marek", "family_name": "Nowak",
                             "email": "marek@kopernik.example.org"})

    assert seen["focused_on_open"] == "substitute-heading"
    assert seen["heading"] == "Send a colleague instead of Agnieszka Wróbel"
    assert seen["prefilled"] == ["Copernicus Science Centre", "PL"]
    assert seen["errors_when_empty"] == {"given_name-error": "Enter the given name.",
                                         "email-error": "Enter the email address."}
    assert seen["focused_when_empty"] == "given_name"
    assert list(seen["errors_from_server"]) == ["email-error"]
    assert seen["page_width_with_errors"] <= width and seen["page_width"] <= width
    assert seen["unlabelled"] == [] and seen["axe"] == []
    assert seen["status"] == ("Marek Nowak now has the place of Agnieszka Wróbel. Their "
                              "e-ticket is on its way to marek@kopernik.example.org.")
    assert seen["delegates"] == ["Łukasz Żółć", "Marek Nowak", "Jan"]
    assert not seen["form_visible_after"]
    now = site.order(placed)
    assert [d["given_name"] for d in now["delegates"]] == ["Łukasz", "Marek", "Jan"]
    assert now["amount_paid"] == placed["amount_due"] and now["amount_refunded"] == 0
