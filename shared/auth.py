"""Who may do what: organiser bearer tokens and signed tokens for delegates.

Organisers send ``Authorization: Bearer <token>``: ``ADMIN_TOKEN`` may do
everything, ``DESK_TOKEN`` may search, print and check in only, ``FINANCE_TOKEN``
may do money and documents (orders, payments, transfers, invoices, credit notes,
the emails about them) and sees no dietary or accessibility needs.

A delegate's private token (the ``X-Registration-Token`` header, and the link
in their emails) is an HMAC of the registration id with ``SECRET_KEY``, and a
buyer's (``X-Order-Token``) one of the order id for another purpose: any
service holding the key can make or check it, nothing secret is stored, and it
carries no personal data. The ticket token in the e-ticket's and the badge's QR
code is the registration id with its HMAC for another purpose: a scanner can
read the id from it, and nobody can make one.
"""

import base64
import hashlib
import hmac

ADMIN = "admin"
DESK = "desk"
FINANCE = "finance"
ROLE_TOKEN_KEYS = {ADMIN: "ADMIN_TOKEN", DESK: "DESK_TOKEN", FINANCE: "FINANCE_TOKEN"}
MONEY = (ADMIN, FINANCE)  # who may see and do money and documents


def role_for_bearer(authorization: str | None, config: dict) -> str | None:
    """The organiser role an ``Authorization`` header grants, if any."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    for role, key in ROLE_TOKEN_KEYS.items():
        expected = config.get(key)
        if expected and hmac.compare_digest(token.strip().encode(), expected.encode()):
            return role
    return None


def _mac(secret_key: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def registration_token(secret_key: str, registration_id: str) -> str:
    """The delegate's private token for one registration."""
    return _mac(secret_key, "registration-access", registration_id)


def _same(token: str | None, expected: str) -> bool:
    return bool(token) and hmac.compare_digest(token.encode(), expected.encode())


def is_registration_token(secret_key: str, registration_id: str, token: str | None) -> bool:
    return _same(token, registration_token(secret_key, registration_id))


def order_token(secret_key: str, order_id: str) -> str:
    """The buyer's private token for one order (header ``X-Order-Token``)."""
    return _mac(secret_key, "order-access", order_id)


def is_order_token(secret_key: str, order_id: str, token: str | None) -> bool:
    return _same(token, order_token(secret_key, order_id))


def ticket_token(secret_key: str, registration_id: str) -> str:
    """What the e-ticket's and the badge's QR code carry: ``<registration id>.<mac>``."""
    return f"{registration_id}.{_mac(secret_key, 'ticket', registration_id)}"


def registration_of_ticket(secret_key: str, token: str) -> str | None:
    """The registration id in a genuine ticket token; None for a forged one."""
    registration_id, _, mac = (token or "").strip().rpartition(".")
    expected = _mac(secret_key, "ticket", registration_id)
    return registration_id if registration_id and hmac.compare_digest(
        mac.encode(), expected.encode()) else None
