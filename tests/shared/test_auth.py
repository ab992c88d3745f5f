"""Organiser roles and signed tokens."""

from shared.auth import (
    ADMIN,
    DESK,
    is_registration_token,
    registration_of_ticket,
    registration_token,
    role_for_bearer,
    ticket_token,
)

CONFIG = {"ADMIN_TOKEN": "admin-secret", "DESK_TOKEN": "desk-secret"}
ID = "6f1c2a7e-0000-4000-8000-000000000001"


def test_bearer_roles():
    assert role_for_bearer("Bearer admin-secret", CONFIG) == ADMIN
    assert role_for_bearer("bearer desk-secret", CONFIG) == DESK
    for header in [None, "", "Bearer", "Bearer wrong", "Basic admin-secret", "admin-secret"]:
        assert role_for_bearer(header, CONFIG) is None


def test_a_role_without_a_configured_token_is_never_granted():
    assert role_for_bearer("Bearer ", {"ADMIN_TOKEN": ""}) is None


def test_registration_tokens_open_their_own_registration_only():
    token = registration_token("key", ID)
    assert is_registration_token("key", ID, token)
    assert not is_registration_token("other key", ID, token)
    assert not is_registration_token("key", ID.replace("1", "2"), token)
    assert not is_registration_token("key", ID, None)


def test_ticket_tokens_carry_the_id_and_cannot_be_forged():
    token = ticket_token("key", ID)
    assert registration_of_ticket("key", token) == ID
    assert registration_of_ticket("key", f" {token}\n") == ID  # as a USB scanner types it
    assert registration_of_ticket("other key", token) is None
    assert registration_of_ticket("key", token[:-1] + "A") is None
    assert registration_of_ticket("key", ID.replace("1", "2") + token[len(ID):]) is None
    assert registration_of_ticket("key", registration_token("key", ID)) is None
    assert registration_of_ticket("key", "") is None
