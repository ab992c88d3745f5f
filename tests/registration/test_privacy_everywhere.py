"""The right of access and the right to be forgotten across the four services, through the
real parts: a delegate books, pays by card (localstripe, signed webhooks), gets their
emails (SMTP) and their badge; the organiser exports everything every service holds about
them, then erases them; afterwards no service's API, database row or outbox row holds their
name or email, except the invoice payments must keep."""

import pytest

from services.badges.service import BadgesService
from tests.conftest import make_config, wait_until
from tests.erasure import rows_naming
from tests.registration.conftest import register

GIVEN, FAMILY, EMAIL = "Wiesława", "Przybyszewska", "wieslawa.p@example.org"
NEEDLES = (GIVEN, FAMILY, EMAIL)


@pytest.fixture
def badges(start_service, amqp_uri, tmp_path):
    config = make_config("badges", amqp_uri, f"sqlite:///{tmp_path / 'badges.db'}")
    start_service(BadgesService, config)
    return config


def test_export_then_erase_a_paid_delegate_everywhere(stack, mail, badges, payments_config,
                                                     tmp_path):
    api = stack.registration
    created = register(api, given_name=GIVEN, family_name=FAMILY, email=EMAIL, add_ons=[])
    stack.pay(stack.payment(created))
    stack.wait_for_status(created, "confirmed")
    mail.wait_for(2)  # the payment confirmation and the e-ticket
    assert api.post("/api/links", json={"email": EMAIL}).status_code == 202
    mail.wait_for(3)  # and the links asked for
    urls = {"registration": f"sqlite:///{tmp_path / 'registration.db'}",
            "payments": payments_config["DATABASE_URL"], "badges": badges["DATABASE_URL"],
            "notifications": stack.notifications_config["DATABASE_URL"]}
    wait_until(lambda: rows_naming(urls["badges"], [FAMILY]), message="the badge")

    exported = api.get(f"/api/admin/registrations/{created['id']}/export",
                       headers=api.as_admin())
    assert exported.status_code == 200, exported.text
    parts = {part["service"]: part for part in exported.json()["services"]}
    assert set(parts) == {"registration", "payments", "badges", "notifications"}
    for name, part in parts.items():
        assert FAMILY in str(part["data"]) or EMAIL in str(part["data"]), name

    erased = api.post(f"/api/admin/registrations/{created['id']}/erase",
                      headers=api.as_admin())
    assert erased.status_code == 202

    def forgotten():
        return all(not rows_naming(url, NEEDLES, but_not=("documents",))
                   for url in urls.values())

    wait_until(forgotten, timeout=20, message="every service to forget the delegate")
    assert rows_naming(urls["payments"], [FAMILY])  # the invoice, kept by law
    after = api.get(f"/api/admin/registrations/{created['id']}/export",
                    headers=api.as_admin()).json()
    for part in after["services"]:
        text = str(part["data"])
        if part["service"] != "payments":
            assert not any(needle in text for needle in NEEDLES), part["service"]
        assert part["kept"], part["service"]
    assert api.get(f"/api/admin/registrations?q={FAMILY}",
                   headers=api.as_admin()).json()["items"] == []
