"""No delegate's personal data, and no token, is written to the logs."""

import logging

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
