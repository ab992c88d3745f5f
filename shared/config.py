"""Configuration from environment variables, with defaults for a local run.

Every service gets a nameko config dict built here; extensions read their
settings from ``container.config`` so tests can hand them a dict instead.
"""

import logging
import os
from pathlib import Path

SERVICE_PORTS = {
    "registration": 8000,
    "payments": 8001,
    "badges": 8002,
    "notifications": 8003,
}

LOCAL_DEFAULTS = {
    "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672//",
    "SECRET_KEY": "local-secret-key-change-me",
    "ADMIN_TOKEN": "local-admin-token",
    "DESK_TOKEN": "local-desk-token",
    "FINANCE_TOKEN": "local-finance-token",
    "STRIPE_API_KEY": "sk_test_local",
    "STRIPE_API_BASE": "http://127.0.0.1:8420",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_local",
    "STRIPE_JS_URL": "http://127.0.0.1:8420/js.stripe.com/v3/",
    "STRIPE_PAYMENT_METHODS": "card,sepa_debit",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "8025",
    "MAIL_FROM": "Ecsite Conference <conference@ecsite.local>",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "PAYMENTS_PUBLIC_URL": "http://127.0.0.1:8001",
    "NOTIFICATIONS_PUBLIC_URL": "http://127.0.0.1:8003",
    "VAR_DIR": "var",
    "RATE_LIMITS": "on",  # off: no abuse limits (load tests, benchmarks)
    "TRUSTED_PROXY_HOPS": "0",  # load balancers in front, whose X-Forwarded-For is believed
}

# Seconds between the retries of a failing event handler; after the last one
# the message goes to the handler's dead-letter queue.
# Quick at first, so that a database or a service back within seconds catches up within
# seconds (a restart of PostgreSQL takes about ten); then spaced out, for longer outages.
DEFAULT_EVENT_RETRY_DELAYS = (0.5, 1, 2, 3, 5, 5, 5, 30, 120, 600)


class QuietExpectedErrors(logging.Filter):
    """Drops nameko's "(expected) error handling worker" records: a request refused with
    a 4xx is the client's mistake, already answered, and needs no traceback in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("(expected)")


def amqp_uri(env=None) -> str:
    return (os.environ if env is None else env).get("AMQP_URI", LOCAL_DEFAULTS["AMQP_URI"])


def service_config(service: str, env=None, port: int | None = None) -> dict:
    """The nameko config dict for ``service``, from ``env`` (default ``os.environ``).

    Variables named ``<SERVICE>_<KEY>`` (``REGISTRATION_DATABASE_URL``,
    ``REGISTRATION_CATALOG_FILE``) reach that service alone, as ``<KEY>``.
    """
    env = os.environ if env is None else env
    setting = {key: env.get(key, default) for key, default in LOCAL_DEFAULTS.items()}
    prefix = f"{service.upper()}_"
    own = {key.removeprefix(prefix): value for key, value in env.items()
           if key.startswith(prefix)}
    var_dir = Path(setting.pop("VAR_DIR"))
    database_url = own.pop("DATABASE_URL", None) or f"sqlite:///{var_dir / (service + '.db')}"
    retry_delays = env.get("EVENT_RETRY_DELAYS")
    return {
        **setting,
        **own,
        "DATABASE_URL": database_url,
        "WEB_SERVER_ADDRESS": f"0.0.0.0:{port or SERVICE_PORTS[service]}",
        "EVENT_RETRY_DELAYS": (
            [float(d) for d in retry_delays.split(",")]
            if retry_delays
            else list(DEFAULT_EVENT_RETRY_DELAYS)
        ),
        "max_workers": int(env.get("MAX_WORKERS", "20")),
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "filters": {"expected": {"()": QuietExpectedErrors}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                                     "filters": ["expected"]}},
            "root": {"level": env.get("LOG_LEVEL", "INFO"), "handlers": ["console"]},
        },
    }


def payment_methods(config: dict) -> tuple[str, ...]:
    """The Stripe payment method types offered (``STRIPE_PAYMENT_METHODS``, comma
    separated): card, and sepa_debit where the Stripe account has SEPA Direct Debit."""
    return tuple(m.strip() for m in config.get("STRIPE_PAYMENT_METHODS", "card").split(",")
                 if m.strip()) or ("card",)


SECRETS = ("SECRET_KEY", "ADMIN_TOKEN", "DESK_TOKEN", "FINANCE_TOKEN", "STRIPE_WEBHOOK_SECRET")
LOCAL_MARKERS = ("local-", "change-me", "whsec_local")


def unsafe_secrets(config: dict) -> list[str]:
    """The secrets still at a well-known local or placeholder value (or too short to
    guess hard): a service on the open internet must not start with them."""
    return [key for key in SECRETS
            if len(str(config.get(key) or "")) < 16 or str(config[key]).startswith(LOCAL_MARKERS)
            or str(config[key]) in LOCAL_DEFAULTS.values()]
