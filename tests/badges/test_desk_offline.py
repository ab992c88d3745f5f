"""The desk when the network drops: the day's list and the public key it keeps; check-ins
made offline sent in a batch that never checks anyone in twice and keeps the first scan's
time; the desk page in chromium, offline then online again."""

import base64
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.auth import ticket_token
from tests.badges.conftest import SECRET, old_ticket, run_browser
from tests.conftest import DESK_TOKEN

LIST_FIELDS = {"registration_id", "reference", "name", "organisation", "ticket_type_name",
               "add_on_names", "status", "checked_in_at", "attention"}


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def day_list(desk) -> dict:
    response = desk.badges.get("/api/desk/day", headers=desk.badges.as_desk())
    assert response.status_code == 200, response.text
    return response.json()


def send(desk, *checkins):
    return desk.badges.post("/api/desk/checkins", headers=desk.badges.as_desk(), json={
        "checkins": [{"registration_id": r, "scanned_at": at.isoformat()} for r, at in checkins]})


def test_the_day_s_list_holds_what_the_desk_may_see_and_the_key(desk, registrations):
    today = datetime.now(UTC).date()  # the conference's zone is Helsinki: near enough
    full = registrations("registration_confirmed", add_on_names=["Gala dinner (11 June)"])
    cancelled = registrations("registration_confirmed", "registration_cancelled",
                              given_name="Zofia")
    other_day = registrations("registration_confirmed", given_name="Borys",
                              valid_on=[(today + timedelta(days=3)).isoformat()])

    listed = day_list(desk)

    by_id = {item["registration_id"]: item for item in listed["items"]}
    assert set(by_id) == {full, cancelled} and other_day not in by_id
    assert all(set(item) == LIST_FIELDS for item in listed["items"])
    assert by_id[full]["add_on_names"] == ["Gala dinner (11 June)"]
    assert by_id[cancelled]["status"] == "withdrawn"
    assert listed["timezone"] == "Europe/Helsinki"
    token = ticket_token(SECRET, full)
    head, signature = token.split(".")
    Ed25519PublicKey.from_public_bytes(unb64(listed["public_key"])).verify(
        unb64(signature), b"ecsite-ticket:" + unb64(head))  # raises if it does not check


def test_offline_check_ins_are_sent_once_and_the_first_scan_s_time_is_kept(desk,
                                                                            registrations):
    first, second, cancelled = (
        registrations("registration_confirmed", given_name="Ana"),
        registrations("registration_confirmed", given_name="Eva"),
        registrations("registration_confirmed", "registration_cancelled", given_name="Zofia"))
    scanned = datetime.now(UTC) - timedelta(minutes=20)

    answer = send(desk, (first, scanned), (second, scanned), (cancelled, scanned),
                  (first, scanned + timedelta(minutes=1)),
                  ("00000000-0000-4000-8000-000000000000", scanned))

    assert answer.status_code == 200, answer.text
    outcomes = [(r["outcome"], r["code"]) for r in answer.json()["results"]]
    assert outcomes == [("checked_in", None), ("checked_in", None), ("refused", "cancelled"),
                        ("already_checked_in", None), ("refused", "not_found")]
    # The same batch again (its answer lost): nobody checked in twice.
    again = send(desk, (first, scanned), (second, scanned))
    assert [r["outcome"] for r in again.json()["results"]] == ["already_checked_in"] * 2
    # An earlier scan sent late: its time is kept, with no second check-in.
    earlier = scanned - timedelta(minutes=5)
    assert send(desk, (second, earlier)).json()["results"][0]["outcome"] == "already_checked_in"
    desk.events.wait_for("delegate_checked_in", second)
    for registration_id in (first, second):
        assert len(desk.events.of_type("delegate_checked_in", registration_id)) == 1
    times = {item["registration_id"]: item["checked_in_at"] for item in day_list(desk)["items"]}
    assert datetime.fromisoformat(times[first]) == scanned
    assert datetime.fromisoformat(times[second]) == earlier


def test_a_scan_time_ahead_of_the_server_is_taken_as_now(desk, registrations):
    arrived = registrations("registration_confirmed")
    before = datetime.now(UTC)
    result = send(desk, (arrived, before + timedelta(hours=2))).json()["results"][0]
    assert before <= datetime.fromisoformat(result["checked_in_at"]) <= datetime.now(UTC)


def test_a_malformed_batch_changes_nothing_and_names_the_field(desk, registrations):
    arrived = registrations("registration_confirmed")
    for body, field in [
        ({"checkins": []}, "checkins"),
        ({"checkins": [{"registration_id": arrived, "scanned_at": "2027-06-10T09:12:00"}]},
         "checkins[0].scanned_at"),
        ({"checkins": [{"registration_id": arrived, "scanned_at": "2027-06-10T09:12:00Z"},
                       {"registration_id": "x" * 37, "scanned_at": "2027-06-10T09:12:00Z"}]},
         "checkins[1].registration_id"),
    ]:
        answer = desk.badges.post("/api/desk/checkins", json=body, headers=desk.badges.as_desk())
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    assert [i["checked_in_at"] for i in day_list(desk)["items"]] == [None]
    assert desk.badges.post("/api/desk/checkins", json={"checkins": []}).status_code == 401
    assert desk.badges.get("/api/desk/day").status_code == 401


def test_the_desk_goes_on_without_the_network(desk, registrations):
    names = ["Ana Nunes", "Eva Berg", "Ørjan Aas", "Борис Іваненко", "Αλέξανδρος Παπαδόπουλος"]
    arrivals = [registrations("registration_confirmed", given_name=name.split()[0],
                              family_name=name.split()[1]) for name in names]
    old = registrations("registration_confirmed", given_name="Çağlar", family_name="Öztürk")

    seen = run_browser("offline", desk.badges.base_url, desk_token=DESK_TOKEN,
                       tickets=[ticket_token(SECRET, r) for r in arrivals], names=names,
                       forged="forged.code", old_ticket=old_ticket(old), search="ozturk")

    assert all("ok" in verdict["tone"] for verdict in seen["verdicts"])
    assert "5 check-ins to send" in seen["waiting"]
    assert "warn" in seen["again"]["tone"] and "Ana Nunes" in seen["again"]["text"]
    assert "bad" in seen["forged"]["tone"]
    assert "find the name" in seen["old_ticket"]["text"]
    assert "Çağlar Öztürk" in seen["offline_results"][0]
    assert seen["axe_offline"] == []
    assert "Online" in seen["after"]
    checked_in = {item["registration_id"]: item["checked_in_at"]
                  for item in day_list(desk)["items"]}
    assert all(checked_in[r] for r in arrivals) and checked_in[old] is None
    desk.events.wait_for("delegate_checked_in", arrivals[-1])
    for registration_id in arrivals:
        assert len(desk.events.of_type("delegate_checked_in", registration_id)) == 1
