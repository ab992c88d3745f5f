"""The "hold expired" email leads to booking again with the order's details filled in:
through registration, payments, localstripe, notifications with a real SMTP server, and
the registration page in Debian's chromium (tests/notifications/rebook_browser.py)."""

import json
import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from services.notifications.service import NotificationsService
from tests import stack as the_stack
from tests.conftest import ROOT
from tests.notifications.conftest import place_order

localstripe_url, stripe_client, webhook, payments_config, stack = (
    the_stack.localstripe_url, the_stack.stripe_client, the_stack.webhook,
    the_stack.payments_config, the_stack.stack)

SCREENSHOTS = ROOT / "var" / "screenshots" / "notifications"
BILLING = {"billing_address": "Strada Statale 7, 20100 Milano", "vat_number": "IT12345678901",
           "purchase_order": "PO-77"}
DELEGATES = [
    {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος", "pronouns": "he/him",
     "organisation": "NOESIS Thessaloniki Science Center", "country": "GR",
     "email": "alexandros@noesis.gr", "ticket_type": "full",
     "add_ons": ["gala-dinner", "ws-evaluation"], "member_code": "ECSITE-MEMBER-2027"},
    {"given_name": "小明", "family_name": "王", "name_order": "family_first", "pronouns": None,
     "organisation": "China Science and Technology Museum", "country": "CN",
     "email": "wang@example.org", "ticket_type": "day-friday", "add_ons": []},
]


@pytest.fixture
def notifications(start_service, notifications_config, stack):
    return start_service(NotificationsService, notifications_config)[1]


def open_in_chromium(base_url: str, link: str, shots) -> dict:
    shutil.rmtree(shots, ignore_errors=True)
    run = subprocess.run(
        [sys.executable, "-m", "tests.notifications.rebook_browser", base_url, link,
         str(shots)], capture_output=True, text=True, timeout=150, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.catalog(conference={"hold_minutes": 0.02})
def test_the_hold_expired_link_opens_the_booking_form_filled_in(stack, notifications,
                                                                 mail_sink):
    order = place_order(stack.registration, DELEGATES, **BILLING)
    [expired] = [m for m in mail_sink.wait_for(2, timeout=30) if "expired" in m["Subject"]]
    text = expired.get_body(("plain",)).get_content()
    [link] = re.findall(r"https://tickets\.ecsite\.test(/\?rebook=\S+)", text)
    assert link in expired.get_body(("html",)).get_content()
    # Only the order's id goes to the server; the token stays after '#'.
    parts = urlsplit(link)
    assert (parts.query, parts.fragment) == (f"rebook={order['id']}", f"token={order['token']}")
    shown = stack.registration.get(f"/api/orders/{order['id']}",
                                   headers={"X-Order-Token": order["token"]})
    assert shown.status_code == 200 and shown.json()["status"] == "expired"

    seen = open_in_chromium(stack.registration.base_url, link,
                            SCREENSHOTS / "hold-expired-link")

    assert seen["console_errors"] == []
    for filled, booked, view in zip(seen["form"]["delegates"], DELEGATES,
                                    shown.json()["delegates"], strict=True):
        assert filled == {
            **{name: booked[name] or "" for name in (
                "given_name", "family_name", "pronouns", "organisation", "country", "email")},
            # as the order's view gives it (the form's default while the view has none)
            "name_order": view.get("name_order", "given_first"),
            "ticket_type": [booked["ticket_type"]], "add_ons": sorted(booked["add_ons"]),
            "member_code": "", "discount_code": ""}  # codes are typed again
    assert seen["form"]["buyer_is_delegate"] is False
    assert seen["form"]["buyer"] == {
        "name": "Maria Rossi", "email": "maria.rossi@example.org",
        "organisation": "Museo Nazionale della Scienza e della Tecnologia", "country": "IT",
        **BILLING}
    assert "token" not in seen["url_after"]
    sent = seen["requests"]
    assert not [r["url"] for r in sent if order["token"] in r["url"] or "@" in r["url"]]
    assert [r["order_token"] for r in sent if r["url"].endswith(f"/api/orders/{order['id']}")
            ] == [order["token"]]
    assert seen["problem"] is None

    # A link whose token is not the order's opens the form empty, and says why.
    forged = open_in_chromium(stack.registration.base_url, link.replace(
        order["token"], order["delegates"][0]["token"]), SCREENSHOTS / "hold-expired-forged")
    assert "This link does not open this booking" in forged["problem"]
    assert forged["form"]["delegates"][0]["given_name"] == ""
