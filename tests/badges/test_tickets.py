"""Ticket tokens: Ed25519-signed, checkable with the public key alone (as an offline desk
does), the same from every service holding SECRET_KEY, short enough for a QR code; the
earlier HMAC tokens still accepted."""

import base64
import re

import pytest
import zxingcpp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.auth import registration_of_ticket, ticket_public_key, ticket_token
from tests.badges.conftest import SECRET, old_ticket

ID = "6f1c2a7e-0000-4000-8000-000000000001"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_ticket_is_the_id_and_its_signature_in_base64url():
    token = ticket_token(SECRET, ID)

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{86}", token)
    assert registration_of_ticket(SECRET, token) == ID
    assert registration_of_ticket(SECRET, f"  {token}\r\n") == ID  # as a scanner types it
    assert ticket_token(SECRET, ID) == token  # every service makes the same one


def test_the_public_key_alone_checks_a_ticket():
    head, signature = ticket_token(SECRET, ID).split(".")
    key = Ed25519PublicKey.from_public_bytes(unb64(ticket_public_key(SECRET)))
    key.verify(unb64(signature), b"ecsite-ticket:" + unb64(head))
    with pytest.raises(InvalidSignature):
        key.verify(unb64(signature), b"ecsite-ticket:" + unb64(head)[::-1])
    assert ticket_public_key("another key") != ticket_public_key(SECRET)


def test_a_forged_ticket_is_refused():
    token = ticket_token(SECRET, ID)
    head, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    other_id = ticket_token(SECRET, ID.replace("1", "2")).split(".")[0]
    non_canonical = signature[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}[signature[-1]]
    for forged in [ticket_token("another key", ID), f"{head}.{flipped}",
                   f"{other_id}.{signature}", f"{head}.{non_canonical}",
                   f"{head}.{signature}.x", f"{head}!.{signature}", "", "."]:
        assert registration_of_ticket(SECRET, forged) is None, forged


def test_a_ticket_of_the_earlier_kind_is_still_accepted():
    assert registration_of_ticket(SECRET, old_ticket(ID)) == ID
    assert registration_of_ticket("another key", old_ticket(ID)) is None


def test_a_ticket_fits_a_small_qr_code():
    token = ticket_token(SECRET, ID)
    symbol = zxingcpp.create_barcode(token, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = symbol.to_image()  # a byte a module, with a quiet zone
    quiet = memoryview(image).tobytes().find(0) // image.shape[1]
    assert image.shape[1] - 2 * quiet == 45  # version 7 at level M (the HMAC kind: 37)
    assert zxingcpp.read_barcodes(symbol.to_image(scale=4))[0].text == token
