"""Calling another service over RPC without hanging on it.

RPC is for a read or an action on demand; facts another service announces
travel as events instead. A refusal raised by the other side arrives as
itself (``shared.errors``); only a service that does not answer becomes
``Unavailable``.
"""

import logging

import eventlet
from nameko.rpc import Rpc, RpcConsumer

from shared.consumer import QuicklyReconnectingConsumer
from shared.errors import Refusal, Unavailable
from shared.queues import declare_queues, quorum_queue

log = logging.getLogger(__name__)

RPC_SECONDS = 10


def ask(call, *args, seconds: float = RPC_SECONDS, service: str = "A service"):
    """``call(*args)`` (an RpcProxy method); the other side's refusal as it is, or
    Unavailable when it does not answer in time (a service that is down leaves its
    request queued, and nobody should wait for it forever)."""
    try:
        with eventlet.Timeout(seconds):
            return call(*args)
    except Refusal:
        raise
    except (Exception, eventlet.Timeout) as exc:
        log.warning("an RPC call did not succeed: %s", type(exc).__name__)
        raise Unavailable(f"{service} cannot be reached just now; please try again shortly.",
                          code="service_unavailable") from None


class QuorumRpcConsumer(RpcConsumer):
    """nameko's request queue, ``rpc-<service>``, as a quorum queue (``shared.queues``; a
    classic one is migrated). The callers' reply queues stay classic: each lives only as
    long as its caller (auto-deleted, expiring), which a quorum queue cannot."""

    queue_consumer = QuicklyReconnectingConsumer()

    def setup(self):
        if self.queue is None:
            super().setup()
            self.queue = quorum_queue(self.queue.name, exchange=self.queue.exchange,
                                      routing_key=self.queue.routing_key)
            declare_queues(self.container.config["AMQP_URI"], [self.queue])


class SurvivingRpc(Rpc):
    """nameko's RPC entrypoint, except that failing to answer does not kill the service.

    nameko answers and acks in the worker's ``handle_result``; when the broker has gone
    away meanwhile, the error escapes the worker's thread and nameko kills the whole
    container (checked: a 10 s RabbitMQ restart under load). The request was not acked,
    so the broker hands it out again once the service has reconnected; the caller, who
    waits with a timeout (``ask``), has given up or gets the later answer."""

    rpc_consumer = QuorumRpcConsumer()

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except Exception as exc:  # noqa: BLE001 - nothing here may end the service
            log.warning("could not answer %s (%s); the broker will hand the request out "
                        "again", worker_ctx.call_id, type(exc).__name__)
            return result, exc_info


def rpc(fn=None, **kwargs):
    """An RPC entrypoint that survives the broker going away, with refusals expected
    (answered, not logged as failures)."""
    kwargs.setdefault("expected_exceptions", (Refusal,))
    decorate = SurvivingRpc.decorator(**kwargs)
    return decorate(fn) if fn is not None else decorate
