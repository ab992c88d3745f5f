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
code is the registration id with its Ed25519 signature: a scanner can read the id
from it, nobody can make one, and anyone with the public key (the registration
desk, offline) can check one. The signing key is derived from ``SECRET_KEY``
(HKDF), so every service that issues tickets makes the same tokens; tokens of the
earlier kind (the id and an HMAC) are still accepted.
"""

import base64
import hashlib
import hmac
import uuid
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


def waiting_list_token(secret_key: str, entry_id: str) -> str:
    """The private token of one place on a waiting list (header ``X-Waiting-List-Token``):
    to see it, take the place offered, or leave."""
    return _mac(secret_key, "waiting-list-access", entry_id)


def is_waiting_list_token(secret_key: str, entry_id: str, token: str | None) -> bool:
    return _same(token, waiting_list_token(secret_key, entry_id))


TICKET_KEY_INFO = b"ecsite-conference ticket signing key v1"
TICKET_SIGNED = b"ecsite-ticket:"  # what is signed: this, then the id's 16 bytes
ID_CHARS, SIGNATURE_CHARS = 22, 86  # base64url, unpadded, of 16 and 64 bytes


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes | None:
    """The bytes of unpadded base64url ``text``; None unless it is exactly that."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None
    return raw if _b64(raw) == text else None


@lru_cache(maxsize=4)
def _ticket_signing_key(secret_key: str) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=TICKET_KEY_INFO).derive(secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def ticket_public_key(secret_key: str) -> str:
    """The raw Ed25519 public key that checks ticket tokens, base64url."""
    return _b64(_ticket_signing_key(secret_key).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def ticket_token(secret_key: str, registration_id: str) -> str:
    """What the e-ticket's and the badge's QR code carry: ``<id>.<signature>``, the
    registration id's 16 bytes and the Ed25519 signature, base64url (109 characters)."""
    raw_id = uuid.UUID(registration_id).bytes
    signature = _ticket_signing_key(secret_key).sign(TICKET_SIGNED + raw_id)
    return f"{_b64(raw_id)}.{_b64(signature)}"


def registration_of_ticket(secret_key: str, token: str) -> str | None:
    """The registration id in a genuine ticket token (signed, or of the earlier HMAC
    kind); None for a forged one."""
    head, _, tail = (token or "").strip().rpartition(".")
    if len(head) == ID_CHARS and len(tail) == SIGNATURE_CHARS:
        raw_id, signature = _unb64(head), _unb64(tail)
        if raw_id is None or signature is None:
            return None
        try:
            _ticket_signing_key(secret_key).public_key().verify(signature,
                                                                TICKET_SIGNED + raw_id)
        except InvalidSignature:
            return None
        return str(uuid.UUID(bytes=raw_id))
    expected = _mac(secret_key, "ticket", head)
    return head if head and hmac.compare_digest(tail.encode(), expected.encode()) else None
