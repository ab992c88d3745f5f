"""Fuzzing a running service through its own OpenAPI document (schemathesis): every
operation gets generated requests, valid and invalid, and every answer must be no 5xx and
what the document says (status code, content type, body schema). Each service's
test_fuzz.py starts the service and says which operations it leaves out, and why.

schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run
under pytest 9.2 (it sets ``Node._nodeid``, which pytest no longer has), so each operation
is a hypothesis test of its own here, reported as a subtest."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_TOKEN

# no 5xx; bad input refused (4xx); every answer as documented
CHECKS = [not_a_server_error, negative_data_rejection, status_code_conformance,
          content_type_conformance, response_schema_conformance]
# Enough to reach each field's edges with valid and invalid values; few enough that the four
# services are fuzzed in well under two minutes on two cores (about 75 s here).
EXAMPLES_PER_OPERATION = 50
# derandomize: the same requests every run (and no example database remembering failures)
SETTINGS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                    deadline=None, suppress_health_check=list(HealthCheck))


def document(api) -> schemathesis.BaseSchema:
    """The OpenAPI document a running service serves, loaded and validated; requests to
    organiser operations carry the admin's token (valid ones: invalid requests may carry
    none, or another)."""
    config = schemathesis.Config.from_dict({
        "base-url": api.base_url, "auth": {"openapi": {"organiser": {"bearer": ADMIN_TOKEN}}}})
    schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json", config=config)
    schema.validate()
    return schema


def fuzz_operation(operation, pinned: dict) -> None:
    """Valid and invalid requests for one operation, the same ones every run; some of them
    with the parameters it declares that ``pinned`` names taking their value from there."""
    fixed: dict = {"path": {}, "header": {}, "query": {}}
    for parameter in operation.definition.raw.get("parameters", ()):
        if parameter["name"] in pinned:
            fixed[parameter["in"]][parameter["name"]] = pinned[parameter["name"]]
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if any(fixed.values()):
        strategies += [operation.as_strategy(mode, path_parameters=fixed["path"],
                                             headers=fixed["header"], query=fixed["query"])
                       for mode in GenerationMode]
    strategy = st.one_of(strategies)

    @SETTINGS
    @given(case=strategy)
    def answers_as_documented(case):
        case.call_and_validate(checks=CHECKS)

    answers_as_documented()


def fuzz(api, subtests, skip=(), pinned=dict) -> None:
    """Fuzz every operation of a running service but those ``skip`` names (operationIds),
    each in a subtest. ``pinned()``, called before each operation, gives real values for
    parameters by name (an id and its token, say), to reach past the checks that random
    ones never pass."""
    operations = [result.ok() for result in document(api).get_all_operations()]
    assert set(skip) <= {operation.definition.raw["operationId"] for operation in operations}
    for operation in operations:
        if operation.definition.raw["operationId"] not in skip:
            with subtests.test(operation.label):
                fuzz_operation(operation, pinned())
