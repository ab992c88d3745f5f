"""Test fixtures: real RabbitMQ (a throwaway vhost per test), SQLite or PostgreSQL,
services running in-process on free ports, and helpers to watch and publish events."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet

eventlet.monkey_patch()  # before anything imports socket or threading

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from kombu import Connection, Queue
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import create_engine, text

from services.cli import free_port
from shared.config import service_config
from shared.events import Event

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token"
DESK_TOKEN = "test-desk-token"
FINANCE_TOKEN = "test-finance-token"


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


@pytest.fixture
def amqp_uri(rabbit_config):
    return rabbit_config["AMQP_URI"]


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def catalog_file(tmp_path):
    """Write a catalog for a test: the seeded one with ``changes`` applied to its sections
    and ``edit`` (a function of the whole document) run on it. No reminder to pay a card
    order unless a test asks for one: it would wait, queued, in every order's messages."""

    def write(edit=None, **changes):
        document = yaml.safe_load((ROOT / "services/registration/catalog.yaml").read_text())
        document["conference"]["payment_reminder_minutes"] = 0
        if edit:
            edit(document)
        for section, value in changes.items():
            if isinstance(value, dict) and isinstance(document.get(section), dict):
                document[section].update(value)
            else:
                document[section] = value
        path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        return path

    return write


def make_config(service, amqp_uri, database_url, **extra):
    config = service_config(service, env={}, port=free_port())
    config.update(
        AMQP_URI=amqp_uri,
        DATABASE_URL=database_url,
        ADMIN_TOKEN=ADMIN_TOKEN,
        DESK_TOKEN=DESK_TOKEN,
        FINANCE_TOKEN=FINANCE_TOKEN,
        SECRET_KEY="test-secret-key",
        EVENT_RETRY_DELAYS=[0.2, 0.4],
        RATE_LIMITS="off",  # on in tests/registration/test_abuse.py
    )
    config.pop("LOGGING")
    config.update(extra)
    return config


class Api(requests.Session):
    """requests against one running service; paths are relative to it."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url
        self.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=100))

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base_url + url, *args, **kwargs)

    def as_admin(self):
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def as_desk(self):
        return {"Authorization": f"Bearer {DESK_TOKEN}"}


@pytest.fixture
def start_service(container_factory):
    """Run a service class in this process; returns (container, Api)."""

    def start(service_cls, config):
        container = container_factory(service_cls, config)
        container.start()
        port = config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1]
        return container, Api(f"http://127.0.0.1:{port}")

    return start


class ServiceProcess:
    """A service run by the ``conference`` command in its own process."""

    def __init__(self, service, env, port):
        self.port = port
        self.api = Api(f"http://127.0.0.1:{port}")
        # its stderr, shown when it died unexpectedly; closed with the test session
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", service, "--port", str(port)],
            # the abuse limits are off unless a test turns them on: the suite books from
            # one address far more than any delegate would
            env={**os.environ, "ALLOW_LOCAL_SECRETS": "1", "RATE_LIMITS": "off", **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )

    def last_words(self, lines: int = 40) -> str:
        """The end of what the process wrote to stderr."""
        self.log.seek(0)
        return "\n".join(self.log.read().decode(errors="replace").splitlines()[-lines:])

    def wait_healthy(self, timeout=30):
        def healthy():
            assert self.process.poll() is None, \
                f"the service process exited:\n{self.last_words()}"
            try:
                return self.api.get("/health", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, 0.2, "the service to answer /health")
        return self

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def service_process():
    started = []

    def start(service, env, port=None):
        process = ServiceProcess(service, env, port or free_port())
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.kill()


class EventListener:
    """Hears every event one service publishes, through a queue bound before they happen."""

    def __init__(self, amqp_uri, source):
        self.connection = Connection(amqp_uri)
        self.queue = Queue(f"test-listener-{uuid.uuid4().hex[:8]}",
                           exchange=get_event_exchange(source, {}), routing_key="#",
                           exclusive=True)
        self.queue.maybe_bind(self.connection)
        self.queue.declare()
        self.received: list[dict] = []

    def drain(self):
        while (message := self.queue.get(no_ack=True)) is not None:
            self.received.append(message.payload)
        return self.received

    def of_type(self, event_type, about=None):
        """Events of a type; about one registration or order (its id) if ``about``."""
        return [e for e in self.drain() if e["type"] == event_type and (
            about is None or about in (e["data"].get("registration_id"),
                                       e["data"].get("order_id")))]

    def wait_for(self, event_type, about=None, count=1, timeout=10):
        return wait_until(
            lambda: (found := self.of_type(event_type, about)) and len(found) >= count
            and found,
            timeout, message=f"{count} {event_type} event(s)")

    def close(self):
        self.connection.release()


@pytest.fixture
def listen(amqp_uri):
    listeners = []

    def listen_to(source):
        listener = EventListener(amqp_uri, source)
        listeners.append(listener)
        return listener

    yield listen_to
    for listener in listeners:
        listener.close()


@pytest.fixture
def publish(amqp_uri):
    """Publish an event envelope as its source service would."""
    publisher = Publisher(amqp_uri, use_confirms=True)

    def publish_event(event: Event | dict):
        envelope = event.envelope() if isinstance(event, Event) else event
        exchange = get_event_exchange(envelope["source"], {})
        publisher.publish(envelope, exchange=exchange, declare=[exchange],
                          routing_key=envelope["type"])
        return envelope

    return publish_event
