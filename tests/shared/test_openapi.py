"""Each service's OpenAPI document (shared.http.openapi_document) is valid OpenAPI 3.1:
schemathesis loads and validates it, every reference resolves, every parameter a path
names is declared, and the headers the endpoints read are described. The fuzzing through
the documents is in each service's test_fuzz.py."""

import re

import pytest
import schemathesis

from services.badges.service import BadgesService
from services.notifications.service import NotificationsService
from services.payments.service import PaymentsService
from services.registration.service import RegistrationService
from shared.http import openapi_document

SERVICES = [RegistrationService, PaymentsService, BadgesService, NotificationsService]


@pytest.fixture(params=SERVICES, ids=[cls.name for cls in SERVICES])
def document(request) -> dict:
    return openapi_document(request.param, request.param.title)


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_schemathesis_loads_and_validates_it(document):
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()
    assert all(result.ok() for result in schema.get_all_operations())


def test_every_reference_resolves_within_it(document):
    for reference in set(references(document)):
        assert reference.startswith("#/components/schemas/"), reference
        assert reference.rsplit("/", 1)[1] in document["components"]["schemas"], reference


def test_every_path_parameter_is_declared_and_every_answer_described(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), (method, path)
        assert all(answer["description"] for answer in operation["responses"].values())
        for scheme in operation.get("security", ()):
            assert set(scheme) <= set(document["components"]["securitySchemes"])


def headers_of(document, path, method) -> dict:
    return {p["name"]: p for p in document["paths"][path][method].get("parameters", ())
            if p["in"] == "header"}


def test_the_headers_endpoints_read_are_parameters():
    registration = openapi_document(RegistrationService, "registration")
    delegate = headers_of(registration, "/api/registrations/{registration_id}", "patch")
    assert delegate["X-Registration-Token"]["required"]
    assert headers_of(registration, "/api/orders/{order_id}", "get")["X-Order-Token"]["required"]
    key = headers_of(registration, "/api/orders", "post")["Idempotency-Key"]
    assert not key["required"] and key["schema"]["pattern"]
    assert registration["paths"]["/api/admin/stats"]["get"]["security"] == [
        {"organiser": ["admin"]}]
    assert registration["components"]["securitySchemes"]["organiser"] == {
        "type": "http", "scheme": "bearer"}

    payments = openapi_document(PaymentsService, "payments")
    assert headers_of(payments, "/stripe/webhook", "post")["Stripe-Signature"]["required"]
    documents = headers_of(payments, "/api/orders/{order_id}/documents", "get")
    assert not documents["X-Order-Token"]["required"]  # or an organiser's token instead


def test_other_media_types_and_refusals_are_described():
    registration = openapi_document(RegistrationService, "registration")
    receipt = registration["paths"]["/api/orders/{order_id}/receipt.pdf"]["get"]["responses"]
    assert set(receipt["200"]["content"]) == {"application/pdf"}
    assert receipt["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    admin = registration["paths"]["/api/admin/registrations"]["get"]
    status = next(p for p in admin["parameters"] if p["name"] == "status")
    assert "#/components/schemas/Status" in set(references(status))
