"""The registration HTTP API through a running service, RabbitMQ and SQLite."""

import csv
import io
import unicodedata

import pytest

from services.registration.service import RegistrationService
from tests.conftest import FINANCE_TOKEN, make_config
from tests.registration.conftest import delegate, register


def admin_total(api) -> int:
    response = api.get("/api/admin/registrations", headers=api.as_admin())
    assert response.status_code == 200
    return response.json()["total"]


class TestServiceBasics:
    def test_health(self, registration):
        assert registration.get("/health").json() == {"status": "ok", "service": "registration"}

    def test_openapi_describes_every_route(self, registration):
        document = registration.get("/openapi.json").json()
        assert document["openapi"].startswith("3.")
        assert {"/api/catalog", "/api/registrations", "/api/registrations/{registration_id}",
                "/api/registrations/{registration_id}/cancel", "/api/admin/registrations",
                "/api/admin/registrations.csv", "/health"} <= set(document["paths"])
        create = document["paths"]["/api/registrations"]["post"]
        schema = create["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/RegistrationRequest"}
        assert "email" in document["components"]["schemas"]["RegistrationRequest"]["properties"]
        assert document["paths"]["/api/admin/registrations"]["get"]["security"]

    def test_unknown_routes_and_methods_answer_json(self, registration):
        missing = registration.get("/nothing-here")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        wrong_method = registration.delete("/api/catalog")
        assert wrong_method.status_code == 405
        assert wrong_method.json()["error"]["code"] == "method_not_allowed"

    def test_security_headers(self, registration):
        headers = registration.get("/api/catalog").headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"


class TestCatalog:
    def test_catalog_shows_prices_and_live_availability(self, registration):
        before = registration.get("/api/catalog").json()
        full = next(t for t in before["ticket_types"] if t["code"] == "full")
        assert full["price_member"] < full["price_non_member"]
        assert full["early_bird_until"]
        assert before["remaining"] == 1200
        register(registration, add_ons=["ws-evaluation"])
        after = registration.get("/api/catalog").json()
        assert after["remaining"] == 1199
        assert next(t for t in after["ticket_types"] if t["code"] == "full")["remaining"] == (
            full["remaining"] - 1)
        workshop = next(a for a in after["add_ons"] if a["code"] == "ws-evaluation")
        assert workshop["remaining"] == workshop["capacity"] - 1


class TestRegistering:
    def test_a_registration_is_held_priced_and_announced(self, registration, listen):
        events = listen("registration")
        created = register(registration, member_code="ecsite-member-2027")
        assert created["status"] == "pending_payment"
        assert created["reference"].startswith("ECS27-")
        assert created["currency"] == "EUR"
        assert created["amount_due"] == sum(line["amount"] for line in created["price_lines"])
        assert created["vat_amount"] > 0 and created["hold_expires_at"]
        assert created["token"] and created["order_token"] and "payment" not in created

        [event] = events.wait_for("registration_created", created["id"])
        assert event["version"] == 3 and event["source"] == "registration"
        assert event["data"]["order_id"] == created["order_id"]
        assert event["data"]["reference"] == created["reference"]
        assert event["data"]["delegate"]["family_name"] == "Żółć"
        assert event["data"]["amount_due"] == created["amount_due"]

    def test_the_delegate_sees_their_registration_with_its_token(self, registration):
        created = register(registration)
        path = f"/api/registrations/{created['id']}"
        seen = registration.get(path, headers={"X-Registration-Token": created["token"]})
        assert seen.status_code == 200 and seen.json()["reference"] == created["reference"]
        assert registration.get(path).status_code == 401
        wrong = registration.get(path, headers={"X-Registration-Token": "x" * 43})
        assert wrong.status_code == 403
        assert wrong.json()["error"]["field"] == "X-Registration-Token"
        other = register(registration, email="someone.else@example.org")
        assert registration.get(path, headers={"X-Registration-Token": other["token"]}
                                ).status_code == 403
        unknown = registration.get("/api/registrations/00000000-0000-4000-8000-000000000000",
                                   headers={"X-Registration-Token": created["token"]})
        assert unknown.status_code == 404
        assert registration.get("/api/registrations/not-a-uuid").status_code == 404

    def test_names_are_stored_in_nfc(self, registration):
        decomposed = unicodedata.normalize("NFD", "Żółć")
        created = register(registration, family_name=decomposed, given_name="  Ana   María ")
        assert created["family_name"] == "Żółć" and len(created["family_name"]) == 4
        assert created["given_name"] == "Ana María"

    def test_any_script_is_accepted(self, registration):
        for given, family in [("Αλέξανδρος", "Παπαδόπουλος"), ("Борис", "Іваненко"),
                              ("Søren", "Ørsted"), ("Çağlar", "Öztürk"), ("Yudhoyono", ""),
                              ("فاطمة", "الأحمد"), ("נועה", "כהן"), ("小明", "王"),
                              ("さくら", "山田"), ("민준", "김"), ("अनुष्का", "शर्मा"),
                              ("สมชาย", "ใจดี"), ("ნინო", "ბერიძე"), ("Արամ", "Պետրոսյան"),
                              ("نسرین\u200cدخت", "رضایی")]:  # a zero-width non-joiner
            created = register(registration, given_name=given, family_name=family)
            assert (created["given_name"], created["family_name"]) == (given, family)

    def test_the_delegate_chooses_which_name_the_badge_prints_first(self, registration,
                                                                     listen):
        events = listen("registration")
        created = register(registration, given_name="小明", family_name="王",
                           name_order="family_first")
        assert created["name_order"] == "family_first"
        (event,) = events.wait_for("registration_created", created["id"])
        assert event["data"]["delegate"]["name_order"] == "family_first"
        assert register(registration)["name_order"] == "given_first"

    def test_needs_stay_in_registration_and_never_ride_on_events(self, registration, listen):
        events = listen("registration")
        created = register(registration, dietary_needs="coeliac",
                           accessibility_needs="wheelchair user")
        (event,) = events.wait_for("registration_created", created["id"])
        assert "coeliac" not in str(event) and "wheelchair" not in str(event)
        (stored,) = registration.get(f"/api/admin/registrations?q={created['reference']}",
                                     headers=registration.as_admin()).json()["items"]
        assert (stored["dietary_needs"], stored["accessibility_needs"]) == (
            "coeliac", "wheelchair user")

    def test_a_speaker_code_confirms_a_free_registration_at_once(self, registration, listen):
        events = listen("registration")
        created = register(registration, ticket_type="speaker", discount_code="speaker27",
                           add_ons=[])
        assert created["status"] == "confirmed" and created["amount_due"] == 0
        assert created["hold_expires_at"] is None
        events.wait_for("registration_confirmed", created["id"])
        assert len(events.of_type("registration_created", created["id"])) == 1


