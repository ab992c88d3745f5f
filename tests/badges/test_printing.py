"""Printing that tells the truth: a preview is not a print; a badge sent to a desk's
printer (a real cupsd, a cups-pdf queue) is counted once the printer has taken it, and a
printer that is away or refuses counts nothing; a badge printed from the browser is
recorded for the version printed; a remade badge is not printed until it is."""

import io

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from shared.auth import ticket_token
from tests.badges.conftest import SECRET
from tests.conftest import free_port


@pytest.fixture
def desk_printers(cups):
    away = f"ipp://127.0.0.1:{free_port()}/printers/gone"
    return (f"desk-1={cups.uri(cups.PDF_QUEUE)},closed={cups.uri(cups.REFUSING_QUEUE)},"
            f"away={away}")


def print_at(desk, created, printer="desk-1"):
    return desk.badges.post(f"/api/badges/{created['id']}/print", json={"printer": printer},
                            headers=desk.badges.as_desk())


def test_a_preview_is_not_a_print(desk):
    created = desk.confirmed()
    for _ in range(2):
        response = desk.badges.get(f"/api/badges/{created['id']}.pdf",
                                   headers=desk.badges.as_desk())
        assert response.status_code == 200 and response.headers["X-Badge-Version"] == "1"
    assert desk.badge(created)["printed_count"] == 0


def test_a_badge_printed_at_the_desk_comes_out_of_the_printer(desk, cups):
    created = desk.confirmed(given_name="Maria Fernanda", family_name="Nunes")

    response = print_at(desk, created)

    assert response.status_code == 202, response.text
    result = response.json()
    assert (result["printer"], result["badge_version"], result["printed_count"]) == (
        "desk-1", 1, 1)
    pdf = cups.printed(result["job_id"]).read_bytes()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Maria Fernanda" in text and "Nunes" in text
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=4).to_pil()
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [
        ticket_token(SECRET, created["id"])]
    badge = desk.badge(created)
    assert badge["printed_count"] == 1 and badge["last_printed_at"]


@pytest.mark.parametrize("printer", ["closed", "away"])
def test_a_printer_that_refuses_or_is_away_prints_nothing_and_counts_nothing(desk, printer):
    created = desk.confirmed()

    response = print_at(desk, created, printer)

    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json()["error"]["code"] == "printer_unavailable"
    assert response.json()["error"]["field"] == "printer"
    assert desk.badge(created)["printed_count"] == 0


def test_an_unknown_printer_or_badge_is_refused_naming_the_field(desk):
    created = desk.confirmed()
    unknown = print_at(desk, created, "desk-9")
    assert unknown.status_code == 422
    assert unknown.json()["error"] == {"code": "unknown_printer", "field": "printer",
                                       "message": "No desk printer is called 'desk-9'."}
    empty = desk.badges.post(f"/api/badges/{created['id']}/print", json={},
                             headers=desk.badges.as_desk())
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "printer"
    nobody = print_at(desk, {"id": "00000000-0000-4000-8000-000000000000"})
    assert nobody.status_code == 404
    assert desk.badge(created)["printed_count"] == 0


def test_the_desk_knows_its_printers_by_name(desk):
    answer = desk.badges.get("/api/desk/printers", headers=desk.badges.as_desk())
    assert answer.json() == {"printers": ["desk-1", "closed", "away"]}


def test_a_browser_print_is_recorded_for_the_version_printed(desk):
    created = desk.confirmed()
    path = f"/api/badges/{created['id']}/printed"

    recorded = desk.badges.post(path, json={"badge_version": 1}, headers=desk.badges.as_desk())

    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["printed_count"] == 1
    headers = {"X-Registration-Token": created["token"]}
    desk.registration.patch(f"/api/registrations/{created['id']}",
                            json={"family_name": "Żółć-Nowak"}, headers=headers)
    desk.events.wait_for("badge_generated", created["id"], count=2)
    stale = desk.badges.post(path, json={"badge_version": 1}, headers=desk.badges.as_desk())
    assert stale.status_code == 409
    assert (stale.json()["error"]["code"], stale.json()["error"]["field"]) == (
        "badge_changed", "badge_version")
    bad = desk.badges.post(path, json={"badge_version": "one"}, headers=desk.badges.as_desk())
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "badge_version"
    assert desk.badge(created)["printed_count"] == 0


def test_a_remade_badge_is_not_printed_until_it_is(desk):
    created = desk.confirmed()
    assert print_at(desk, created).status_code == 202
    assert desk.badges.post("/api/badges/print", json={"not_printed": True},
                            headers=desk.badges.as_desk()).status_code == 404

    desk.registration.patch(f"/api/registrations/{created['id']}",
                            json={"given_name": "Łukasz Jan"},
                            headers={"X-Registration-Token": created["token"]})
    desk.events.wait_for("badge_generated", created["id"], count=2)

    badge = desk.badge(created)
    assert (badge["printed_count"], badge["last_printed_at"]) == (0, None)
    batch = desk.badges.post("/api/badges/print", json={"not_printed": True, "layout": "a6"},
                             headers=desk.badges.as_desk())
    assert batch.status_code == 200
    assert "Łukasz Jan" in PdfReader(io.BytesIO(batch.content)).pages[0].extract_text()
    assert desk.badge(created)["printed_count"] == 1


def test_printing_needs_a_desk_or_admin_token(desk):
    created = desk.confirmed()
    for path, body in [(f"/api/badges/{created['id']}/print", {"printer": "desk-1"}),
                       (f"/api/badges/{created['id']}/printed", {"badge_version": 1}),
                       ("/api/desk/printers", None)]:
        method = "GET" if body is None else "POST"
        assert desk.badges.request(method, path, json=body).status_code == 401
        finance = {"Authorization": "Bearer test-finance-token"}
        assert desk.badges.request(method, path, json=body, headers=finance
                                   ).status_code == 403


def test_the_openapi_document_describes_printing(desk):
    document = desk.badges.get("/openapi.json").json()
    operation = document["paths"]["/api/badges/{registration_id}/print"]["post"]
    assert operation["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DeskPrintResult"}
    assert "printer" in document["components"]["schemas"]["DeskPrintRequest"]["required"]
    assert "/api/badges/{registration_id}/printed" in document["paths"]
