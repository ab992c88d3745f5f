"""Lost links: whoever asks gets the same answer; the bookings' owner gets their private
links by email (real SMTP), which open their bookings; an address with no booking gets
nothing; asking again and again is throttled whatever the address."""

import re

from services.registration.service import RegistrationService
from tests.conftest import wait_until
from tests.registration.conftest import delegate, register

OWNER = "maria.lost@example.org"


def links_mail(mail, to: str) -> list:
    return [m for m in mail.messages()
            if m["Subject"].startswith("Your links") and m["To"] == to]


def test_the_owner_gets_links_that_open_each_booking(stack, mail):
    api = stack.registration
    own = register(api, email=OWNER, given_name="María", family_name="López")
    group = api.post("/api/orders", json={
        "buyer": {"name": "María López", "email": OWNER, "organisation": "Museo",
                  "country": "ES"},
        "delegates": [delegate(email="ana@example.org"), delegate(email="luis@example.org")],
        "payment_method": "card"}).json()

    nobody = api.post("/api/links", json={"email": "nobody@example.org"})
    asked = api.post("/api/links", json={"email": OWNER.upper()})
    assert nobody.status_code == asked.status_code == 202
    assert nobody.json() == asked.json()  # the answer tells nothing

    (email,) = wait_until(lambda: links_mail(mail, OWNER), message="the links email")
    text = email.get_body(("plain",)).get_content()
    assert "María López" in text and own["reference"] in text and group["reference"] in text
    assert "ana@example.org" not in text  # the other delegates' own links are theirs
    manage = re.search(r"/manage/([0-9a-f-]+)#token=(\S+)", text)
    order = re.search(r"/orders/([0-9a-f-]+)#token=(\S+)", text)
    assert api.get(f"/api/registrations/{manage[1]}",
                   headers={"X-Registration-Token": manage[2]}).status_code == 200
    assert api.get(f"/api/orders/{order[1]}",
                   headers={"X-Order-Token": order[2]}).status_code == 200
    assert not links_mail(mail, "nobody@example.org")


def test_asking_again_and_again_is_throttled_whatever_the_address(
        start_service, registration_config):
    config = {**registration_config, "RATE_LIMITS": "on",
              "ABUSE_LIMITS": "links_per_email=2/3600,links_per_client=3/600"}
    _, api = start_service(RegistrationService, config)
    answers = [api.post("/api/links", json={"email": "someone@example.org"}).status_code
               for _ in range(3)]
    assert answers == [202, 202, 429]
    assert api.post("/api/links", json={"email": "other@example.org"}).status_code == 202
    too_many = api.post("/api/links", json={"email": "third@example.org"})
    assert too_many.status_code == 429 and int(too_many.headers["Retry-After"]) > 500
    assert api.post("/api/links", json={"email": "not an address"}).status_code == 422