BAD_INPUTS = [
    ("missing given_name", delegate(given_name=None), "given_name"),
    ("empty given_name", delegate(given_name="   "), "given_name"),
    ("given_name without letters", delegate(given_name="1234"), "given_name"),
    ("given_name too long", delegate(given_name="A" * 61), "given_name"),
    ("control character", delegate(family_name="Żół\x07ć"), "family_name"),
    ("zero-width character", delegate(family_name="Żół\u200bć"), "family_name"),
    ("Hangul filler as a name", delegate(given_name="\u3164"), "given_name"),
    ("halfwidth Hangul filler", delegate(given_name="\uFFA0"), "given_name"),
    ("Hangul choseong filler", delegate(given_name="\u115F"), "given_name"),
    ("Hangul jungseong filler", delegate(given_name="\u1160"), "given_name"),
    ("combining grapheme joiner", delegate(given_name="A\u034F"), "given_name"),
    ("variation selector", delegate(family_name="Żółć\uFE0F"), "family_name"),
    ("character no font prints", delegate(given_name="Anna \U0001F9EA"), "given_name"),
    ("organisation no font prints", delegate(organisation="Lab \U0001F52C"), "organisation"),
    ("unknown name order", delegate(name_order="surname_first"), "name_order"),
    ("organisation too long", delegate(organisation="M" * 121), "organisation"),
    ("missing email", delegate(email=None), "email"),
    ("bad email", delegate(email="lukasz@"), "email"),
    ("email with spaces", delegate(email="lu kasz@example.org"), "email"),
    ("unknown country", delegate(country="ZZ"), "country"),
    ("country name instead of code", delegate(country="Poland"), "country"),
    ("unknown ticket type", delegate(ticket_type="platinum"), "ticket_type"),
    ("unknown add-on", delegate(add_ons=["gala-dinner", "spa"]), "add_ons[1]"),
    ("duplicate add-on", delegate(add_ons=["gala-dinner", "gala-dinner"]), "add_ons[1]"),
    ("clashing workshops", delegate(add_ons=["ws-evaluation", "ws-climate-dialogue"]),
     "add_ons[1]"),
    ("add_ons not a list", delegate(add_ons="gala-dinner"), "add_ons"),
    ("invalid member code", delegate(member_code="NOT-A-MEMBER"), "member_code"),
    ("unknown discount code", delegate(discount_code="FREEBIE"), "discount_code"),
    ("code for another ticket type", delegate(discount_code="SPEAKER27"), "discount_code"),
    ("speaker ticket without a code", delegate(ticket_type="speaker"), "discount_code"),
    ("unexpected field", delegate(amount_due=0), "amount_due"),
    ("dietary needs too long", delegate(dietary_needs="x" * 501), "dietary_needs"),
]


