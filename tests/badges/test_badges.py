"""The badges service through RabbitMQ and the registration service: badges made on
confirmation, remade on change, withdrawn on cancellation; batch printing; check-in in the
conference's time zone; the desk's copy of unpaid registrations, its search and notes."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from shared.auth import ticket_token
from tests.badges.conftest import SECRET
from tests.conftest import wait_until
from tests.registration.conftest import register


def test_a_confirmed_registration_gets_its_badge(desk):
    created = desk.confirmed(given_name="Αλέξανδρος", family_name="Παπαδόπουλος",
                             organisation="NOESIS", country="GR")
    text = desk.pdf_text(created["id"])
    assert "Αλέξανδρος" in text and "Παπαδόπουλος" in text and "Greece" in text
    [event] = desk.events.of_type("badge_generated", created["id"])
    assert event["data"]["badge_version"] == 1


def test_a_pending_registration_has_no_badge_yet(desk):
    created = register(desk.registration)
    response = desk.badges.get(f"/api/badges/{created['id']}.pdf",
                               headers=desk.badges.as_desk())
    assert response.status_code == 404


def test_a_name_change_remakes_the_badge_and_a_cancellation_withdraws_it(desk):
    created = desk.confirmed()
    headers = {"X-Registration-Token": created["token"]}
    desk.registration.patch(f"/api/registrations/{created['id']}",
                            json={"given_name": "Łukasz Jan"}, headers=headers)
    desk.events.wait_for("badge_generated", created["id"], count=2)
    assert "Łukasz Jan" in desk.pdf_text(created["id"])
    desk.registration.post(f"/api/registrations/{created['id']}/cancel", headers=headers)
    wait_until(lambda: desk.badges.get(f"/api/badges/{created['id']}.pdf",
                                       headers=desk.badges.as_desk()).status_code == 410)


def test_batch_printing_in_the_order_asked(desk):
    names = [("Zofia", "Zielińska"), ("Ørjan", "Aas"), ("Борис", "Іваненко"), ("Ana", "Nunes"),
             ("Çağlar", "Öztürk")]
    created = {family: desk.confirmed(given_name=given, family_name=family,
                                      email=f"{given.lower()}@example.org")
               for given, family in names}
    response = desk.badges.post("/api/badges/print", json={"order": "surname", "layout": "a4"},
                                headers=desk.badges.as_admin())
    assert response.status_code == 200, response.text
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 2
    text = "".join(page.extract_text() for page in pages)
    positions = [text.index(family) for family in ["Aas", "Nunes", "Öztürk", "Zielińska"]]
    assert positions == sorted(positions)
    assert "Іваненко" in pages[1].extract_text() or "Іваненко" in pages[0].extract_text()

    again = desk.badges.post("/api/badges/print", json={"not_printed": True},
                             headers=desk.badges.as_desk())
    assert again.status_code == 404  # every badge has been printed once now
    one = desk.badges.post("/api/badges/print", json={
        "registration_ids": [created["Aas"]["id"]], "layout": "a6"},
        headers=desk.badges.as_desk())
    assert len(PdfReader(io.BytesIO(one.content)).pages) == 1
    bad = desk.badges.post("/api/badges/print", json={"layout": "a3"},
                           headers=desk.badges.as_desk())
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "layout"


def test_the_qr_code_decodes_to_a_token_the_check_in_accepts(desk):
    created = desk.confirmed()
    pdf = desk.badges.get(f"/api/badges/{created['id']}.pdf",
                          headers=desk.badges.as_desk()).content
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=4).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    assert code.text == ticket_token(SECRET, created["id"])
    first = desk.badges.post("/api/checkin", json={"token": code.text},
                             headers=desk.badges.as_desk())
    assert first.status_code == 200 and first.json()["status"] == "checked_in"
    second = desk.badges.post("/api/checkin", json={"token": code.text},
                              headers=desk.badges.as_desk())
    assert second.status_code == 200
    assert second.json()["status"] == "already_checked_in"
    at = datetime.fromisoformat(first.json()["checked_in_at"]).astimezone(
        ZoneInfo("Europe/Helsinki"))  # the catalog's time zone, as registration's events say
    assert f"already checked in at {at:%a} {at.day} {at:%b}, {at:%H:%M}" in second.json()[
        "message"]
    [checked_in] = desk.events.wait_for("delegate_checked_in", created["id"])
    assert len(desk.events.of_type("delegate_checked_in", created["id"])) == 1
    assert checked_in["data"]["registration_id"] == created["id"]


@pytest.mark.parametrize("token, status, code", [
    ("00000000-0000-4000-8000-000000000000.forged", 422, "invalid_ticket"),
    (ticket_token("another conference's key", "00000000-0000-4000-8000-000000000000"), 422,
     "invalid_ticket"),
    (ticket_token(SECRET, "00000000-0000-4000-8000-000000000000"), 404, "not_found"),
    ("", 422, "invalid_field"),
])
def test_a_forged_or_unknown_ticket_is_refused(desk, token, status, code):
    response = desk.badges.post("/api/checkin", json={"token": token},
                                headers=desk.badges.as_desk())
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_every_endpoint_needs_a_desk_or_admin_token(desk):
    calls = [("GET", "/api/badges/x.pdf", None), ("POST", "/api/badges/print", {}),
             ("POST", "/api/checkin", {"token": "x"}), ("POST", "/api/badges/x/checkin", None),
             ("GET", "/api/desk/search?q=a", None), ("PATCH", "/api/badges/x", {})]
    for method, path, body in calls:
        assert desk.badges.request(method, path, json=body).status_code == 401, path
        wrong = {"Authorization": "Bearer guess"}
        assert desk.badges.request(method, path, json=body, headers=wrong
                                   ).status_code == 401, path


def test_the_desk_search_ignores_accents(desk):
    created = desk.confirmed()
    found = desk.badges.get("/api/desk/search", params={"q": "zolc copernicus"},
                            headers=desk.badges.as_desk()).json()["items"]
    assert [b["registration_id"] for b in found] == [created["id"]]
    assert found[0]["printed_count"] == 0 and found[0]["checked_in_at"] is None


def test_the_desk_knows_an_unpaid_registration_and_refuses_its_ticket(desk):
    created = register(desk.registration)  # a full ticket and the gala dinner, to be paid

    def pending():
        found = desk.badges.get("/api/desk/search", params={"q": created["reference"]},
                                headers=desk.badges.as_desk()).json()["items"]
        return found and found[0]

    badge = wait_until(pending, message="the pending registration at the desk")
    assert (badge["status"], badge["add_on_names"]) == ("pending", ["Gala dinner (11 June)"])
    assert badge["ticket_type_name"] == "Full conference (10-12 June)"
    refused = desk.badges.post("/api/checkin", json={"token": ticket_token(
        SECRET, created["id"])}, headers=desk.badges.as_desk())
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "unpaid", "field": "token",
        "message": "Łukasz Żółć has not paid: the registration awaits payment."}
    by_id = desk.badges.post(f"/api/badges/{created['id']}/checkin",
                             headers=desk.badges.as_desk())
    assert by_id.status_code == 409 and by_id.json()["error"]["field"] == "registration_id"


def test_an_organiser_s_note_for_the_desk(desk):
    created = desk.confirmed()
    path = f"/api/badges/{created['id']}"
    note = {"attention": "Speaker: send to the speakers' room"}
    assert desk.badges.patch(path, json=note, headers=desk.badges.as_desk()).status_code == 403
    too_long = desk.badges.patch(path, json={"attention": "x" * 201},
                                 headers=desk.badges.as_admin())
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "attention"
    unknown = desk.badges.patch("/api/badges/00000000-0000-4000-8000-000000000000", json=note,
                                headers=desk.badges.as_admin())
    assert unknown.status_code == 404
    assert desk.badge(created)["attention"] is None

    answer = desk.badges.patch(path, json=note, headers=desk.badges.as_admin())

    assert answer.status_code == 200 and answer.json()["attention"] == note["attention"]
    scanned = desk.badges.post("/api/checkin", json={"token": ticket_token(
        SECRET, created["id"])}, headers=desk.badges.as_desk()).json()
    assert scanned["attention"] == note["attention"] and scanned["status"] == "checked_in"


def test_the_desk_search_finds_any_script_from_latin_letters(desk):
    greek = desk.confirmed(given_name="Αλέξανδρος", family_name="Παπαδόπουλος",
                           email="alexandros@example.org")
    chinese = desk.confirmed(given_name="小明", family_name="王", email="wang@example.org")
    for query, created in [("papad", greek), ("wang", chinese), ("Παπαδόπουλος", greek)]:
        found = desk.badges.get("/api/desk/search", params={"q": query},
                                headers=desk.badges.as_desk()).json()["items"]
        assert [b["registration_id"] for b in found] == [created["id"]], query
        assert "email" not in found[0]


def test_the_openapi_document_describes_the_desk(desk):
    document = desk.badges.get("/openapi.json").json()
    assert {"/api/checkin", "/api/badges/{registration_id}", "/api/desk/search",
            "/api/desk/day", "/api/desk/checkins", "/api/desk/printers",
            "/api/badges/{registration_id}/print", "/api/badges/{registration_id}/printed"
            } <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert set(schemas["DayListItem"]["properties"]) == {
        "registration_id", "reference", "name", "organisation", "ticket_type_name",
        "add_on_names", "status", "checked_in_at", "attention"}
    assert "email" not in schemas["BadgeView"]["properties"]
    assert schemas["CheckInResult"]["properties"]["status"]["enum"] == [
        "checked_in", "already_checked_in"]
