"""Named organiser tokens (made, listed and revoked with the conference command, stored
hashed in every service's database) and the audit log of what organisers do."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.badges.service import BadgesService
from services.registration.service import RegistrationService
from shared import organisers
from shared.auth import ticket_token
from shared.db import MessagingBase
from shared.organisers import Organiser, Organisers, OrganiserToken, token_hash
from tests.conftest import ADMIN_TOKEN, DESK_TOKEN, ROOT, make_config, wait_until
from tests.registration.conftest import register


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sessions(tmp_path):
    made = []
    for name in ("one", "two"):
        engine = create_engine(f"sqlite:///{tmp_path / name}.db")
        MessagingBase.metadata.create_all(engine)
        made.append(Session(engine))
    yield made
    for session in made:
        session.close()


class TestTokens:
    def test_a_token_is_stored_hashed_in_every_database(self, sessions):
        token = organisers.issue(sessions, "Desk 2", "desk")
        for session in sessions:
            (row,) = session.scalars(select(OrganiserToken)).all()
            assert (row.name, row.role) == ("Desk 2", "desk")
            assert row.token_hash == token_hash(token) and token not in row.token_hash

    def test_names_are_unique_and_roles_known(self, sessions):
        organisers.issue(sessions, "Desk 2", "desk")
        with pytest.raises(ValueError, match="exists"):
            organisers.issue(sessions, "Desk 2", "admin")
        with pytest.raises(ValueError, match="unknown role"):
            organisers.issue(sessions, "Boss", "root")

    def test_who_sends_a_token(self, sessions, tmp_path):
        token = organisers.issue(sessions, "Finance office", "finance")
        who = Organisers({"ADMIN_TOKEN": "admin-secret", "ORGANISER_TOKEN_CACHE_SECONDS": 0},
                         lambda: Session(sessions[0].get_bind()))
        assert who.identify(f"Bearer {token}") == Organiser("Finance office", "finance")
        assert who.identify("Bearer admin-secret") == Organiser("ADMIN_TOKEN", "admin")
        assert who.identify("Bearer not-a-token") is None
        assert who.identify("Basic xyz") is None
        assert organisers.revoke(sessions, "Finance office") == 2
        assert who.identify(f"Bearer {token}") is None


@pytest.fixture
def two_services(start_service, amqp_uri, tmp_path):
    """Registration and badges, each on its own database; tokens checked afresh each time."""
    started = {}
    for cls in (RegistrationService, BadgesService):
        config = make_config(cls.name, amqp_uri, f"sqlite:///{tmp_path / cls.name}.db",
                             ORGANISER_TOKEN_CACHE_SECONDS=0)
        started[cls.name] = (start_service(cls, config)[1], config["DATABASE_URL"])
    sessions = [Session(create_engine(url)) for _, url in started.values()]
    yield {name: api for name, (api, _) in started.items()}, sessions
    for session in sessions:
        session.close()


def test_a_named_desk_token_does_desk_work_only_until_revoked(two_services):
    apis, sessions = two_services
    registration = apis["registration"]
    register(registration, dietary_needs="vegan")
    token = organisers.issue(sessions, "Desk 2 (Saturday volunteers)", "desk")

    seen = registration.get("/api/admin/registrations", headers=bearer(token))
    assert seen.status_code == 200
    assert "email" not in seen.json()["items"][0]
    assert "dietary_needs" not in seen.json()["items"][0]
    assert registration.get("/api/admin/stats", headers=bearer(token)).status_code == 403
    assert apis["badges"].get("/api/desk/search?q=zolc", headers=bearer(token)).status_code == 200

    organisers.revoke(sessions, "Desk 2 (Saturday volunteers)")
    assert registration.get("/api/admin/registrations",
                            headers=bearer(token)).status_code == 401
    assert apis["badges"].get("/api/desk/search?q=zolc", headers=bearer(token)).status_code == 401


def test_every_organiser_request_is_in_the_audit_log(two_services):
    apis, sessions = two_services
    registration = apis["registration"]
    created = register(registration)
    token = organisers.issue(sessions, "Anna (finance)", "finance")
    registration.get(f"/api/admin/orders/{created['order_id']}", headers=bearer(token))
    registration.get("/api/admin/exports/catering.csv", headers=bearer(ADMIN_TOKEN))
    registration.get("/api/admin/stats", headers=bearer(DESK_TOKEN))  # refused, still logged

    log = registration.get("/api/admin/audit", headers=bearer(ADMIN_TOKEN))
    assert log.status_code == 200
    entries = log.json()["items"]
    assert [(e["actor"], e["role"], e["action"], e["status"]) for e in entries] == [
        ("DESK_TOKEN", "desk", "GET /api/admin/stats", 403),
        ("ADMIN_TOKEN", "admin", "GET /api/admin/exports/<string:kind>.csv", 200),
        ("Anna (finance)", "finance", "GET /api/admin/orders/<string:order_id>", 200),
    ]
    assert entries[-1]["target"] == f"order_id={created['order_id']}"
    again = registration.get("/api/admin/audit", headers=bearer(ADMIN_TOKEN)).json()["items"]
    assert again[0]["action"] == "GET /api/admin/audit"  # reading the log is logged too
    mine = registration.get("/api/admin/audit?actor=Anna (finance)",
                            headers=bearer(ADMIN_TOKEN)).json()["items"]
    assert len(mine) == 1
    assert registration.get("/api/admin/audit", headers=bearer(token)).status_code == 403
    # a delegate's own requests are theirs, not an organiser's: nothing logged
    registration.get(f"/api/registrations/{created['id']}",
                     headers={"X-Registration-Token": created["token"]})
    latest = registration.get("/api/admin/audit", headers=bearer(ADMIN_TOKEN)).json()["items"]
    assert [(e["actor"], e["status"]) for e in latest[:2]] == [
        ("Anna (finance)", 403), ("ADMIN_TOKEN", 200)]  # her try at the log, then the last read

    # routes with the registration in the body say whose record they acted on
    badges = apis["badges"]
    speaker = register(registration, email="speaker@example.org", ticket_type="speaker",
                       discount_code="SPEAKER27", add_ons=[])
    wait_until(lambda: badges.get("/api/desk/search", params={"q": speaker["reference"]},
                                  headers=bearer(DESK_TOKEN)).json()["items"],
               message="the speaker's badge")
    scans = [{"registration_id": rid, "scanned_at": datetime.now(UTC).isoformat()}
             for rid in (speaker["id"], str(uuid.uuid4()))]  # the second is nobody's
    for path, body in (("/api/checkin", {"token": ticket_token("test-secret-key", speaker["id"])}),
                       ("/api/desk/checkins", {"checkins": scans}),
                       ("/api/badges/print", {"registration_ids": [speaker["id"]]})):
        assert badges.post(path, json=body, headers=bearer(DESK_TOKEN)).status_code == 200
    logged = badges.get("/api/admin/audit", headers=bearer(ADMIN_TOKEN)).json()["items"]
    assert [(e["action"], e["target"]) for e in logged[:3]] == [
        (f"POST {path}", f"registration_ids={speaker['id']}")
        for path in ("/api/badges/print", "/api/desk/checkins", "/api/checkin")]


def test_an_audit_entry_names_every_registration_however_many():
    ids = [str(uuid.uuid4()) for _ in range(20)]
    targets = organisers.targets({"layout": "a4"}, ids + ids[:3])
    assert all(len(t) <= organisers.TARGET_LENGTH for t in targets) and len(targets) > 1
    named = [rid for t in targets for rid in t.removeprefix("layout=a4 registration_ids=")
             .split(",")]
    assert named == ids


def test_an_audit_page_before_an_id_no_database_holds_is_refused_naming_it(two_services):
    registration = two_services[0]["registration"]
    answer = registration.get("/api/admin/audit", params={"before": 2**70},
                              headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "before"


def test_the_conference_command_makes_lists_and_revokes_tokens(tmp_path):
    env = {**os.environ, **{f"{service.upper()}_DATABASE_URL":
                            f"sqlite:///{tmp_path / service}.db"
                            for service in ("registration", "payments", "badges",
                                            "notifications")}}

    def conference(*args):
        return subprocess.run([sys.executable, "-m", "services.cli", "tokens", *args],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)

    made = conference("create", "Desk 3", "--role", "desk")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    for service in ("registration", "payments", "badges", "notifications"):
        with Session(create_engine(f"sqlite:///{tmp_path / service}.db")) as session:
            assert session.scalar(select(OrganiserToken.token_hash)) == token_hash(token)
    assert "Desk 3" in conference("list").stdout and "active" in conference("list").stdout
    assert conference("create", "Desk 3", "--role", "admin").returncode != 0
    assert "revoked 'Desk 3' in 4 of 4" in conference("revoke", "Desk 3").stdout
    assert "revoked" in conference("list").stdout
