"""Helpers of the plan, roll-up, public-API and webhook tests: plans, locations, devices and pushes.

``grant_plan`` stores a subscription directly (billing arrives later; there is no route for it), the
rest goes through the real API: devices register with ``POST /v1/devices`` and push with
``POST /v1/sync/push``, exactly as a desktop does.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.plans import SubscriptionStatus
from sync.server.plans_gate import set_subscription
from tests.server.fixtures import Tenant, bearer

_hlc = itertools.count(1_800_000_000_000)


def grant_plan(
    app: FastAPI, organization_id: str, plan_id: str = "enterprise",
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE, **dates: Any,
) -> None:  # fmt: skip
    """Put the organisation on ``plan_id`` (what billing will do later)."""
    ctx = app.state.ctx
    with ctx.db.unit() as session:
        set_subscription(session, organization_id, plan_id=plan_id, status=status, now=ctx.clock(), **dates)


def add_location(api: TestClient, tenant: Tenant, name: str) -> str:
    """A further location of the tenant (its plan must allow it)."""
    response = api.post("/v1/locations", json={"name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@dataclass
class Device:
    """A registered desktop of one location with its access token."""

    id: str
    location_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def register_device(api: TestClient, tenant: Tenant, location_id: str, name: str = "Theke") -> Device:
    """Register a desktop for ``location_id`` as the tenant's owner."""
    response = api.post("/v1/devices", json={"location_id": location_id, "name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    return Device(body["device_id"], body["location_id"], body["access_token"])


def op(entity: str, entity_id: str, payload: dict[str, Any], kind: str = "upsert") -> dict[str, Any]:
    """One sync op with a fresh id and an increasing HLC stamp."""
    return {"op_id": str(uuid.uuid4()), "entity": entity, "entity_id": entity_id, "op": kind,
            "hlc": f"{next(_hlc):016d}-00000-testdev0", "payload": payload}  # fmt: skip


def push(api: TestClient, device: Device, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Push ``ops`` as ``device``; returns the per-op results."""
    body = {"device_id": device.id, "location_id": device.location_id, "batch_id": str(uuid.uuid4()), "ops": ops}
    response = api.post("/v1/sync/push", json=body, headers=device.headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def invoice(number: str, gross: str = "119.00", kind: str = "invoice") -> dict[str, Any]:
    """A final invoice payload as a desktop pushes it."""
    return {"status": "final", "kind": kind, "number": number, "gross_total": gross, "customer_name": "Erika Muster"}


def appointment(start: str = "2026-11-03T09:00:00+01:00") -> dict[str, Any]:
    """An appointment payload as a desktop pushes it."""
    return {"start": start, "title": "HU/AU", "plate": "B-CB 123", "status": "planned"}
