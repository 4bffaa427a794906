"""schemathesis against the API's own OpenAPI schema, in process (ASGI, no network), on SQLite and PostgreSQL:
generated valid and invalid requests to every operation find no server error, no answer that breaks the schema,
and no operation that answers without a token (`ignored_auth` repeats each request without one and with a
wrong one).

Not run: `positive_data_acceptance`, which expects a 2xx for every value the schema allows. The schema cannot
say which rule names, cursors and search texts exist, and the API answers those with a 422 saying what is
wrong, on purpose.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from tests.worker.api.conftest import BEARER

CHECKS = [
    not_a_server_error,
    ignored_auth,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_api_keeps_its_schema_and_its_tokens(client: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app, headers=BEARER)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} >= {
        "GET /hits", "GET /hits/{hit_id}", "GET /articles/{article_id}", "GET /rules", "GET /feeds", "GET /stats",
    }  # fmt: skip
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=BEARER, checks=CHECKS)

        call()
