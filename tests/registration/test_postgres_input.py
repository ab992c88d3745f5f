"""Input that PostgreSQL refuses on its own (a NUL character, an id that is not a UUID, an
integer beyond 64 bits) is answered with a 4xx naming the field, never a 500."""

import pytest

from services.badges.service import BadgesService
from services.notifications.service import NotificationsService
from services.payments.service import PaymentsService
from services.registration.service import RegistrationService
from tests.conftest import make_config
from tests.registration.conftest import delegate

pytestmark = pytest.mark.postgres


@pytest.fixture
def on_postgres(start_service, amqp_uri, postgres_url):
    return start_service(RegistrationService,
                         make_config("registration", amqp_uri, postgres_url))[1]


@pytest.mark.parametrize("path", [
    "/api/admin/registrations?q=%00", "/api/admin/orders?q=zo%00lc",
    "/api/admin/registrations?status=%00", "/api/admin/orders/%00",
    "/api/admin/orders/not-a-uuid", "/api/admin/audit?actor=%00",
])
def test_odd_query_and_path_values_are_refused_not_a_server_error(on_postgres, path):
    answer = on_postgres.get(path, headers=on_postgres.as_admin())
    assert answer.status_code < 500, (path, answer.text)


@pytest.mark.parametrize("path", ["/api/registrations/%00", "/api/orders/%00"])
def test_a_nul_in_a_delegates_path_is_not_a_server_error(on_postgres, path):
    answer = on_postgres.get(path, headers={"X-Registration-Token": "x", "X-Order-Token": "x"})
    assert 400 <= answer.status_code < 500, answer.text


def test_a_nul_in_a_booking_is_refused_naming_the_field(on_postgres):
    answer = on_postgres.post("/api/registrations", json=delegate(organisation="Lab\x00"))
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "organisation"
    key = on_postgres.post("/api/registrations", json=delegate(),
                           headers={"Idempotency-Key": "a\x00b"})
    assert key.status_code in (400, 422)


def test_the_desk_search_takes_any_text(start_service, amqp_uri, postgres_url):
    badges = start_service(BadgesService, make_config("badges", amqp_uri, postgres_url))[1]
    answer = badges.get("/api/desk/search?q=%00", headers=badges.as_desk())
    assert answer.status_code < 500, answer.text


def test_a_delegate_changes_and_cancels_on_postgres(on_postgres):
    """Locking a registration (with its order, loaded by a join) works on PostgreSQL, which
    refuses FOR UPDATE on the nullable side of an outer join."""
    created = on_postgres.post("/api/registrations", json=delegate()).json()
    headers = {"X-Registration-Token": created["token"]}
    path = f"/api/registrations/{created['id']}"
    assert on_postgres.patch(path, json={"pronouns": "they/them"}, headers=headers).ok
    cancelled = on_postgres.post(f"{path}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize("service, calls", [
    ("payments", [("GET", "/api/admin/orders/%00/money"), ("GET", "/api/admin/orders/%00/payments"),
                  ("GET", "/api/orders/%00/documents"), ("GET", "/api/orders/%00/receipt.pdf"),
                  ("GET", "/api/orders/x/documents/%00.pdf"),
                  ("GET", "/api/admin/transfers?status=%00"), ("GET", "/api/admin/audit?actor=%00"),
                  ("POST", "/api/admin/transfers/%00/dismiss"),
                  ("POST", "/api/admin/orders/%00/refund")]),
    ("notifications", [("GET", "/api/admin/registrations/%00/messages"),
                       ("GET", "/api/admin/orders/%00/messages"),
                       ("POST", "/api/admin/messages/%00/resend"),
                       ("POST", "/api/admin/messages/99999999999999999999999/resend"),
                       ("GET", "/api/admin/audit?actor=%00")]),
])
def test_payments_and_notifications_refuse_odd_values_too(start_service, amqp_uri,
                                                          postgres_url, service, calls):
    service_class = {"payments": PaymentsService, "notifications": NotificationsService}[service]
    api = start_service(service_class, make_config(
        service, amqp_uri, postgres_url, STRIPE_API_KEY="sk_test_unused",
        STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_PUBLISHABLE_KEY="pk_test_unused",
        STRIPE_WEBHOOK_SECRET="whsec_unused", SMTP_HOST="127.0.0.1", SMTP_PORT="9",
        PUBLIC_BASE_URL="http://127.0.0.1"))[1]
    for method, path in calls:
        answer = api.request(method, path, json={}, headers={
            **api.as_admin(), "X-Order-Token": "x", "Idempotency-Key": "odd"})
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text)
