"""Sending a colleague instead from the desk page, in chromium, through the real parts
(registration, payments, badges, notifications on RabbitMQ, localstripe): the desk finds a
paid delegate and sends a colleague in their place (the page calls registration across
origins), sees the colleague ready to check in and prints their badge; the delegate's ticket
is then red, "replaced", and the colleague's green. At phone and desktop widths in one
browser, with axe; the action is not offered offline."""

from services.badges.service import page_security
from tests.badges.conftest import SECRET, run_browser
from tests.conftest import DESK_TOKEN, wait_until
from tests.registration.conftest import delegate
from tests.stack import (  # noqa: F401 - fixtures of the stack
    everything,
    localstripe_url,
    mail,
    payments_config,
    stack,
    stripe_client,
    webhook,
)

BUYER = {"name": "Inês Costa", "email": "bookings@pavilhao.example",
         "organisation": "Pavilhão do Conhecimento", "country": "PT"}
WIDTHS = [390, 1280]  # a phone, a laptop
DELEGATES = [("Rita", "Sousa"), ("João", "Lima"), ("Ana", "Nunes")]  # the last one stays
COLLEAGUES = [  # one sent at each width; the second's family name prints first
    ({"given_name": "Tomás", "family_name": "Ferreira", "email": "tomas@pavilhao.example"},
     "Ferreira Tomás"),
    ({"given_name": "明", "family_name": "王", "email": "ming@pavilhao.example"}, "王 明")]


def paid_order(running) -> dict:
    order = running.registration.post("/api/orders", json={
        "buyer": BUYER, "payment_method": "card", "delegates": [
            delegate(given_name=given, family_name=family, organisation=BUYER["organisation"],
                     country="PT", email=f"{family.lower()}@pavilhao.example")
            for given, family in DELEGATES]}).json()
    assert running.pay(running.payment(order)) == "succeeded"
    wait_until(lambda: running.order(order)["status"] == "confirmed", 15,
               message="the order confirmed")
    return order


def desk_badge(badges, reference) -> dict | None:
    found = badges.get("/api/desk/search", params={"q": reference},
                       headers=badges.as_desk()).json()["items"]
    return found[0] if found and found[0]["badge_version"] else None


def test_the_desk_page_may_call_registration_and_nothing_else():
    policy = page_security("https://tickets.example/")["Content-Security-Policy"]
    assert "connect-src 'self' https://tickets.example;" in policy


def test_the_desk_sends_a_colleague_instead(everything):  # noqa: F811 - imported above
    running, badges, _ = everything
    registration = running.badges_config["REGISTRATION_PUBLIC_URL"]
    assert badges.get("/api/desk/page-config").json() == {"registration_url": registration}
    policy = badges.get("/desk").headers["Content-Security-Policy"]
    assert f"connect-src 'self' {registration};" in policy
    order = paid_order(running)
    people = [{"registration_id": d["id"], "name": f"{given} {family}", "search": family}
              for d, (given, family) in zip(order["delegates"], DELEGATES, strict=True)]
    for created in order["delegates"]:
        wait_until(lambda: desk_badge(badges, created["reference"]), 20,  # noqa: B023
                   message="the delegate's badge")

    seen = run_browser("colleague", badges.base_url, desk_token=DESK_TOKEN, secret=SECRET,
                       widths=WIDTHS, delegates=people[:2],
                       colleagues=[body for body, _ in COLLEAGUES], stays=people[2])

    for width, replaced, (_, name) in zip(WIDTHS, people[:2], COLLEAGUES, strict=True):
        at = seen[str(width)]
        assert at["prefilled"] == [BUYER["organisation"], "PT"]
        # A refusal is shown by the field it names.
        assert at["email_error"] and at["email_invalid"] == "true"
        # The colleague: green, ready to check in, with the delegate's ticket; printed.
        assert at["status"] == 201 and at["form_hidden"]
        assert "ok" in at["colleague"]["tone"] and name in at["colleague"]["text"]
        assert "Full conference" in at["colleague"]["text"]
        assert f"instead of {replaced['name']}" in at["colleague"]["text"]
        assert "REPLACED" in at["results"][0] and replaced["name"] in at["results"][0]
        assert at["printed"] == "Badge printed from this browser."
        # The delegate's ticket no longer admits anyone; the colleague's does.
        assert "bad" in at["old_ticket"]["tone"]
        assert "passed to a colleague" in at["old_ticket"]["text"]
        assert "ok" in at["new_ticket"]["tone"] and name in at["new_ticket"]["text"]
        assert at["print_dialogs"] == 2  # the badge offered, then the green check-in's
        assert at["axe_form"] == at["axe_colleague"] == []
    assert seen["offline_offered"] == 0
    # Registration has the colleagues in the places; the desk has them checked in.
    now = running.order(order)["delegates"]
    assert [d["given_name"] for d in now] == ["Tomás", "明", "Ana"]
    for colleague in now[:2]:
        assert desk_badge(badges, colleague["reference"])["checked_in_at"]
