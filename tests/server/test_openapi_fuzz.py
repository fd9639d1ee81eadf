"""schemathesis against /openapi.json of the in-process app: no 5xx, answers that match the schema.

Every operation of the document gets ``FUZZ_EXAMPLES`` generated requests (default 25, deterministic:
``derandomize``), sent in-process through schemathesis' ASGI transport and checked with its default
checks (server errors, status codes, content types, response headers and bodies against the schema)
except ``positive_data_acceptance``: it demands 2xx for every schema-valid request, but some rules are
not expressible in JSON Schema and rightly answer 422 (a period whose end lies before its start, a
webhook URL that names a private address, the e-mail check of pydantic vs. the ECMA regex dialect).
The caller is the owner of an Enterprise organisation (so plan gates do not hide the routes behind
403s); ``/v1/public/*`` get an API key with every scope instead of the access token.

Excluded: ``POST /v1/auth/logout``, because a generated logout would revoke the very access token the
rest of the run uses (its behaviour is covered in test_auth_flows.py). The app's lifespan is entered
by a Starlette TestClient (and left at the end of the test), not by schemathesis, so the database is
closed per test; the background webhook worker is off (``CARBOT_WEBHOOK_WORKER_INTERVAL_SECONDS=0``).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sync.server.config import Settings
from sync.server.main import create_app
from tests.server.billing_support import *  # noqa: F403  (billing_settings: Stripe pointed at a stand-in)
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, bearer, register_tenant
from tests.server.plan_support import grant_plan

FUZZ_EXAMPLES = int(os.environ.get("CARBOT_FUZZ_EXAMPLES", "25"))
EXCLUDED = {("POST", "/v1/auth/logout")}


def test_no_server_errors_and_no_schema_violations(
    monkeypatch: pytest.MonkeyPatch, billing_settings: Settings, clock: FakeClock
):
    monkeypatch.setenv("CARBOT_WEBHOOK_WORKER_INTERVAL_SECONDS", "0")
    app = create_app(billing_settings, clock=clock)  # Stripe: the recording stand-in of billing_support
    with TestClient(app) as client:
        owner = register_tenant(client, name="Fuzz-Werkstatt")
        grant_plan(app, owner.organization_id, "enterprise")
        scopes = ["appointments:read", "invoices:read", "webhooks:manage"]
        key = client.post("/v1/api-keys", headers=owner.headers, json={"name": "Fuzz", "scopes": scopes})
        assert key.status_code == 201, key.text
        auth = {"user": owner.headers, "key": bearer(key.json()["key"])}
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        session = ASGIClient(app)  # not entered: the TestClient above owns the lifespan
        operations = [result.ok() for result in schema.get_all_operations()]
        checked = [op for op in operations if (op.method.upper(), op.path) not in EXCLUDED]
        assert len(checked) == len(operations) - len(EXCLUDED) >= 30  # the document really lists the API
        for operation in checked:
            _fuzz(operation, session, auth["key"] if operation.path.startswith("/v1/public/") else auth["user"])


def _fuzz(operation: Any, session: ASGIClient, headers: dict[str, str]) -> None:
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(session=session, headers=headers, excluded_checks=[positive_data_acceptance])

    try:
        run()
    except Exception as exc:
        raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc


def test_nul_characters_are_refused_before_the_database_sees_them(api: TestClient):
    owner = register_tenant(api)
    assert api.post("/v1/locations", json={"name": "Filiale\u0000"}, headers=owner.headers).status_code == 422
    assert api.get("/v1/locations/a%00b", headers=owner.headers).status_code == 422
    refused = api.get("/v1/rollups", params={"from": "2026-01-01", "to": "2026-01-02", "location_id": "\u0000"},
                      headers=owner.headers)  # fmt: skip
    assert refused.status_code == 422 and refused.json()["code"] == "invalid"
    # An escaped backslash followed by "u0000" is ordinary text.
    assert api.post("/v1/locations", content=b'{"name": "A\\\\u0000"}', headers=owner.headers | {
        "Content-Type": "application/json"}).status_code in (201, 403)  # fmt: skip
