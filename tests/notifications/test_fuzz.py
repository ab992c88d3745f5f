"""Notifications fuzzed through its OpenAPI document (tests/fuzz.py), with an order's
messages recorded, so that requests reach past the lookups that random ids never pass."""

from services.notifications.service import NotificationsService
from shared.events import new_event
from tests.conftest import wait_until
from tests.fuzz import fuzz
from tests.notifications import samples
from tests.notifications.conftest import order_log


def test_no_5xx_and_every_answer_as_documented(start_service, notifications_config, publish,
                                               subtests):
    _, notifications = start_service(NotificationsService, notifications_config)
    publish(new_event("order_placed", samples.order()))
    [message, *_] = wait_until(lambda: order_log(notifications, samples.ORDER_ID),
                               message="the order's messages")
    pinned = {"order_id": samples.ORDER_ID, "registration_id": samples.REGISTRATION_ID,
              "message_id": message["message_id"]}
    fuzz(notifications, subtests, pinned=lambda: pinned)
