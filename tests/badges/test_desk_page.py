"""The desk page in a real browser (chromium), against the badges service, RabbitMQ and a
private CUPS: one scan, one large verdict; the badge printed at once on the desk's
printer, or from the browser when that printer is away; the camera allowed to the page."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from shared.auth import ticket_token
from tests.badges.conftest import SECRET, run_browser
from tests.conftest import DESK_TOKEN, free_port
from tests.notifications import samples

GALA = "Gala dinner (11 June)"


@pytest.fixture
def desk_printers(cups):
    return f"desk-1={cups.uri(cups.PDF_QUEUE)},away=ipp://127.0.0.1:{free_port()}/printers/x"


def test_the_desk_page_headers_allow_the_camera_to_the_page_alone(desk):
    for path in ["/desk", "/desk/desk.js"]:
        headers = desk.badges.get(path).headers
        assert "camera=(self)" in headers["Permissions-Policy"]
        assert "microphone=()" in headers["Permissions-Policy"]
        policy = headers["Content-Security-Policy"]
        assert "media-src 'self' blob: mediastream:" in policy
        assert "frame-src 'self' blob:" in policy and "script-src" not in policy


def test_one_scan_at_the_desk(desk, cups, registrations):
    green = registrations("registration_confirmed", given_name="Maria Fernanda",
                          add_on_names=[GALA])
    assert desk.badges.patch(f"/api/badges/{green}", json={"attention": "Speaker: send to "
                             "the speakers' room"}, headers=desk.badges.as_admin()).ok
    cancelled = registrations("registration_confirmed", "registration_cancelled",
                              given_name="Zofia", family_name="Zielińska")
    registrations("registration_confirmed", given_name="Ørjan", family_name="Aas")
    camera = registrations("registration_confirmed", given_name="Борис",
                           family_name="Іваненко")

    seen = run_browser("desk", desk.badges.base_url, desk_token=DESK_TOKEN,
                       green_token=ticket_token(SECRET, green),
                       cancelled_token=ticket_token(SECRET, cancelled),
                       camera_token=ticket_token(SECRET, camera), search="aas",
                       search_name="Ørjan Aas", away_printer="away")

    assert "not accepted" in seen["wrong_token"] and seen["focused"] == "scan"
    assert seen["printers"] == ["desk-1", "away", "This browser (print dialog)"]
    assert seen["camera_allowed"] == [True, False]
    # Green: in now, with the ticket, its add-ons and the organiser's note; printed at once.
    assert "ok" in seen["green"]["tone"] and seen["green"]["add_ons"] == [GALA]
    assert samples.TICKET in seen["green"]["text"]
    assert "Speaker: send to the speakers' room" in seen["green"]["text"]
    pdf = cups.printed(seen["green_job"]).read_bytes()
    assert "Maria Fernanda" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert seen["focused_after_scan"] == "scan"
    # Amber: already in, and since when, in the conference's time and the desk's format.
    badge = desk.badges.get("/api/desk/search", params={"q": "maria fernanda"},
                            headers=desk.badges.as_desk()).json()["items"][0]
    at = datetime.fromisoformat(badge["checked_in_at"]).astimezone(ZoneInfo("Europe/Helsinki"))
    assert "warn" in seen["amber"]["tone"]
    assert f"Already checked in: {at:%a} {at.day} {at:%b}, {at:%H:%M}." in seen["amber"]["text"]
    assert badge["printed_count"] == 1
    # Red: cancelled; forged.
    assert "bad" in seen["cancelled"]["tone"] and "Zofia Zielińska" in seen["cancelled"]["text"]
    assert "not one of our tickets" in seen["forged"]["text"]
    # The last verdict is gone as soon as the next search starts.
    assert seen["verdict_hidden_while_searching"]
    assert "Ørjan Aas" in seen["results"][0]
    # The chosen printer is away: the browser prints instead, and that print is counted.
    assert seen["print_dialogs"] == 1 and seen["print_frame"].startswith("blob:")
    assert desk.badges.get("/api/desk/search", params={"q": "aas"}, headers=desk.badges.as_desk(
    )).json()["items"][0]["printed_count"] == 1
    # The camera reads a code: green.
    assert "Борис Іваненко" in seen["camera"]["text"]
    assert not seen["camera_button_without_detector"]
    assert "Ørjan Aas" in seen["tablet_results"][0]
    assert seen["axe_green"] == seen["axe_red"] == seen["axe_tablet"] == []
