"""The load: orders placed at a steady rate and paid, as buyers and their pages would,
while the faults happen.

Each order is one thread that books (retrying with the same Idempotency-Key until it
gets an answer, after Retry-After), then pays: by card through the booking page's calls
(the PaymentMethod made at Stripe, as Stripe.js would; ``POST .../pay``, which asks
payments over RPC), some after a declined card first; by bank transfer, recorded by an
organiser on payments; or nothing, for a speaker's free place. Requests go to a
service's instances in turn; one that refuses the connection is skipped, as a load
balancer would. Every request to a service is logged with its outcome."""

import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date

import requests
import stripe
import urllib3

from bench.registration_rush import bodies
from services.cli import TEST_CARDS

CARD, GROUP, FREE, INVOICE, DECLINED_FIRST = "card", "group", "free", "invoice", "declined"
KINDS = (CARD,) * 6 + (GROUP, FREE, INVOICE, DECLINED_FIRST)
CARD_KINDS = (CARD, GROUP, DECLINED_FIRST)
DELEGATES = {GROUP: 3, INVOICE: 2}  # one for the other kinds
STEP_SECONDS = 240  # how long a buyer keeps trying one step (booking, paying)
MAX_POLL_SECONDS = 4  # the longest wait between two looks at a payment being prepared


@dataclass
class Booking:
    n: int
    kind: str
    body: dict
    key: str
    order_id: str | None = None
    token: str | None = None
    amount_due: int = 0
    registration_ids: tuple[str, ...] = ()
    acked_at: float | None = None  # time.monotonic() of the 201
    settled_at: float | None = None  # paid (or, free, booked) as the buyer saw it
    refused: str | None = None  # the code of a refusal (sold out)
    abandoned: str | None = None  # the step that never succeeded


@dataclass(frozen=True)
class Request:
    at: float
    service: str
    outcome: str  # "ok" (any answer under 500), the 5xx status, or "no answer (why)"


