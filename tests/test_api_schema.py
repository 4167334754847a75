"""The OpenAPI document: valid, complete, and true. Schemathesis sends generated requests
to every operation, as staff with data in place, and checks that no answer is a server
error and that every answer matches the document (status, content type, body)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.factories import make_site, make_ticket, make_user
from webapp import api_tokens, services
from webapp.api import openapi

EXAMPLES = 15  # per operation: about 300 requests in all, per database
# Every other check runs. This one wants each request the schema allows to succeed, but
# some rules are not the schema's to say: a site id that names no site, a made-up list
# cursor, a move the workflow forbids. Those get their 4xx problem, as tested elsewhere.
# ignored_auth re-sends a request with its token spoiled, but the token set for every
# request below comes back with it; every route's 401 without a valid token is in the
# permissions table (tests/test_permissions.py) and tests/test_api.py.


def test_the_document_is_valid_openapi_and_served_without_a_token(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json["openapi"] == "3.1.0"
    validate(response.json)


def test_every_route_is_described_and_nothing_else(app):
    document = openapi.document(app)
    routes = {
        (rule.rule.replace("<int:", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint[4:] not in openapi.PUBLIC
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == described
    ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert ids == set(openapi.OPERATIONS)  # no description of a route that is gone


def test_input_no_request_may_carry_is_a_400_problem_the_document_lists(app, client):
    """A NUL or bytes that are not UTF-8, in any parameter of any operation, are refused
    before the API sees them (security.check_input): a 400 the document promises."""
    secret = api_tokens.create(user=make_user("sam", role="staff"), name="script")[1]
    answer = client.get(
        "/api/v1/tickets?after=%C2%8B%00", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert "NUL" in answer.json["detail"]
    document = openapi.document(app)
    assert all(
        "400" in op["responses"] for ops in document["paths"].values() for op in ops.values()
    )


def test_the_reference_page_renders_the_document(app, client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b'data-spec="/api/v1/openapi.json"' in page.data
    assert b"swagger-ui-bundle.js" in page.data


@pytest.fixture
def api_schema(app):
    sam, alice = make_user("sam", role="staff"), make_user("alice")
    site = make_site("Webshop", alice)
    for n in range(3):
        ticket = make_ticket(alice, f"Printer {n} jams", site=site)
        services.comment(actor=sam, ticket=ticket, body="Looking.")
    secret = api_tokens.create(user=sam, name="schemathesis")[1]
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {secret}"}
    return schema


def test_the_api_keeps_to_its_document(api_schema):
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def keeps_to_it(case):
            nonlocal tried
            tried += 1
            case.call_and_validate(excluded_checks=[positive_data_acceptance, ignored_auth])

        keeps_to_it()
    assert tried >= 200
