"""The API keeps its own OpenAPI schema: requests generated from it, as a signed-in participant, get no server error.

schemathesis may draw NUL characters (allow_x00, on by default) but rarely does in a dozen examples per operation;
tests/security/test_malformed_api_values.py sends NUL, huge and tiny numbers and deep nesting to every operation on
purpose.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from grading.api_auth import create_token
from tests.builders.casts import make_cast
from tests.builders.submissions import scored_submission

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction():  # type: ignore[no-untyped-def]
    """As Django's test client does: a request's end must not close the test's connection and its transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def participant_token(no_queue) -> str:  # type: ignore[no-untyped-def]
    cast = make_cast()
    scored_submission(cast.event_exercise, cast.alice)
    return create_token(user=cast.alice, name="fuzzing").secret


def served_schema() -> schemathesis.BaseSchema:
    """Load the schema that /api/v1/schema/ serves, and send the generated requests to the site's WSGI app."""
    document = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = WSGIHandler()
    return loaded


schema = served_schema()


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_generated_requests_get_no_server_error_and_answers_match_the_schema(case, participant_token):
    # Invalid input may be accepted where DRF lenient by design (a bad `offset` means the first page): no
    # negative-data check. Every answer must still be documented, typed as documented and never a 5xx.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {participant_token}"},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