def refused(exc: requests.ConnectionError) -> bool:
    """Whether the connection was refused: nothing reached the instance."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def retry_after(response: requests.Response | None) -> float:
    try:
        return float(response.headers["Retry-After"])
    except (AttributeError, KeyError, ValueError):
        return 1.0


class Load:
    def __init__(self, urls: dict[str, list[str]], stripe_base: str, admin_token: str,
                 rate: float):
        self.urls = urls
        self.admin_token = admin_token
        self.rate = rate
        self.stripe = stripe.StripeClient(
            "sk_test_faults", base_addresses={"api": stripe_base}, max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=5))
        self.delegates = itertools.cycle(bodies(5000))
        self.bookings: list[Booking] = []
        self.requests: list[Request] = []
        self._turn = itertools.count()
        self._stopping = threading.Event()
        self._flows: list[threading.Thread] = []
        self._placer = threading.Thread(target=self._place, daemon=True)

    def start(self) -> None:
        self._placer.start()

    def stop(self, timeout: float) -> None:
        """Place no more orders; wait up to ``timeout`` for those begun to be paid."""
        self._stopping.set()
        if self._placer.ident is not None:
            self._placer.join()
        deadline = time.monotonic() + timeout
        for flow in self._flows:
            flow.join(max(deadline - time.monotonic(), 0))

    def _place(self) -> None:
        started = time.monotonic()
        for n in itertools.count():
            if self._stopping.wait(max(started + n / self.rate - time.monotonic(), 0)):
                return
            booking = self.booking(n)
            self.bookings.append(booking)
            flow = threading.Thread(target=self.flow, args=(booking,), daemon=True)
            flow.start()
            self._flows.append(flow)

    def booking(self, n: int) -> Booking:
        kind = KINDS[n % len(KINDS)]
        delegates = [next(self.delegates) for _ in range(DELEGATES.get(kind, 1))]
        if kind == FREE:
            delegates = [{**d, "ticket_type": "speaker", "discount_code": "SPEAKER27",
                          "add_ons": []} for d in delegates]
        buyer = {"name": f"Buyer {n}", "email": f"buyer{n}@example.org",
                 "organisation": "Universeum", "country": "SE"}
        if kind == INVOICE:
            buyer["billing_address"] = "Kongens gate 1, 7011 Trondheim"
        body = {"buyer": buyer, "delegates": delegates,
                "payment_method": "invoice" if kind == INVOICE else "card"}
        return Booking(n, kind, body, key=f"faults-{uuid.uuid4()}")

    def send(self, service: str, method: str, path: str, **kwargs) -> requests.Response | None:
        """One request to the next instance of ``service`` (or the one after, when the
        connection is refused); None when none answered."""
        urls = self.urls[service]
        first = next(self._turn)
        for tried in range(len(urls)):
            at = time.monotonic()
            try:
                response = requests.request(method, urls[(first + tried) % len(urls)] + path,
                                            timeout=30, **kwargs)
            except requests.ConnectionError as exc:
                if refused(exc) and tried + 1 < len(urls):
                    continue
                failure = exc
                break
            except requests.Timeout as exc:
                failure = exc
                break
            self.requests.append(Request(at, service, "ok" if response.status_code < 500
                                         else str(response.status_code)))
            return response
        self.requests.append(Request(at, service, f"no answer ({type(failure).__name__})"))
        return None

    def until(self, booking: Booking, step: str, attempt) -> bool:
        """``attempt()`` (True when done, or the seconds to wait before the next) until it
        is done, for at most STEP_SECONDS; otherwise the booking is marked abandoned."""
        deadline = time.monotonic() + STEP_SECONDS
        while time.monotonic() < deadline:
            outcome = attempt()
            if outcome is True:
                return True
            time.sleep(outcome)
        booking.abandoned = step
        return False

    def flow(self, booking: Booking) -> None:
        try:
            self.book_and_pay(booking)
        except Exception as exc:  # noqa: BLE001 - an invariant reports it
            booking.abandoned = f"{type(exc).__name__}: {exc}"

    def book_and_pay(self, booking: Booking) -> None:
        if not self.until(booking, "booking", lambda: self.book(booking)) or booking.refused:
            return
        if booking.kind == FREE:
            booking.settled_at = booking.acked_at
        elif booking.kind == INVOICE:
            if self.until(booking, "transfer", lambda: self.record_transfer(booking)):
                booking.settled_at = time.monotonic()
        else:
            self.pay_by_card(booking)

    def book(self, booking: Booking):
        response = self.send("registration", "POST", "/api/orders", json=booking.body,
                             headers={"Idempotency-Key": booking.key})
        if response is None or response.status_code >= 500:
            return retry_after(response)
        if response.status_code != 201:
            booking.refused = response.json()["error"]["code"]
            return True
        created = response.json()
        booking.order_id, booking.token = created["id"], created["token"]
        booking.amount_due = created["amount_due"]
        booking.registration_ids = tuple(d["id"] for d in created["delegates"])
        booking.acked_at = time.monotonic()
        return True

    def pay_by_card(self, booking: Booking) -> None:
        headers = {"X-Order-Token": booking.token}
        path = f"/api/orders/{booking.order_id}"
        polls = itertools.count()

        def ready():
            response = self.send("registration", "GET", f"{path}/payment", headers=headers)
            if response is not None and response.status_code == 200:
                return True
            return min(retry_after(response) * 2 ** next(polls) / 2, MAX_POLL_SECONDS)

        def pay(card: str):
            def attempt():
                try:
                    method = self.stripe.v1.payment_methods.create(params={
                        "type": "card", "card": {"number": TEST_CARDS[card], "exp_month": 12,
                                                 "exp_year": 2030, "cvc": "123"}}).id
                except stripe.StripeError:
                    return 2.0  # Stripe.js could not reach Stripe
                response = self.send("registration", "POST", f"{path}/pay", headers=headers,
                                     json={"payment_method": method})
                if response is None or response.status_code >= 500:
                    return retry_after(response)
                if response.status_code != 200:
                    return 1.0  # not payable yet (payment_not_ready)
                return card != "ok" or response.json()["status"] == "succeeded" or 1.0
            return attempt

        if not self.until(booking, "payment ready", ready):
            return
        if booking.kind == DECLINED_FIRST and not self.until(booking, "declined card",
                                                             pay("declined")):
            return
        if self.until(booking, "card payment", pay("ok")):
            booking.settled_at = time.monotonic()

    def record_transfer(self, booking: Booking):
        response = self.send(
            "payments", "POST", f"/api/admin/orders/{booking.order_id}/transfers",
            headers={"Authorization": f"Bearer {self.admin_token}",
                     "Idempotency-Key": f"{booking.key}-transfer"},
            json={"amount": booking.amount_due, "received_on": date.today().isoformat(),
                  "reference": f"order {booking.n}", "payer": booking.body["buyer"]["name"]})
        if response is not None and response.status_code == 201:
            return True
        return retry_after(response)  # 404 until payments has heard of the order
