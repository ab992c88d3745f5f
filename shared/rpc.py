"""Calling another service over RPC without hanging on it.

RPC is for a read or an action on demand; facts another service announces
travel as events instead. A refusal raised by the other side arrives as
itself (``shared.errors``); only a service that does not answer becomes
``Unavailable``.
"""

import logging

import eventlet
from nameko.rpc import rpc as nameko_rpc

from shared.errors import Refusal, Unavailable

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


def rpc(fn=None, **kwargs):
    """nameko's ``@rpc``, with refusals expected (answered, not logged as failures)."""
    kwargs.setdefault("expected_exceptions", (Refusal,))
    decorate = nameko_rpc(**kwargs)
    return decorate(fn) if fn is not None else decorate
