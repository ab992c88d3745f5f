"""Stripe, through the official SDK: the few calls payments makes, as a dependency."""

import functools
from dataclasses import dataclass

import requests
import requests.adapters
import stripe
from nameko.extensions import DependencyProvider

from shared import metrics
from shared.config import payment_methods


def counted(method):
    """Count a call to Stripe, and whether it answered (``stripe_calls_total``)."""
    @functools.wraps(method)
    def counting(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except Exception:
            metrics.STRIPE_CALLS.labels(method.__name__, "error").inc()
            raise
        metrics.STRIPE_CALLS.labels(method.__name__, "ok").inc()
        return result
    return counting


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str
    amount: int
    amount_received: int
    currency: str
    metadata: dict
    error: str | None  # the last try's decline code (Stripe's decline_code, else its code)


def _of_type(value, kind: type, name: str):
    """``value`` if it is a ``kind`` (an amount is an int, never a bool); else TypeError."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"the PaymentIntent's {name} is not {kind.__name__}: {value!r}"[:200])
    return value


def intent_from(obj) -> Intent:
    """Our plain view of a PaymentIntent (an SDK object or the dict in a webhook event).
    TypeError, or KeyError, when it is not shaped as one: a signed event must not put a
    string in an amount."""
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    error = _of_type(obj.get("last_payment_error") or {}, dict, "last_payment_error")
    metadata = _of_type(obj.get("metadata") or {}, dict, "metadata")
    return Intent(
        id=_of_type(obj["id"], str, "id"),
        client_secret=_of_type(obj.get("client_secret") or "", str, "client_secret"),
        status=_of_type(obj["status"], str, "status"),
        amount=_of_type(obj["amount"], int, "amount"),
        amount_received=_of_type(obj.get("amount_received") or 0, int, "amount_received"),
        currency=_of_type(obj["currency"], str, "currency"),
        metadata={key: _of_type(value, str, "metadata") for key, value in metadata.items()},
        error=str(error.get("decline_code") or error.get("code") or "declined")
        if error else None,
    )


class Stripe:
    def __init__(self, client: stripe.StripeClient, webhook_secret: str,
                 payment_methods: tuple[str, ...] = ("card",)):
        self.client = client
        self.webhook_secret = webhook_secret
        self.payment_methods = list(payment_methods)

    @counted
    def create_intent(self, amount: int, currency: str, metadata: dict,
                      idempotency_key: str) -> Intent:
        return intent_from(self.client.v1.payment_intents.create(
            params={"amount": amount, "currency": currency.lower(), "metadata": metadata,
                    "payment_method_types": self.payment_methods},
            options={"idempotency_key": idempotency_key}))

    def order_intent(self, order_id: str, reference: str, attempt: int, amount: int,
                     currency: str) -> Intent:
        """An order's PaymentIntent for one attempt; the key makes a retry return it."""
        return self.create_intent(amount, currency,
                                  metadata={"order_id": order_id, "reference": reference},
                                  idempotency_key=f"order-{order_id}-attempt-{attempt}")

    @counted
    def retrieve_intent(self, intent_id: str) -> Intent:
        return intent_from(self.client.v1.payment_intents.retrieve(intent_id))

    @counted
    def create_setup_intent(self) -> str:
        """A SetupIntent's client secret: the page's form turns a card (Stripe.js
        confirmCardSetup) or an IBAN (confirmSepaDebitSetup) into a PaymentMethod."""
        return self.client.v1.setup_intents.create(
            params={"payment_method_types": self.payment_methods}).client_secret

    @counted
    def confirm_with(self, intent_id: str, payment_method: str) -> tuple[str, str | None]:
        """Charge the card or debit the account the page set up: (the intent's status, or
        "declined"; why declined)."""
        intents = self.client.v1.payment_intents
        intents.update(intent_id, params={"payment_method": payment_method})
        try:
            return intents.confirm(intent_id).status, None
        except stripe.CardError as declined:
            return "declined", declined.user_message or declined.code or "declined"
        except stripe.InvalidRequestError:
            # confirmed meanwhile by another try of the same order: say how that went
            return intents.retrieve(intent_id).status, None

    @counted
    def method_type(self, payment_method: str) -> str:
        """What a PaymentMethod is: card, sepa_debit."""
        return self.client.v1.payment_methods.retrieve(payment_method).type

    @counted
    def cancel_intent(self, intent_id: str) -> None:
        self.client.v1.payment_intents.cancel(intent_id)

    @counted
    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> tuple[str, int]:
        refund = self.client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount},
            options={"idempotency_key": idempotency_key})
        return refund.id, refund.amount

    def verify_webhook(self, payload: bytes, signature: str | None) -> None:
        """Raises SignatureVerificationError (or ValueError) unless Stripe signed payload
        in the last five minutes (an older signature is a replay)."""
        stripe.WebhookSignature.verify_header(payload.decode(), signature, self.webhook_secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)


class StripeGateway(DependencyProvider):
    def setup(self):
        config = self.container.config
        # One HTTP session, and its pool of kept-alive connections, for every worker: the
        # SDK otherwise keeps a session per thread, and under eventlet each worker is a
        # thread of its own, so every call to Stripe opened a connection (a TLS handshake
        # against the real Stripe) and dropped it.
        self.session = requests.Session()
        pool = requests.adapters.HTTPAdapter(pool_maxsize=int(config.get("max_workers", 10)))
        self.session.mount("https://", pool)
        self.session.mount("http://", pool)
        client = stripe.StripeClient(
            config["STRIPE_API_KEY"], base_addresses={"api": config["STRIPE_API_BASE"]},
            max_network_retries=2,
            http_client=stripe.RequestsClient(timeout=float(config.get("STRIPE_TIMEOUT", 10)),
                                              session=self.session))
        self.stripe = Stripe(client, config["STRIPE_WEBHOOK_SECRET"], payment_methods(config))

    def stop(self):
        self.session.close()

    def kill(self):
        self.session.close()

    def get_dependency(self, worker_ctx):
        return self.stripe
