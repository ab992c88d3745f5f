"""Fixtures for the services running together through the real parts: localstripe
(started once for the run) with real signed webhooks, RabbitMQ, registration and
payments. Conftests import what they need from here."""

import subprocess

import pytest
import requests
import stripe

from services.badges.service import BadgesService
from services.cli import localstripe_command, pay_with_test_card
from services.notifications.service import NotificationsService
from services.payments.service import PaymentsService
from services.registration.service import RegistrationService
from tests.conftest import free_port, make_config, wait_until
from tests.mail_sink import MailSink

WEBHOOK_SECRET = "whsec_test_secret_for_the_suite"


@pytest.fixture(scope="session")
def localstripe_url():
    port = free_port()
    process = subprocess.Popen(localstripe_command(port), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{url}/v1/", timeout=1) is not None
        except requests.ConnectionError:
            return False

    wait_until(up, timeout=30, message="localstripe")
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def stripe_client(localstripe_url):
    requests.delete(f"{localstripe_url}/_config/data", timeout=5)
    return stripe.StripeClient("sk_test_suite", base_addresses={"api": localstripe_url})


class Stack:
    """Registration and payments running together; Stripe's webhook pointed at payments."""

    def __init__(self, registration, payments, stripe_client, amqp_uri,
                 notifications_config=None, badges_config=None):
        self.registration = registration
        self.payments = payments
        self.stripe = stripe_client
        self.amqp_uri = amqp_uri
        self.notifications_config = notifications_config
        self.badges_config = badges_config  # started by ``everything``
        self.notifications = None  # an Api once the ``mail`` fixture has started it

    def pay(self, payment: dict, card: str = "ok") -> str:
        return pay_with_test_card(self.stripe, payment["payment_intent_id"], card)

    def payment(self, created: dict, timeout: float = 15) -> dict:
        """What the page gets to pay a booking once payments has prepared it (202 before);
        ``created`` is a 201 answer of POST /api/registrations or /api/orders."""
        if "delegates" in created:
            path, headers = f"/api/orders/{created['id']}/payment", {
                "X-Order-Token": created["token"]}
        else:
            path, headers = f"/api/registrations/{created['id']}/payment", {
                "X-Registration-Token": created["token"]}

        def ready():
            answer = self.registration.get(path, headers=headers)
            assert answer.status_code in (200, 202), answer.text
            return answer.status_code == 200 and answer.json()

        return wait_until(ready, timeout, message="the payment to be ready")

    def order(self, created: dict) -> dict:
        """The order of a 201 answer of POST /api/orders or /api/registrations."""
        order_id = created.get("order_id", created["id"])
        return self.registration.get(f"/api/orders/{order_id}", headers={
            "X-Order-Token": created.get("order_token", created["token"])}).json()

    def status(self, created: dict) -> dict:
        return self.registration.get(f"/api/registrations/{created['id']}", headers={
            "X-Registration-Token": created["token"]}).json()

    def wait_for_status(self, created: dict, status: str, timeout: float = 15) -> dict:
        return wait_until(lambda: (seen := self.status(created))["status"] == status and seen,
                          timeout, message=f"registration {status}")


@pytest.fixture
def webhook(localstripe_url):
    """Point localstripe's webhook at a payments port; None points it nowhere (lost)."""

    def register(port):
        url = f"http://127.0.0.1:{port or free_port()}/stripe/webhook"
        requests.post(f"{localstripe_url}/_config/webhooks/payments", timeout=5,
                      data={"url": url, "secret": WEBHOOK_SECRET}).raise_for_status()

    return register


@pytest.fixture
def payments_config(amqp_uri, tmp_path, localstripe_url):
    return make_config(
        "payments", amqp_uri, f"sqlite:///{tmp_path / 'payments.db'}",
        RECONCILE_AFTER_SECONDS=1, STRIPE_API_KEY="sk_test_suite",
        STRIPE_API_BASE=localstripe_url, STRIPE_PUBLISHABLE_KEY="pk_test_suite",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)


def origin(config: dict) -> str:
    """Where a service started with ``config`` answers."""
    return f"http://127.0.0.1:{config['WEB_SERVER_ADDRESS'].rsplit(':', 1)[1]}"


@pytest.fixture
def stack(start_service, amqp_uri, tmp_path, catalog_file, stripe_client, webhook,
          payments_config, request):
    """Registration and payments, and how to start notifications (``mail``) and badges
    (``everything``); the pages that registration serves call payments and notifications
    where they run, and the desk page registration (CORS).
    Markers: ``catalog(**sections)`` for a test's own catalog, ``lost_webhooks`` for a
    Stripe whose webhooks never arrive."""
    marker = request.node.get_closest_marker("catalog")
    catalog = catalog_file(**marker.kwargs) if marker else catalog_file()
    registration_config = make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}",
        CATALOG_FILE=str(catalog), STRIPE_PUBLISHABLE_KEY="pk_test_suite",
        STRIPE_JS_URL=f"{payments_config['STRIPE_API_BASE']}/js.stripe.com/v3/")
    pages = origin(registration_config)
    notifications_config = make_config(
        "notifications", amqp_uri, f"sqlite:///{tmp_path / 'notifications.db'}",
        SEND_RETRY_SECONDS=0.3, PAYMENT_DUE_DELAY_SECONDS=0, PUBLIC_BASE_URL=pages,
        CORS_ORIGINS=pages)
    payments_config.update(CORS_ORIGINS=pages, PUBLIC_BASE_URL=pages)
    badges_config = make_config("badges", amqp_uri, f"sqlite:///{tmp_path / 'badges.db'}",
                                REGISTRATION_PUBLIC_URL=pages)
    registration_config.update(PUBLIC_BASE_URL=pages,
                               CORS_ORIGINS=f"{pages},{origin(badges_config)}",
                               PAYMENTS_PUBLIC_URL=origin(payments_config),
                               NOTIFICATIONS_PUBLIC_URL=origin(notifications_config))
    _, payments = start_service(PaymentsService, payments_config)
    _, registration = start_service(RegistrationService, registration_config)
    lost = request.node.get_closest_marker("lost_webhooks")
    webhook(None if lost else payments_config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    return Stack(registration, payments, stripe_client, amqp_uri, notifications_config,
                 badges_config)


@pytest.fixture
def mail(stack, start_service, tmp_path):
    """Notifications running beside the stack (``stack.notifications``), with an SMTP
    sink of its own; the sink."""
    sink = MailSink(tmp_path / "mail").start()
    _, stack.notifications = start_service(NotificationsService, {
        **stack.notifications_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port)})
    yield sink
    sink.stop()


@pytest.fixture
def everything(stack, mail, start_service):
    """The stack with badges and notifications, and a mail sink; (stack, badges, sink)."""
    _, badges = start_service(BadgesService, stack.badges_config)
    return stack, badges, mail


def mail_to(sink, address) -> list:
    return [m for m in sink.messages() if m["To"] == address]
