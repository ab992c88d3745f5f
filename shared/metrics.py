"""What every service counts, for Prometheus (``GET /metrics``): requests and their
latency by route, events handled and failed by type, the outbox's backlog, emails by
kind and outcome, calls to Stripe by call and outcome. One registry per process; no
label ever holds personal data (routes are templates, not paths)."""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("http_requests_total", "HTTP requests answered",
                   ["route", "method", "status"])
LATENCY = Histogram("http_request_seconds", "Time to answer an HTTP request",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("events_total", "Events handled by this service's consumers",
                 ["type", "outcome"])  # handled, retried, dead_lettered, malformed
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Events committed and not yet published")
EMAILS = Counter("emails_total", "Emails tried",
                 ["kind", "outcome"])  # sent, failed, later, skipped
STRIPE_CALLS = Counter("stripe_calls_total", "Calls to Stripe", ["call", "outcome"])


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
