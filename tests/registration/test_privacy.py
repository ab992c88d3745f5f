"""No delegate's personal data, and no token, is written to the logs."""

import logging

from tests.conftest import DESK_TOKEN, FINANCE_TOKEN
from tests.registration.conftest import delegate, register


def test_nothing_personal_reaches_the_logs(registration, caplog):
    caplog.set_level(logging.DEBUG)
    created = register(registration, given_name="Zdzisława", family_name="Brzęczyszczykiewicz",
                       email="zdzislawa.b@example.org", dietary_needs="no shellfish")
    headers = {"X-Registration-Token": created["token"]}
    registration.get(f"/api/registrations/{created['id']}", headers=headers)
    registration.get(f"/api/registrations/{created['id']}",
                     headers={"X-Registration-Token": "forged"})
    registration.post("/api/registrations", json=delegate(
        given_name="Zdzisława", email="zdzislawa.b@", family_name="Brzęczyszczykiewicz"))
    registration.get("/api/admin/registrations", params={"q": "Brzęczyszczykiewicz"},
                     headers=registration.as_admin())
    registration.get("/api/admin/registrations.csv", headers=registration.as_admin())
    registration.patch(f"/api/registrations/{created['id']}",
                       json={"family_name": "x" * 200}, headers=headers)

    logged = caplog.text
    assert logged, "the logs were not captured"
    for secret in ["Zdzisława", "Brzęczyszczykiewicz", "zdzislawa", "shellfish",
                   created["token"]]:
        assert secret not in logged


def test_the_finance_role_sees_money_not_needs(registration):
    """A finance token opens orders and corrects billing, but never sees dietary or
    accessibility needs, exports, statistics or the registrations search."""
    created = register(registration, dietary_needs="no shellfish",
                       accessibility_needs="step-free access")
    finance = {"Authorization": f"Bearer {FINANCE_TOKEN}"}
    orders = registration.get("/api/admin/orders", headers=finance)
    order = registration.get(f"/api/admin/orders/{created['order_id']}", headers=finance)
    assert orders.status_code == order.status_code == 200
    for answer in (orders, order):
        assert "shellfish" not in answer.text and "step-free" not in answer.text
    for path in ("/api/admin/registrations", "/api/admin/registrations.csv",
                 "/api/admin/exports/catering.csv", "/api/admin/stats"):
        assert registration.get(path, headers=finance).status_code == 403, path
    corrected = registration.patch(f"/api/admin/orders/{created['order_id']}/billing",
                                   json={"billing_address": "Rue Royale 1, Bruxelles"},
                                   headers=finance)
    assert corrected.status_code == 200
    assert corrected.json()["buyer"]["billing_address"] == "Rue Royale 1, Bruxelles"
    desk = registration.patch(f"/api/admin/orders/{created['order_id']}/billing",
                              json={"billing_address": "x"},
                              headers={"Authorization": f"Bearer {DESK_TOKEN}"})
    assert desk.status_code == 403

