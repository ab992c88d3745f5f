"""A 200 MB body sent to Stripe's webhook endpoint (which needs no token) is refused before
it is read: the payments process's memory stays flat and it keeps answering."""

import pytest
import requests


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class TwoHundredMegabytes:
    """A body of known length, sent in pieces (never whole in the test's memory either)."""

    size = 200 * 1024 * 1024

    def __init__(self):
        self.sent = 0

    def __len__(self):
        return self.size - self.sent

    def read(self, amount: int = -1) -> bytes:
        amount = len(self) if amount < 0 else min(amount, len(self))
        self.sent += amount
        return b"x" * amount


def in_chunks():
    """The same without a length: chunked transfer encoding."""
    for _ in range(200):
        yield b"x" * (1024 * 1024)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_200_mb_webhook_body_leaves_memory_flat(service_process, amqp_uri, tmp_path,
                                                  declared):
    env = {"AMQP_URI": amqp_uri, "PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
           "STRIPE_API_BASE": "http://127.0.0.1:9"}
    payments = service_process("payments", env).wait_healthy()
    before = resident_mb(payments.process.pid)
    headers = {"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"}
    try:
        answer = requests.post(f"{payments.api.base_url}/stripe/webhook",
                               data=TwoHundredMegabytes() if declared else in_chunks(),
                               headers=headers, timeout=120)
        # declared: too large (413); chunked: no length, so no body is read at all, and
        # the signature of nothing does not match (400)
        assert answer.status_code == (413 if declared else 400), answer.text
    except requests.ConnectionError:
        pass  # it answered 413 and closed the connection before the client had sent it all
    assert resident_mb(payments.process.pid) - before < 30
    assert payments.api.get("/health").ok
