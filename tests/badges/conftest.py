"""The badges service beside registration, through RabbitMQ; a private CUPS for printing."""

import base64
import hashlib
import hmac
import io
import json
import subprocess
import sys
import uuid

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from services.badges.models import Base
from services.badges.rendering import Rendered
from services.badges.service import BadgesService
from services.registration.service import RegistrationService
from shared.db import MessagingBase, UnitOfWork, make_engine
from shared.events import new_event
from tests.conftest import ROOT, make_config, wait_until
from tests.cups import PrivateCups, why_cups_cannot_run
from tests.notifications import samples
from tests.registration.conftest import register

SECRET = "test-secret-key"  # make_config's SECRET_KEY


@pytest.fixture
def uow(tmp_path):
    """A badges database, without a broker: for the use cases alone."""
    engine = make_engine(f"sqlite:///{tmp_path / 'badges.db'}")
    MessagingBase.metadata.create_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield UnitOfWork(session, "badges.on_registration", lambda: None)
    engine.dispose()


def render(badges, layout) -> Rendered:
    """Rendering stood in for, where only what the use cases do with a badge matters."""
    return Rendered(pdf=b"%PDF badge", missing_glyphs={})
SCREENSHOTS = ROOT / "var" / "screenshots"


def old_ticket(registration_id: str) -> str:
    """A ticket token of the earlier kind: the id and its HMAC."""
    mac = hmac.new(SECRET.encode(), f"ticket:{registration_id}".encode(), hashlib.sha256)
    return f"{registration_id}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"


class Desk:
    def __init__(self, registration, badges, events):
        self.registration, self.badges, self.events = registration, badges, events

    def confirmed(self, **delegate) -> dict:
        """A free (speaker) registration, confirmed at once, once its badge is made."""
        created = register(self.registration, ticket_type="speaker", discount_code="SPEAKER27",
                           add_ons=[], **delegate)
        self.events.wait_for("badge_generated", created["id"])
        return created

    def preview(self, registration_id) -> bytes:
        response = self.badges.get(f"/api/badges/{registration_id}.pdf",
                                   headers=self.badges.as_desk())
        assert response.status_code == 200, response.text
        return response.content

    def pdf_text(self, registration_id) -> str:
        return PdfReader(io.BytesIO(self.preview(registration_id))).pages[0].extract_text()

    def badge(self, created) -> dict:
        """What the desk's search says of a registration's badge (``created``: its 201)."""
        [found] = self.badges.get("/api/desk/search", params={"q": created["reference"]},
                                  headers=self.badges.as_desk()).json()["items"]
        return found


@pytest.fixture
def desk_printers():
    """The badges service's DESK_PRINTERS: none, unless a test module says otherwise."""
    return ""


@pytest.fixture
def badges_config(amqp_uri, tmp_path, desk_printers):
    return make_config("badges", amqp_uri, f"sqlite:///{tmp_path / 'badges.db'}",
                       DESK_PRINTERS=desk_printers)


@pytest.fixture
def desk(start_service, amqp_uri, tmp_path, listen, badges_config):
    events = listen("badges")
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}"))
    _, badges = start_service(BadgesService, badges_config)
    return Desk(registration, badges, events)


@pytest.fixture(scope="session")
def cups():
    """A private cupsd with a PDF printer queue, for the whole run (skipped, saying why,
    where it cannot run)."""
    reason = why_cups_cannot_run()
    if reason:
        pytest.skip(reason)
    server = PrivateCups()
    try:
        server.start()
    except BaseException:
        log = server.log()
        server.stop()
        raise AssertionError(f"the private cupsd did not start:\n{log}") from None
    yield server
    server.stop()


STATUS = {"registration_confirmed": ("confirmed", "active"),
          "registration_cancelled": ("cancelled", "withdrawn")}


@pytest.fixture
def registrations(desk, publish):
    """Publish registration's events about a new registration, as registration would;
    its id, once the desk sees it in the state the last event says."""

    def status_of(reference):
        found = desk.badges.get("/api/desk/search", params={"q": reference},
                                headers=desk.badges.as_desk()).json()["items"]
        return found and found[0]["status"]

    def happen(*event_types, given_name="Ana", family_name="Nunes", **changes) -> str:
        registration_id = str(uuid.uuid4())
        reference = f"ECS27-{registration_id[:6].upper()}"
        for event_type in event_types:
            status, badge_status = STATUS[event_type]
            extra = {"reason": "buyer", "refund_due": 0} if status == "cancelled" else {}
            publish(new_event(event_type, samples.registration(
                given_name, family_name, registration_id=registration_id, status=status,
                reference=reference, **extra, **changes)))
            wait_until(lambda: status_of(reference) == badge_status,  # noqa: B023
                       message=f"{event_type} heard")
        return registration_id

    return happen


def run_browser(scenario: str, base_url: str, **args) -> dict:
    """Run a scenario of tests/badges/browser.py in chromium; what it saw."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.badges.browser", scenario, base_url,
         json.dumps(args), str(SCREENSHOTS)],
        capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])
