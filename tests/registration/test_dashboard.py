"""What organisers see: the sale's figures, the CSV exports, attendance from check-ins,
and the pages served with their security headers."""

import csv
import io

from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, text

from services.registration.service import RegistrationService
from shared.events import new_event
from tests.registration.conftest import delegate, register


def rows(api, kind) -> list[dict]:
    response = api.get(f"/api/admin/exports/{kind}.csv", headers=api.as_admin())
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_figures_exports_and_attendance(start_service, registration_config, publish):
    container, api = start_service(RegistrationService, registration_config)
    pending = register(api, dietary_needs="vegan", email="pending@example.org")
    speaker = register(api, ticket_type="speaker", discount_code="SPEAKER27", add_ons=[],
                       given_name="Søren", family_name="Ørsted", dietary_needs="no pork",
                       accessibility_needs="wheelchair user", email="soren@example.dk")
    with entrypoint_waiter(container, "on_payment_succeeded"):
        publish(new_event("payment_succeeded", {
            "order_id": pending["order_id"], "method": "card", "payment_intent_id": "pi_1",
            "amount": pending["amount_due"], "currency": "EUR"}))
    with entrypoint_waiter(container, "on_delegate_checked_in"):
        publish(new_event("delegate_checked_in", {
            "registration_id": speaker["id"], "checked_in_at": "2027-06-10T08:12:00Z"}))

    stats = api.get("/api/admin/stats", headers=api.as_admin()).json()
    assert stats["by_status"]["confirmed"] == 2
    assert stats["revenue"]["gross"] == pending["amount_due"]
    assert stats["revenue"]["vat"] == pending["vat_amount"]
    full = next(t for t in stats["by_ticket_type"] if t["code"] == "full")
    assert full["confirmed"] == 1 and full["remaining"] == full["capacity"] - 1
    assert stats["conference"]["remaining"] == stats["conference"]["capacity"] - 2

    assert {r["family_name"] for r in rows(api, "catering")} == {"Żółć", "Ørsted"}
    assert [r["accessibility_needs"] for r in rows(api, "accessibility")] == [
        "wheelchair user"]
    [attended] = rows(api, "attendance")
    assert attended["family_name"] == "Ørsted" and attended["checked_in_at"].startswith(
        "2027-06-10T08:12")
    assert len(rows(api, "delegates")) == 2
    assert api.get("/api/admin/exports/secrets.csv", headers=api.as_admin()).status_code == 404
    assert api.get("/api/admin/stats", headers=api.as_desk()).status_code == 403


def test_the_newest_registrations_come_first_without_a_search(registration):
    first = register(registration, email="first@example.org")
    second = register(registration, email="second@example.org")
    items = registration.get("/api/admin/registrations",
                             headers=registration.as_admin()).json()["items"]
    assert [i["id"] for i in items] == [second["id"], first["id"]]


def test_orders_come_with_their_delegates_newest_first(registration):
    single = register(registration, email="single@example.org")
    group = registration.post("/api/orders", json={
        "buyer": {"name": "Zofia Księgowa", "email": "finance@example.org",
                  "organisation": "Copernicus Science Centre", "country": "PL"},
        "delegates": [delegate(email="one@example.org"),
                      delegate(given_name="Agnieszka", email="two@example.org", add_ons=[])]})
    assert group.status_code == 201, group.text

    listed = registration.get("/api/admin/orders", headers=registration.as_admin()).json()
    assert listed["total"] == 2
    assert [o["id"] for o in listed["items"]] == [group.json()["id"], single["order_id"]]
    assert [d["given_name"] for d in listed["items"][0]["delegates"]] == ["Łukasz", "Agnieszka"]
    found = registration.get("/api/admin/orders", params={"q": "agnieszka"},
                             headers=registration.as_admin()).json()
    assert [o["id"] for o in found["items"]] == [group.json()["id"]]
    assert registration.get("/api/admin/orders",
                            headers=registration.as_desk()).status_code == 403


def test_every_page_is_served_with_its_security_headers(registration):
    for path, title in [("/", "register.title"), ("/confirmation/o-1", "confirmation.title"),
                        ("/orders/o-1", "order.title"), ("/manage/r-1", "manage.title"),
                        ("/admin", "admin.title")]:
        page = registration.get(path)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert f'data-t="{title}"' in page.text
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self' " in policy and "'unsafe-inline'" not in policy.split(
            "style-src")[0]
    for asset in ("order.js", "common.js", "strings.js", "app.css"):
        assert registration.get(f"/static/{asset}").status_code == 200


def test_page_config_names_stripe_js(registration):
    config = registration.get("/api/page-config").json()
    assert config["stripe_js_url"].endswith("/js.stripe.com/v3/")
    assert config["publishable_key"].startswith("pk_")


def test_names_stored_before_they_were_refused_are_shown_before_printing(
        start_service, registration_config):
    _, api = start_service(RegistrationService, registration_config)
    fine = register(api)
    stored = register(api, email="old@example.org")
    with create_engine(registration_config["DATABASE_URL"]).begin() as connection:
        connection.execute(text("UPDATE registrations SET given_name = :name WHERE id = :id"),
                           {"name": "Anna \U0001F9EA", "id": stored["id"]})
    stats = api.get("/api/admin/stats", headers=api.as_admin()).json()
    assert stats["unprintable"] == [{"id": stored["id"], "reference": stored["reference"],
                                     "name": "Anna \U0001F9EA Żółć", "characters": "\U0001F9EA"}]
    assert fine["id"] not in str(stats["unprintable"])
