"""Calling another service over RPC without hanging on it."""

import logging

import eventlet

log = logging.getLogger(__name__)

RPC_SECONDS = 10


class ServiceUnavailable(Exception):
    """The other service did not answer in time, or answered with an error."""


def ask(call, *args, seconds: float = RPC_SECONDS):
    """``call(*args)`` (an RpcProxy method), or ServiceUnavailable: a service that is
    down leaves its request queued, and nobody should wait for it forever."""
    try:
        with eventlet.Timeout(seconds):
            return call(*args)
    except (Exception, eventlet.Timeout) as exc:
        log.warning("an RPC call did not succeed: %s", type(exc).__name__)
        raise ServiceUnavailable(type(exc).__name__) from None