class TestBadInput:
    @pytest.mark.parametrize("body, field", [(b, f) for _, b, f in BAD_INPUTS],
                             ids=[name for name, _, _ in BAD_INPUTS])
    def test_is_refused_naming_the_field_and_stores_nothing(self, registration, listen, body,
                                                            field):
        events = listen("registration")
        response = registration.post("/api/registrations", json=body)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == field
        assert error["code"] and error["message"]
        assert admin_total(registration) == 0
        assert events.drain() == []

    @pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\"x\"", b""])
    def test_a_body_that_is_not_a_json_object_is_refused(self, registration, raw):
        response = registration.post("/api/registrations", data=raw,
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"
        assert admin_total(registration) == 0

    def test_a_huge_body_is_refused(self, registration):
        response = registration.post("/api/registrations",
                                     json=delegate(dietary_needs="x" * 100_000))
        assert response.status_code == 413
        assert admin_total(registration) == 0


class TestLimits:
    @pytest.fixture
    def small_sale(self, start_service, amqp_uri, sqlite_url, catalog_file):
        path = catalog_file(conference={"capacity": 3}, discount_codes=[
            {"code": "ONCE", "kind": "percent", "value": 50, "ticket_types": ["full"],
             "max_uses": 1}])
        config = make_config("registration", amqp_uri, sqlite_url, CATALOG_FILE=str(path))
        return start_service(RegistrationService, config)[1]

    def test_the_conference_capacity_is_never_exceeded(self, small_sale):
        for n in range(3):
            register(small_sale, email=f"d{n}@example.org")
        response = small_sale.post("/api/registrations", json=delegate(email="late@example.org"))
        assert response.status_code == 409
        assert response.json()["error"] == {
            "code": "conference_full", "field": "ticket_type",
            "message": "The conference is fully booked."}
        assert admin_total(small_sale) == 3

    def test_a_code_is_refused_once_used_up(self, small_sale):
        register(small_sale, discount_code="ONCE")
        response = small_sale.post("/api/registrations",
                                   json=delegate(discount_code="once", email="b@example.org"))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "code_used_up"

    def test_cancelling_frees_the_seat(self, small_sale):
        held = [register(small_sale, email=f"d{n}@example.org") for n in range(3)]
        cancelled = small_sale.post(f"/api/registrations/{held[0]['id']}/cancel", json={},
                                    headers={"X-Registration-Token": held[0]["token"]})
        assert cancelled.json()["status"] == "cancelled"
        register(small_sale, email="late@example.org")


class TestDelegateChanges:
    def test_fixing_the_badge_name_is_announced(self, registration, listen):
        events = listen("registration")
        created = register(registration)
        headers = {"X-Registration-Token": created["token"]}
        path = f"/api/registrations/{created['id']}"
        changed = registration.patch(path, json={"given_name": "Łukasz Jan", "pronouns": ""},
                                     headers=headers)
        assert changed.status_code == 200, changed.text
        assert changed.json()["given_name"] == "Łukasz Jan"
        assert changed.json()["pronouns"] is None
        [event] = events.wait_for("registration_updated", created["id"])
        assert event["data"]["delegate"]["given_name"] == "Łukasz Jan"

        unchanged = registration.patch(path, json={"given_name": "Łukasz Jan"}, headers=headers)
        assert unchanged.status_code == 200
        assert registration.patch(path, json={"given_name": ""}, headers=headers
                                  ).json()["error"]["field"] == "given_name"
        assert registration.patch(path, json={"email": "x@example.org"}, headers=headers
                                  ).status_code == 422
        assert registration.patch(path, json={"given_name": "Mallory"}).status_code == 401
        assert len(events.of_type("registration_updated")) == 1

    def test_cancelling_twice_is_a_conflict(self, registration, listen):
        events = listen("registration")
        created = register(registration)
        headers = {"X-Registration-Token": created["token"]}
        path = f"/api/registrations/{created['id']}/cancel"
        assert registration.post(path, json={}, headers=headers).status_code == 200
        again = registration.post(path, json={}, headers=headers)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_cancelled"
        [event] = events.wait_for("registration_cancelled", created["id"])
        assert event["data"]["reason"] == "delegate" and event["data"]["refund_due"] == 0


class TestOrganisers:
    def test_admin_endpoints_need_the_right_token(self, registration):
        created = register(registration)
        assert registration.get("/api/admin/registrations").status_code == 401
        bad = registration.get("/api/admin/registrations",
                               headers={"Authorization": "Bearer guess"})
        assert bad.status_code == 401
        desk = registration.get("/api/admin/registrations", headers=registration.as_desk())
        assert desk.status_code == 200
        [seen] = desk.json()["items"]
        assert seen["given_name"] == created["given_name"] and seen["reference"]
        assert not {"email", "dietary_needs", "accessibility_needs", "billing_address",
                    "amount_paid", "billing_vat_number"} & set(seen)
        assert registration.get("/api/admin/registrations.csv",
                                headers=registration.as_desk()).status_code == 403
        cancel = f"/api/admin/registrations/{created['id']}/cancel"
        assert registration.post(cancel, json={"refund": True},
                                 headers=registration.as_desk()).status_code == 403

    @pytest.mark.parametrize("query", ["zolc", "ŻÓŁĆ", "lukasz zolc", "copernicus",
                                       "lukasz.zolc@example", "Żółć Łukasz"])
    def test_search_ignores_accents_and_case(self, registration, query):
        created = register(registration)
        register(registration, given_name="Søren", family_name="Ørsted",
                 organisation="Experimentarium", country="DK", email="soren@example.dk")
        found = registration.get("/api/admin/registrations", params={"q": query},
                                 headers=registration.as_desk()).json()
        assert [r["id"] for r in found["items"]] == [created["id"]]

    def test_search_by_reference_and_filters(self, registration):
        created = register(registration)
        register(registration, ticket_type="day-friday", email="other@example.org", add_ons=[])
        by_reference = registration.get("/api/admin/registrations",
                                        params={"q": created["reference"].lower()},
                                        headers=registration.as_admin()).json()
        assert by_reference["total"] == 1
        by_ticket = registration.get("/api/admin/registrations",
                                     params={"ticket_type": "day-friday"},
                                     headers=registration.as_admin()).json()
        assert [r["ticket_type"] for r in by_ticket["items"]] == ["day-friday"]
        bad = registration.get("/api/admin/registrations", params={"status": "paid"},
                               headers=registration.as_admin())
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"

    @pytest.mark.parametrize("path", ["/api/admin/registrations", "/api/admin/orders"])
    def test_an_offset_beyond_any_list_is_refused_naming_it(self, registration, path):
        response = registration.get(path, params={"offset": 2**70},
                                    headers=registration.as_admin())
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "offset"

    def test_csv_export_opens_in_excel_and_runs_no_formulas(self, registration):
        register(registration)
        register(registration, given_name="=HYPERLINK(\"http://evil\")", family_name="Test",
                 email="formula@example.org")
        response = registration.get("/api/admin/registrations.csv",
                                    headers=registration.as_admin())
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert {row["family_name"] for row in rows} == {"Żółć", "Test"}
        evil = next(row for row in rows if row["family_name"] == "Test")
        assert evil["given_name"].startswith("'=")

    def test_an_organiser_cancels_with_a_full_refund(self, registration, listen):
        events = listen("registration")
        created = register(registration)
        response = registration.post(f"/api/admin/registrations/{created['id']}/cancel",
                                     json={"refund": True}, headers=registration.as_admin())
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        [event] = events.wait_for("registration_cancelled", created["id"])
        assert event["data"]["reason"] == "organiser"


def test_an_organiser_books_a_complimentary_place(registration):
    """Free and confirmed at once, no code needed even for a speaker's ticket; admin only,
    and the same Idempotency-Key books once."""
    body = {"buyer": {"name": "Ecsite office", "email": "office@ecsite.example",
                      "organisation": "Ecsite", "country": "BE"},
            "delegates": [delegate(ticket_type="speaker", add_ons=["gala-dinner"],
                                   email="keynote@example.org")]}
    admin = {**registration.as_admin(), "Idempotency-Key": "comp-1"}
    first = registration.post("/api/admin/complimentary", json=body, headers=admin)
    again = registration.post("/api/admin/complimentary", json=body, headers=admin)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["id"] == again.json()["id"]
    booked = first.json()
    assert (booked["status"], booked["amount_due"]) == ("confirmed", 0)
    assert booked["delegates"][0]["price_lines"][-1]["description"] == "Complimentary"
    refused = registration.post("/api/admin/complimentary", json=body,
                                headers={"Authorization": f"Bearer {FINANCE_TOKEN}"})
    assert refused.status_code == 403


def test_a_deeply_nested_or_oversized_body_is_refused_not_a_server_error(registration):
    nested = registration.post("/api/registrations", data=b"[" * 10_000 + b"]" * 10_000,
                               headers={"Content-Type": "application/json"})
    assert nested.status_code == 400 and nested.json()["error"]["code"] == "invalid_json"
    huge = registration.post("/api/registrations", data=b"{" + b" " * (1024 * 1024) + b"}",
                             headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
