"""The delegates' pages and the organisers' dashboard in a real browser (Debian's chromium
through Playwright, in tests/registration/browser.py), against registration and payments
running with localstripe, its Stripe.js stand-in and real webhooks."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, ROOT
from tests.registration.conftest import delegate, register
from tests.stack import (  # noqa: F401 - fixtures
    localstripe_url,
    payments_config,
    stack,
    stripe_client,
    webhook,
)

SCREENSHOTS = ROOT / "var" / "screenshots" / "registration"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"
GREEK = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος",
         "organisation": "Eugenides Foundation", "country": "GR",
         "email": "alexandros@example.org", "ticket_type": "full", "add_ons": ["gala-dinner"]}
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


def find(api, q: str) -> list[dict]:
    response = api.get("/api/admin/registrations", params={"q": q}, headers=api.as_admin())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def assert_paid_once(site, registration: dict, amount: int):
    assert registration["status"] == "confirmed"
    assert registration["amount_paid"] == amount == registration["amount_due"]
    payments = site.payments.get(f"/api/admin/registrations/{registration['id']}/payments",
                                 headers=site.payments.as_admin()).json()["items"]
    assert [p["status"] for p in payments].count("succeeded") == 1
    return payments


@pytest.mark.parametrize("card", [CARD_OK, CARD_3DS], ids=["card", "3d-secure"])
def test_register_and_pay_with_the_keyboard(site, browse, card):
    amount = price(site.registration, "full", GREEK["add_ons"])
    seen = browse("register_and_pay", site.registration.base_url, delegate=GREEK, card=card,
                  member_code="ECSITE-MEMBER-2027", other_ticket_type="day-friday")

    assert seen["unlabelled"] == []
    assert "Member €" in seen["full_ticket_details"]
    assert "Non-member €" in seen["full_ticket_details"]
    assert "Early-bird price until 15 March 2027" in seen["full_ticket_details"]
    assert seen["estimate_member"] == euro(
        price(site.registration, "full", GREEK["add_ons"], member=True))
    assert seen["estimate_member_other_ticket"] == euro(
        price(site.registration, "day-friday", GREEK["add_ons"], member=True))
    assert seen["estimate_total"] == euro(amount)
    assert seen["focused_before_submit"] == "submit"
    assert seen["amount_due"] == euro(amount)
    assert seen["card_group_label"] == 1
    assert "confirmed" in seen["confirmation_status"]
    assert seen["confirmation_name"] == "Αλέξανδρος Παπαδόπουλος"
    assert seen["confirmation_paid"] == euro(amount)
    assert "receipt" in seen["next_steps"] and "badge" in seen["next_steps"]
    assert seen["receipt_start"] == "%PDF-"
    assert seen["receipt_filename"] == f"receipt-{seen['confirmation_reference']}.pdf"

    [registration] = find(site.registration, "Παπαδόπουλος")
    assert registration["id"] == seen["confirmation_id"]
    assert registration["reference"] == seen["confirmation_reference"]
    assert (registration["given_name"], registration["country"], registration["add_ons"]) == (
        "Αλέξανδρος", "GR", ["gala-dinner"])
    assert registration["pronouns"] is registration["billing_address"] is None  # left out
    assert_paid_once(site, registration, amount)


def test_a_declined_card_then_another(site, browse):
    amount = price(site.registration, "full", GREEK["add_ons"])
    seen = browse("declined_then_retry", site.registration.base_url, delegate=GREEK,
                  declined_card=CARD_DECLINED, card=CARD_OK)

    assert "declined" in seen["decline_message"].lower()
    assert "card-error" in seen["card_described_by"].split()
    assert seen["pay_button_after_decline"] == f"Pay {euro(amount)}"
    assert "confirmed" in seen["confirmation_status"]
    [registration] = find(site.registration, "Παπαδόπουλος")
    payments = assert_paid_once(site, registration, amount)
    assert [(p["failure_reason"], p["status"] == "succeeded") for p in payments] == [
        ("card_declined", False), (None, True)]  # the declined intent, then a new one


def one_place_for(add_on: str):
    def edit(document):
        next(a for a in document["add_ons"] if a["code"] == add_on)["capacity"] = 1
    return edit


@pytest.mark.catalog(edit=one_place_for(SOLD_OUT_ADD_ON))
def test_errors_are_shown_by_their_field(site, browse):
    api = site.registration
    bad_email = "lukasz@example"  # the page's pattern lets it through; the server does not
    refused = api.post("/api/registrations", json=delegate(email=bad_email))
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "email"
    mine = dict(GREEK, email=bad_email, add_ons=[SOLD_OUT_ADD_ON])
    seen = browse(
        "validation_error", api.base_url, delegate=mine, viewport={"width": 360, "height": 800},
        clashing_workshops=["ws-evaluation", "ws-climate-dialogue"],
        competitor=delegate(add_ons=[SOLD_OUT_ADD_ON]), good_email="alexandros@example.org",
        sold_out_add_on=SOLD_OUT_ADD_ON)

    assert seen["page_width"] <= 360  # nothing wider than a small phone
    # In the page: the empty given name, and two workshops in the same time slot.
    assert seen["page_error_fields"] == ["add_ons-error", "given_name-error"]
    assert seen["page_errors"][0].startswith("Choose only one of")
    assert seen["page_errors"][1] == "Enter your given name."
    assert seen["summary_role"] == "alert"
    assert "given_name-error" in seen["given_name_described_by"].split()
    assert seen["given_name_invalid"] == "true"
    assert seen["focused_after_page_check"].startswith("add_ons-")
    # The server's refusal, by the field it names, and nothing else.
    assert seen["server_email_error"] == refused.json()["error"]["message"]
    assert seen["errors_after_server_check"] == [refused.json()["error"]["message"]]
    assert seen["email_described_by"].split() == ["email-hint", "email-error"]
    assert seen["focused_after_server_check"] == "email"
    # Sold out between loading the page and registering: shown by the add-ons.
    assert seen["competitor_status"] == 201
    assert "is fully booked" in seen["sold_out_error"]
    assert seen["errors_after_sold_out"] == [seen["sold_out_error"]]
    assert seen["sold_out_disabled"] and "Sold out" in seen["sold_out_details"]
    kept = ["ws-climate-dialogue"]  # the workshop left after the clash was resolved
    amount = price(api, "full", kept)
    assert seen["estimate_after_sold_out"] == euro(amount)
    # and registering again went through.
    assert seen["amount_due"] == euro(amount)
    [registration] = find(api, "alexandros@example.org")
    assert registration["reference"] in seen["registered_as"]
    assert (registration["status"], registration["add_ons"]) == ("pending_payment", kept)
    assert len(find(api, "")) == 2  # the competitor and the delegate, nobody else


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
    assert seen["policy"] == ["until 15 April 2027: 100 % refunded",
                              "until 15 May 2027: 50 % refunded",
                              "after 15 May 2027: no refund"]
    assert "3 June 2027" in seen["badge_hint"]
    assert seen["saved"].startswith("Saved")
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
    assert "confirmed" in seen["confirmation_status"]
    assert_paid_once(site, site.status(created), created["amount_due"])


def test_the_dashboard(site, browse):
    api = site.registration
    paid = register(api, email="paid@example.org")
    site.pay(paid["payment"])
    site.wait_for_status(paid, "confirmed")
    register(api, given_name="Ingrid", family_name="Ødegård", email="pending@example.org",
             add_ons=[])
    register(api, ticket_type="speaker", discount_code="SPEAKER27", add_ons=[],
             given_name="Søren", family_name="Ørsted", email="soren@example.dk",
             dietary_needs="no pork")
    gone = register(api, email="gone@example.org", add_ons=["ws-evaluation"])
    api.post(f"/api/registrations/{gone['id']}/cancel",
             headers={"X-Registration-Token": gone["token"]}).raise_for_status()
    stats = api.get("/api/admin/stats", headers=api.as_admin()).json()

    seen = browse("dashboard", api.base_url, admin_token=ADMIN_TOKEN, search="odegard")

    assert seen["wrong_token"] == "The admin token was not accepted."
    assert seen["by_status"] == {k: str(v) for k, v in stats["by_status"].items()}
    assert stats["by_status"] == {"pending_payment": 1, "confirmed": 2, "cancelled": 1,
                                  "expired": 0}
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
    assert len(seen["recent"]) == 4
    assert "Cancelled" in seen["recent"][0] and "Awaiting payment" in seen["recent"][2]
    assert seen["recent_found"] == "The 4 most recent of 4"
    [found] = seen["searched"]
    assert "Ingrid Ødegård" in found
    assert seen["csv_filename"] == "catering.csv"
    header, *rows = seen["csv"].splitlines()
    assert header.startswith("reference,given_name,family_name")
    assert any("Ørsted" in row and "no pork" in row for row in rows)
