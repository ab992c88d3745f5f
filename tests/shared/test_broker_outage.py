"""RabbitMQ goes away for 10 s while every service is busy: no service process dies,
each answers throughout (503 where it needs the broker), and all of them carry on by
themselves when it is back.

Restarts the local RabbitMQ node, so it runs only where the tests may (see
test_broker_restart)."""

import itertools
import shutil
import socket
import uuid

import eventlet
import pytest

from tests.conftest import ADMIN_TOKEN, wait_until
from tests.registration.conftest import delegate

pytestmark = pytest.mark.skipif(shutil.which("rabbitmqctl") is None,
                                reason="needs rabbitmqctl to restart the local RabbitMQ")
SERVICES = ("registration", "payments", "badges", "notifications")


def room_for_all(catalog: dict) -> None:
    """Enough places and speakers' codes for a minute of bookings."""
    catalog["conference"]["capacity"] = 100_000
    for ticket in catalog["ticket_types"]:
        ticket["capacity"] = 100_000
    next(d for d in catalog["discount_codes"] if d["code"] == "SPEAKER27")["max_uses"] = 100_000


@pytest.fixture
def silent_stripe():
    """A Stripe that takes connections and never answers: RPC calls to payments that ask
    it something are still running when the broker goes."""
    with socket.create_server(("127.0.0.1", 0), backlog=1000) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def four_services(service_process, amqp_uri, tmp_path, catalog_file, silent_stripe):
    """Every service in its own process, as ``conference run`` starts it in production;
    Stripe silent (payments keeps preparing, its RPC calls take seconds) and mail to
    nowhere (retried)."""
    env = {"AMQP_URI": amqp_uri, "SECRET_KEY": "test-secret-key", "ADMIN_TOKEN": ADMIN_TOKEN,
           "REGISTRATION_CATALOG_FILE": str(catalog_file(room_for_all)),
           "STRIPE_API_BASE": silent_stripe, "PAYMENTS_STRIPE_TIMEOUT": "2", "SMTP_PORT": "9",
           **{f"{name.upper()}_DATABASE_URL": f"sqlite:///{tmp_path / name}.db"
              for name in SERVICES}}
    return {name: service_process(name, env).wait_healthy() for name in SERVICES}


def speaker(n: int) -> dict:
    """A free booking: confirmed at once, so badges makes a badge without any payment."""
    return delegate(email=f"speaker{n}-{uuid.uuid4().hex[:6]}@example.org",
                    ticket_type="speaker", discount_code="SPEAKER27", add_ons=[])


def test_no_service_dies_when_the_broker_blinks_under_load(four_services, broker_down):
    registration = four_services["registration"].api
    answers: dict = {}
    stopping = []

    def count(what, method, path, **kwargs):
        try:
            outcome = registration.request(method, path, timeout=15, **kwargs)
            answers[what, outcome.status_code] = answers.get((what, outcome.status_code), 0) + 1
            return outcome
        except Exception as exc:  # noqa: BLE001 - counted, as a client would see it
            answers[what, type(exc).__name__] = answers.get((what, type(exc).__name__), 0) + 1

    def keep_booking(worker):
        for n in itertools.count():
            if stopping:
                return
            count("book", "POST", "/api/registrations", json=speaker(worker * 1000 + n))
            eventlet.sleep(0.1)

    def keep_setting_up_cards(order):
        """The card form's RPC call to payments, which asks a silent Stripe: calls are
        in flight when the broker goes."""
        while not stopping:
            count("card-setup", "POST", f"/api/orders/{order['order_id']}/card-setup",
                  headers={"X-Order-Token": order["order_token"]})

    paying = [registration.post("/api/registrations", json=delegate(
        email=f"paying{n}@example.org", add_ons=[])).json() for n in range(3)]
    pool = eventlet.GreenPool()
    for worker in range(12):
        pool.spawn(keep_booking, worker)
    for order in paying:
        pool.spawn(keep_setting_up_cards, order)
    eventlet.sleep(4)
    broker_down.stop()
    eventlet.sleep(10)
    broker_down.start()
    eventlet.sleep(5)
    stopping.append(True)
    pool.waitall()

    for name, service in four_services.items():
        assert service.process.poll() is None, f"{name} died:\n{service.last_words()}"
    assert {outcome for _, outcome in answers} <= {201, 503}, answers

    after = registration.post("/api/registrations", json=speaker(0)).json()
    badge = four_services["badges"].api
    wait_until(lambda: badge.get(f"/api/badges/{after['id']}.pdf", headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200, timeout=60,
        message="a badge for a booking made after the outage")
    for name, service in four_services.items():
        assert service.api.get("/health").status_code == 200, name
