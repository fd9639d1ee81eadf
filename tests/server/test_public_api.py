"""API keys and /v1/public/*: plan gate, shown once, hashed at rest, revocation, rotation, scopes, rate limit."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.plans import SubscriptionStatus
from sync.server.api_keys_models import ApiKey
from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.store import InProcessStore, StoreUnavailable
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, Tenant, bearer, register_tenant
from tests.server.plan_support import appointment, grant_plan, invoice, op, push, register_device

ALL_SCOPES = ["appointments:read", "invoices:read", "webhooks:manage"]


def create_key(api: TestClient, tenant: Tenant, scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = api.post("/v1/api-keys", json={"name": "Warenwirtschaft", "scopes": scopes, **extra},
                        headers=tenant.headers)  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def professional(api: TestClient, name: str = "Autohaus Sonne") -> Tenant:
    tenant = register_tenant(api, name=name)
    grant_plan(api.app, tenant.organization_id, "professional")  # type: ignore[arg-type]
    return tenant


def test_starter_organisation_gets_403_for_api_keys(api: TestClient):
    tenant = register_tenant(api)  # the default: Starter trial
    response = api.post("/v1/api-keys", json={"name": "ERP", "scopes": ["invoices:read"]}, headers=tenant.headers)
    assert response.status_code == 403 and response.json()["code"] == "plan_required"
    assert "Starter" in response.json()["detail"]
    assert api.get("/v1/api-keys", headers=tenant.headers).json() == []  # listing (and revoking) stays possible
    grant_plan(api.app, tenant.organization_id, "professional")  # type: ignore[arg-type]
    assert create_key(api, tenant, ["invoices:read"])["key"].startswith("ck_live_")


def test_key_is_shown_once_and_stored_hashed(api: TestClient):
    tenant = professional(api)
    created = create_key(api, tenant, ["appointments:read", "invoices:read", "invoices:read"])
    key = created["key"]
    assert len(key) == len("ck_live_") + 43 and created["prefix"] == key[:16]
    assert created["scopes"] == ["appointments:read", "invoices:read"]
    listed = api.get("/v1/api-keys", headers=tenant.headers)
    assert listed.status_code == 200 and "key" not in listed.json()[0]
    assert key not in listed.text and key[16:] not in listed.text
    with api.app.state.ctx.db.unit() as session:  # type: ignore[attr-defined]
        row = session.scalars(select(ApiKey)).one()
        stored = " ".join(str(getattr(row, column.key)) for column in ApiKey.__table__.columns)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in stored and key[16:] not in stored  # neither the key nor its secret part at rest
    # Only the owner manages keys.
    assert api.post("/v1/api-keys", json={"name": "x", "scopes": ["invoices:read"]},
                    headers=bearer(created["key"])).status_code == 401  # fmt: skip


def test_public_records_are_scoped_to_the_keys_organisation_and_scopes(api: TestClient):
    tenant, other = professional(api), professional(api, "Reifen Schulz")
    desk, other_desk = register_device(api, tenant, tenant.location_id), register_device(api, other, other.location_id)
    push(api, desk, [op("appointment", "a-1", appointment()), op("invoice", "i-1", invoice("W1-2026-000001"))])
    push(api, other_desk, [op("appointment", "geheim-1", appointment() | {"title": "Geheimtermin"})])
    key = create_key(api, tenant, ["appointments:read"])["key"]
    page = api.get("/v1/public/appointments", headers=bearer(key))
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [(i["id"], i["location_id"], i["data"]["title"]) for i in items] == [("a-1", tenant.location_id, "HU/AU")]
    assert "Geheimtermin" not in page.text and page.json()["next_after"] is None
    missing = api.get("/v1/public/invoices", headers=bearer(key))
    assert missing.status_code == 403 and missing.json()["code"] == "scope_missing"
    assert api.get("/v1/public/webhooks", headers=bearer(key)).status_code == 403
    both = create_key(api, tenant, ["invoices:read"])["key"]
    invoices = api.get("/v1/public/invoices", headers=bearer(both)).json()["items"]
    assert [i["data"]["number"] for i in invoices] == ["W1-2026-000001"]
    other_key = create_key(api, other, ["appointments:read"])["key"]
    theirs = api.get("/v1/public/appointments", headers=bearer(other_key)).json()["items"]
    assert [i["id"] for i in theirs] == ["geheim-1"]


def test_paging_of_public_records(api: TestClient):
    tenant = professional(api)
    desk = register_device(api, tenant, tenant.location_id)
    push(api, desk, [op("appointment", f"a-{n}", appointment()) for n in range(5)])
    key = bearer(create_key(api, tenant, ["appointments:read"])["key"])
    first = api.get("/v1/public/appointments", params={"limit": 2}, headers=key).json()
    assert len(first["items"]) == 2 and first["next_after"] is not None
    rest = api.get("/v1/public/appointments", params={"after": first["next_after"], "limit": 10}, headers=key).json()
    assert sorted(i["id"] for i in first["items"] + rest["items"]) == [f"a-{n}" for n in range(5)]
    assert rest["next_after"] is None


def test_tokens_and_keys_are_not_interchangeable(api: TestClient):
    tenant = professional(api)
    key = create_key(api, tenant, ALL_SCOPES)["key"]
    assert api.get("/v1/public/appointments", headers=tenant.headers).status_code == 401  # access token
    assert api.get("/v1/me", headers=bearer(key)).status_code == 401
    assert api.get("/v1/public/appointments").json()["detail"] == "Bitte melden Sie sich an."
    forged = api.get("/v1/public/appointments", headers=bearer(key[:-2] + "xx"))
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_api_key"


def test_revoked_and_rotated_keys_are_rejected(api: TestClient):
    tenant = professional(api)
    created = create_key(api, tenant, ["appointments:read"])
    key = bearer(created["key"])
    assert api.get("/v1/public/appointments", headers=key).status_code == 200
    rotated = api.post(f"/v1/api-keys/{created['id']}/rotate", headers=tenant.headers)
    assert rotated.status_code == 201 and rotated.json()["scopes"] == ["appointments:read"]
    assert api.get("/v1/public/appointments", headers=key).status_code == 401
    new_key = bearer(rotated.json()["key"])
    assert api.get("/v1/public/appointments", headers=new_key).status_code == 200
    revoked = api.delete(f"/v1/api-keys/{rotated.json()['id']}", headers=tenant.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert api.get("/v1/public/appointments", headers=new_key).status_code == 401
    assert api.post(f"/v1/api-keys/{rotated.json()['id']}/rotate", headers=tenant.headers).status_code == 404
    # Another organisation's owner cannot touch the key.
    other = professional(api, "Reifen Schulz")
    assert api.delete(f"/v1/api-keys/{created['id']}", headers=other.headers).status_code == 404


def test_rate_limit_per_key_answers_429_with_retry_after(api: TestClient):
    tenant = professional(api)
    slow = bearer(create_key(api, tenant, ["appointments:read"], rate_limit_per_minute=3)["key"])
    fast = bearer(create_key(api, tenant, ["appointments:read"])["key"])
    assert [api.get("/v1/public/appointments", headers=slow).status_code for _ in range(3)] == [200] * 3
    limited = api.get("/v1/public/appointments", headers=slow)
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
    assert api.get("/v1/public/appointments", headers=fast).status_code == 200  # per key, not per organisation
    too_generous = api.post("/v1/api-keys", json={"name": "x", "scopes": ["invoices:read"],
                                                  "rate_limit_per_minute": 10_000}, headers=tenant.headers)  # fmt: skip
    assert too_generous.status_code == 422


def test_keys_stop_working_when_the_plan_no_longer_includes_the_public_api(api: TestClient, clock: FakeClock):
    tenant = professional(api)
    key = bearer(create_key(api, tenant, ["appointments:read"])["key"])
    grant_plan(api.app, tenant.organization_id, "professional", SubscriptionStatus.PAST_DUE,  # type: ignore[arg-type]
               grace_until=clock.now + dt.timedelta(days=2))  # fmt: skip
    assert api.get("/v1/public/appointments", headers=key).status_code == 200  # within the payment grace
    clock.advance(days=3)
    refused = api.get("/v1/public/appointments", headers=key)
    assert refused.status_code == 403 and refused.json()["code"] == "plan_required"


class BreakableStore(InProcessStore):
    """The in-process store whose counter can be switched off (Redis down)."""

    broken = False

    def incr(self, key: str, ttl_seconds: int) -> int:
        if self.broken and key.startswith("rl:apikey:"):
            raise StoreUnavailable("ConnectionError")
        return super().incr(key, ttl_seconds)


@pytest.fixture
def breakable(server_settings: Settings, clock: FakeClock) -> Iterator[tuple[TestClient, BreakableStore]]:
    store = BreakableStore()
    with TestClient(create_app(server_settings, clock=clock, store=store)) as client:
        yield client, store


def test_rate_limit_fails_closed_when_the_store_is_down(breakable: tuple[TestClient, BreakableStore]):
    api, store = breakable
    tenant = professional(api)
    key = bearer(create_key(api, tenant, ["appointments:read"])["key"])
    assert api.get("/v1/public/appointments", headers=key).status_code == 200
    store.broken = True
    down = api.get("/v1/public/appointments", headers=key)
    assert down.status_code == 503 and down.headers["retry-after"]
