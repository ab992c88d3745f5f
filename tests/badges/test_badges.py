"""The badges service through RabbitMQ and the registration service: badges made on
confirmation, remade on change, withdrawn on cancellation; printing; check-in in the
conference's time zone; the desk page in a real browser."""

import io
import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from services.badges.service import BadgesService
from services.registration.service import RegistrationService
from shared.auth import ticket_token
from tests.conftest import ROOT, make_config, wait_until
from tests.registration.conftest import register

SECRET = "test-secret-key"  # make_config's SECRET_KEY


class Desk:
    def __init__(self, registration, badges, events):
        self.registration, self.badges, self.events = registration, badges, events

    def confirmed(self, **delegate) -> dict:
        """A free (speaker) registration, confirmed at once, once its badge is made."""
        created = register(self.registration, ticket_type="speaker", discount_code="SPEAKER27",
                           add_ons=[], **delegate)
        self.events.wait_for("badge_generated", created["id"])
        return created

    def pdf_text(self, registration_id) -> str:
        response = self.badges.get(f"/api/badges/{registration_id}.pdf",
                                   headers=self.badges.as_desk())
        assert response.status_code == 200, response.text
        return PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


@pytest.fixture
def desk(start_service, amqp_uri, tmp_path, listen):
    events = listen("badges")
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}"))
    _, badges = start_service(BadgesService, make_config(
        "badges", amqp_uri, f"sqlite:///{tmp_path / 'badges.db'}"))
    return Desk(registration, badges, events)


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
    assert f"already checked in at {at:%H:%M}" in second.json()["message"]
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
             ("GET", "/api/desk/search?q=a", None)]
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


def test_the_desk_page_in_a_real_browser(desk, tmp_path):
    created = desk.confirmed()
    screenshots = ROOT / "var" / "screenshots"
    run = subprocess.run(
        [sys.executable, "-m", "tests.badges.browser", desk.badges.base_url,
         "test-desk-token", "zolc", ticket_token(SECRET, created["id"]), str(screenshots)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert "not accepted" in seen["laptop_wrong_token"]
    assert seen["laptop_focused"] == "scan"
    assert "Łukasz Żółć" in seen["laptop_results"][0]
    assert "Łukasz Żółć" in seen["tablet_results"][0]
    assert seen["popup_url"].startswith("blob:")
    assert "is checked in" in seen["status_after_click"]
    assert "already checked in at" in seen["status_after_scan"]
    assert "not one of our tickets" in seen["status_after_forged_scan"]
    assert seen["focused_after_scan"] == "scan"
    [badge] = desk.badges.get("/api/desk/search", params={"q": "zolc"},
                              headers=desk.badges.as_desk()).json()["items"]
    assert badge["printed_count"] == 1 and badge["checked_in_at"]
    assert (screenshots / "desk-laptop-after-check-in.png").exists()
