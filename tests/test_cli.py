"""The conference command's queue declaration: every consumer queue exists before
any service publishes."""

from kombu import Connection

from services.cli import SERVICES, all_handler_queues, declare_all_queues


def test_every_handler_of_every_service_gets_its_three_queues(amqp_uri):
    handlers = all_handler_queues()
    assert {queues.main.name for queues in handlers} >= {
        "evt-payments-payment_succeeded--registration.on_payment_succeeded",
        "evt-payments-payment_failed--registration.on_payment_failed",
        "evt-payments-payment_refunded--registration.on_payment_refunded",
    }
    assert declare_all_queues(amqp_uri) == 3 * len(handlers)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for queues in handlers:
            for queue in queues:
                queue.bind(channel).queue_declare(passive=True)  # raises if it is missing
    assert "registration" in SERVICES
