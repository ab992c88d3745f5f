"""Shared bits of the registration tests."""

import pytest

from services.registration.service import RegistrationService
from tests.conftest import make_config
from tests.stack import (  # noqa: F401 - fixtures of the stack, for every test here
    everything,
    localstripe_url,
    mail,
    payments_config,
    stack,
    stripe_client,
    webhook,
)


def delegate(**changes) -> dict:
    body = {
        "given_name": "Łukasz",
        "family_name": "Żółć",
        "pronouns": "he/him",
        "organisation": "Copernicus Science Centre",
        "country": "PL",
        "email": "lukasz.zolc@example.org",
        "ticket_type": "full",
        "add_ons": ["gala-dinner"],
        "dietary_needs": "vegetarian",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def registration_config(amqp_uri, sqlite_url):
    return make_config("registration", amqp_uri, sqlite_url)


@pytest.fixture
def registration(start_service, registration_config):
    """The registration service, running with the seeded catalog; its Api."""
    _, api = start_service(RegistrationService, registration_config)
    return api


def register(api, **changes) -> dict:
    response = api.post("/api/registrations", json=delegate(**changes))
    assert response.status_code == 201, response.text
    return response.json()
