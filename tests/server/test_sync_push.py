"""The sync routes through the real app on SQLite and on PostgreSQL + Redis: push, policies, pull, 410, tenancy."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from sync.entitlements import Entitlements
from sync.server.sync_models import AppliedOp, ChangeLogEntry, DailyFactRow, SyncCounter, SyncRecord
from sync.server.sync_service_pull import prune
from tests.server.fixtures import *  # noqa: F403  (pytest fixtures: api, clock, server_settings, backend, ...)
from tests.server.fixtures import FakeClock, Tenant, bearer, register_tenant
from tests.server.plan_support import grant_plan


@dataclass
class Dev:
    """A registered desktop of a tenant."""

    tenant: Tenant
    device_id: str
    location_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def device(api: TestClient, tenant: Tenant, location_id: str | None = None) -> Dev:
    body = {"location_id": location_id or tenant.location_id, "name": f"PC {uuid.uuid4().hex[:4]}"}
    response = api.post("/v1/devices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data = response.json()
    return Dev(tenant, data["device_id"], data["location_id"], data["access_token"])


def second_location(api: TestClient, tenant: Tenant, name: str = "Filiale Nord") -> str:
    grant_plan(api.app, tenant.organization_id, "enterprise")  # type: ignore[arg-type]  (two locations)
    response = api.post("/v1/locations", json={"name": name}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def op(
    entity: str,
    entity_id: str,
    payload: dict[str, Any] | None = None,
    *,
    ms: int = 1,
    kind: str = "upsert",
    op_id: str | None = None,
) -> dict[str, Any]:
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "entity": entity,
        "entity_id": entity_id,
        "op": kind,
        "hlc": f"{ms:016d}-00000-dev",
        "payload": payload if payload is not None else {"id": entity_id},
    }


def push(
    api: TestClient, dev: Dev, ops: list[dict[str, Any]], *, batch_id: str | None = None, status: int = 200
) -> dict[str, Any]:
    body = {
        "device_id": dev.device_id,
        "location_id": dev.location_id,
        "batch_id": batch_id or str(uuid.uuid4()),
        "ops": ops,
    }
    response = api.post("/v1/sync/push", json=body, headers=dev.headers | {"Idempotency-Key": body["batch_id"]})
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


def pull(api: TestClient, dev: Dev, since: int = 0, streams: str = "records", **params: Any) -> dict[str, Any]:
    response = api.get("/v1/sync/pull", params={"since": since, "streams": streams, **params}, headers=dev.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def count(api: TestClient, model: Any, **where: Any) -> int:
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(s.scalar(query) or 0)


def invoice(number: str = "W1-2026-000001", gross: str = "119.00", **extra: Any) -> dict[str, Any]:
    return {"id": 1, "number": number, "kind": "invoice", "status": "final", "gross_total": gross, **extra}


@pytest.fixture
def dev(api: TestClient) -> Dev:
    return device(api, register_tenant(api))


def test_push_applies_and_a_resent_batch_gets_the_stored_results(api: TestClient, dev: Dev) -> None:
    ops = [op("customer", str(i), {"id": i, "last_name": f"Kunde {i}"}, ms=10 + i) for i in range(3)]
    batch = str(uuid.uuid4())
    first = push(api, dev, ops, batch_id=batch)
    assert statuses(first) == ["applied"] * 3
    assert [r["seq"] for r in first["results"]] == [1, 2, 3] and first["last_seq"] == 3
    again = push(api, dev, ops, batch_id=batch)
    assert statuses(again) == ["duplicate"] * 3
    assert [(r["version"], r["seq"]) for r in again["results"]] == [(1, 1), (1, 2), (1, 3)]
    assert count(api, SyncRecord, entity="customer") == 3
    # An applied op is remembered by its change-log entry (op id, version), not by a row of its own.
    assert count(api, ChangeLogEntry) == 3 and count(api, AppliedOp) == 0
    within = push(api, dev, [ops[0], ops[0]])  # the same op twice in one batch is stored once
    assert statuses(within) == ["duplicate", "duplicate"] and count(api, ChangeLogEntry) == 3


def test_last_write_wins_by_hlc_and_stale_ops_conflict(api: TestClient, dev: Dev) -> None:
    push(api, dev, [op("vehicle", "7", {"id": 7, "plate": "M-AB 1"}, ms=20)])
    stale = push(api, dev, [op("vehicle", "7", {"id": 7, "plate": "M-XX 9"}, ms=19)])["results"][0]
    assert stale["status"] == "conflict" and stale["canonical"] == {"id": 7, "plate": "M-AB 1"}
    newer = push(api, dev, [op("vehicle", "7", {"id": 7, "plate": "M-CD 2"}, ms=21)])["results"][0]
    assert (newer["status"], newer["version"]) == ("applied", 2)
    changes = pull(api, dev)["changes"]
    assert [c["data"]["plate"] for c in changes] == ["M-AB 1", "M-CD 2"]


def test_a_delete_is_a_tombstone_that_stale_upserts_cannot_revive(api: TestClient, dev: Dev) -> None:
    push(api, dev, [op("appointment", "3", {"id": 3, "title": "HU"}, ms=5)])
    gone = push(api, dev, [op("appointment", "3", kind="delete", ms=6)])["results"][0]
    assert (gone["status"], gone["version"]) == ("applied", 2)
    assert push(api, dev, [op("appointment", "3", {"id": 3, "title": "Alt"}, ms=4)])["results"][0]["status"] == (
        "conflict"
    )
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        record = s.scalars(select(SyncRecord).where(SyncRecord.entity_id == "3")).one()
        assert record.data is None and record.deleted_at is not None
    assert pull(api, dev)["changes"][-1] | {"seq": 0} == {
        "seq": 0,
        "stream": "records",
        "entity": "appointment",
        "entity_id": "3",
        "op": "delete",
        "data": None,
        "location_id": dev.location_id,
    }


def test_final_invoices_and_payments_are_immutable(api: TestClient, dev: Dev) -> None:
    assert statuses(push(api, dev, [op("invoice", "1", invoice())])) == ["applied"]
    same = push(api, dev, [op("invoice", "1", invoice(), ms=9)])  # re-queued (new op id), same content
    assert statuses(same) == ["duplicate"]
    changed = push(api, dev, [op("invoice", "1", invoice(gross="100.00"), ms=10)])["results"][0]
    assert changed["status"] == "rejected" and "festgeschriebene Rechnung" in changed["reason"]
    deleted = push(api, dev, [op("invoice", "1", kind="delete", ms=11)])["results"][0]
    assert deleted["status"] == "rejected" and "gelöscht" in deleted["reason"]
    draft = push(api, dev, [op("invoice", "2", invoice("W1-2026-000002", status="draft"))])["results"][0]
    assert draft["status"] == "rejected"
    assert push(api, dev, [op("invoice", "3", invoice("2026-17"))])["results"][0]["status"] == "rejected"
    push(api, dev, [op("payment", "1", {"id": 1, "amount": "10.00"})])
    assert statuses(push(api, dev, [op("payment", "1", {"id": 1, "amount": "99.00"}, ms=3)])) == ["rejected"]
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        stored = s.scalars(select(SyncRecord).where(SyncRecord.entity == "invoice")).one()
        assert stored.data == invoice() and stored.version == 1


def test_each_invoice_number_prefix_belongs_to_one_location(api: TestClient) -> None:
    tenant = register_tenant(api)
    main, branch = device(api, tenant), device(api, tenant, second_location(api, tenant))
    assert statuses(push(api, main, [op("invoice", "1", invoice("W1-2026-000001"))])) == ["applied"]
    foreign = push(api, branch, [op("invoice", "1", invoice("W1-2026-000002"))])["results"][0]
    assert foreign["status"] == "rejected" and "„W1“" in foreign["reason"]
    assert statuses(push(api, branch, [op("invoice", "1", invoice("W2-2026-000001"))])) == ["applied"]
    claims = pull(api, branch, streams="settings")["changes"]
    assert [(c["entity"], c["entity_id"], c["data"]["location_id"]) for c in claims] == [
        ("number_prefix", "W1", main.location_id),
        ("number_prefix", "W2", branch.location_id),
    ]
    records = pull(api, branch)["changes"]  # a device pulls only its own location's records
    assert {c["location_id"] for c in records} == {branch.location_id}


def test_server_owned_and_unknown_entities_are_rejected(api: TestClient, dev: Dev) -> None:
    answer = push(api, dev, [op("entitlement", "x", {"plan": "enterprise"}), op("setting", "a"), op("zeppelin", "1")])
    assert statuses(answer) == ["rejected"] * 3
    assert "verwaltet der Server" in answer["results"][0]["reason"]
    assert "„zeppelin“" in answer["results"][2]["reason"]
    assert count(api, SyncRecord) == 0 and count(api, ChangeLogEntry) == 0


def facts(day: str, gross: str, **extra: Any) -> dict[str, Any]:
    return {
        "date": day,
        "gross_total": gross,
        "net_total": "100.00",
        "invoice_count": 1,
        "revenue": [{"vat_rate": "19.00", "net": "100.00", "tax": "19.00", "gross": "119.00"}],
        **extra,
    }


def test_daily_facts_upsert_per_location_and_day(api: TestClient, dev: Dev) -> None:
    assert statuses(push(api, dev, [op("daily_fact", "2026-11-27", facts("2026-11-27", "119.00"), ms=1)])) == [
        "applied"
    ]
    newer = push(api, dev, [op("daily_fact", "2026-11-27", facts("2026-11-27", "238.00", invoice_count=2), ms=2)])
    assert (newer["results"][0]["status"], newer["results"][0]["version"]) == ("applied", 2)
    assert statuses(push(api, dev, [op("daily_fact", "2026-11-27", facts("2026-11-27", "1.00"), ms=1)])) == ["conflict"]
    bad = push(
        api,
        dev,
        [
            op("daily_fact", "2026-11-28", facts("2026-11-28", "viel")),
            op("daily_fact", "2026-11-29", facts("2026-11-28", "1.00")),
            op("daily_fact", "2026-11-30", kind="delete"),
        ],
    )
    assert statuses(bad) == ["rejected"] * 3
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        [row] = s.scalars(select(DailyFactRow)).all()
        assert (row.location_id, row.day, str(row.gross_total), row.invoice_count) == (
            dev.location_id,
            dt.date(2026, 11, 27),
            "238.00",
            2,
        )
        assert row.revenue == [{"vat_rate": "19.00", "net": "100.00", "tax": "19.00", "gross": "119.00"}]
    assert [c["entity"] for c in pull(api, dev, streams="facts")["changes"]] == ["daily_fact", "daily_fact"]


def test_a_device_pushes_only_for_itself_and_its_location(api: TestClient) -> None:
    tenant = register_tenant(api)
    main, branch = device(api, tenant), device(api, tenant, second_location(api, tenant))
    body = {
        "device_id": main.device_id,
        "location_id": branch.location_id,
        "batch_id": str(uuid.uuid4()),
        "ops": [op("customer", "1")],
    }
    assert api.post("/v1/sync/push", json=body, headers=main.headers).status_code == 403
    body["location_id"] = main.location_id
    assert api.post("/v1/sync/push", json=body, headers=tenant.headers).status_code == 403  # a person's token
    mismatch = api.post("/v1/sync/push", json=body, headers=main.headers | {"Idempotency-Key": str(uuid.uuid4())})
    assert mismatch.status_code == 422
    too_many = body | {"ops": [op("customer", str(i)) for i in range(201)]}
    assert api.post("/v1/sync/push", json=too_many, headers=main.headers).status_code == 422
    assert api.delete(f"/v1/devices/{main.device_id}", headers=tenant.headers).status_code == 200
    assert api.post("/v1/sync/push", json=body, headers=main.headers).status_code == 401  # removed device
    assert count(api, SyncRecord) == 0


def test_pull_pages_move_the_cursor_and_carry_a_verifiable_entitlement(api: TestClient, dev: Dev) -> None:
    push(api, dev, [op("customer", str(i), ms=i + 1) for i in range(5)])
    first = pull(api, dev, limit=2)
    assert [c["seq"] for c in first["changes"]] == [1, 2] and first["has_more"] and first["next_since"] == 2
    assert first["entitlement"] is None
    rest = pull(api, dev, since=2, limit=10)
    assert [c["seq"] for c in rest["changes"]] == [3, 4, 5] and not rest["has_more"] and rest["next_since"] == 5
    own = pull(api, dev, streams="entitlements,settings")
    assert own["changes"] == [] and own["next_since"] == 5  # other streams still move the cursor
    jwks = api.get("/.well-known/jwks.json").json()
    policy = Entitlements(issuer=api.app.state.ctx.settings.jwt_issuer)  # type: ignore[attr-defined]
    kept = policy.accept(own["entitlement"], jwks, now=dt.datetime.now(dt.UTC))
    assert (kept.organization_id, kept.location_id) == (dev.tenant.organization_id, dev.location_id)
    assert kept.plan_id == "starter" and kept.status == "trialing"  # the default trial until billing stores a plan
    grant_plan(api.app, dev.tenant.organization_id, "professional")  # type: ignore[arg-type]
    upgraded = policy.accept(
        pull(api, dev, since=5, streams="entitlements")["entitlement"], jwks, now=dt.datetime.now(dt.UTC)
    )
    assert (upgraded.plan_id, upgraded.status) == ("professional", "active")
    assert api.get("/v1/sync/pull", params={"streams": "wetter"}, headers=dev.headers).status_code == 422


def test_pulls_and_the_token_check_read_beside_a_running_write(api: TestClient, dev: Dev) -> None:
    """A desktop's pull must not queue behind another one's write (on SQLite: a deferred read beside the
    writer's BEGIN IMMEDIATE in WAL mode; before, every request waited for the write lock up to busy_timeout)."""
    push(api, dev, [op("customer", "1", ms=1)])
    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.sessions() as writer:  # another request's push, half done: it holds the write lock
        writer.execute(update(SyncCounter).values(last_seq=SyncCounter.last_seq))
        started = time.monotonic()
        page = pull(api, dev)
        events = api.get("/v1/sync/events", params={"after": 0, "wait": 0}, headers=dev.headers)
        assert time.monotonic() - started < 3.0  # busy_timeout is 10 s
        writer.rollback()
    assert [c["entity_id"] for c in page["changes"]] == ["1"]
    assert events.status_code == 200 and events.json() == {"seq": 1, "changed": True}


def test_a_cursor_older_than_the_retention_gets_410_and_the_snapshot_resyncs(
    api: TestClient, dev: Dev, clock: FakeClock
) -> None:
    push(api, dev, [op("customer", "1", ms=1), op("invoice", "1", invoice(), ms=2)])
    push(api, dev, [op("customer", "1", kind="delete", ms=3)])
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        report = prune(s, now=clock() + dt.timedelta(days=181))
    assert (report.changes, report.tombstones) == (4, 1)  # the prefix claim, 2 records and the tombstone
    gone = api.get("/v1/sync/pull", params={"since": 0}, headers=dev.headers)
    assert gone.status_code == 410 and gone.json()["code"] == "cursor_gone"
    ahead = api.get("/v1/sync/pull", params={"since": 99}, headers=dev.headers)
    assert ahead.status_code == 410  # a cursor from a server that was restored from a backup
    snap = api.get("/v1/sync/snapshot", params={"streams": "entitlements,settings,records"}, headers=dev.headers).json()
    assert [(r["entity"], r["entity_id"]) for r in snap["records"]] == [("invoice", "1"), ("number_prefix", "W1")]
    assert snap["as_of_seq"] == 4 and snap["after"] is None and snap["entitlement"]
    assert pull(api, dev, since=4)["changes"] == []  # the pull goes on from the snapshot's position


def test_long_poll_answers_at_once_when_behind_and_waits_when_current(api: TestClient, dev: Dev) -> None:
    push(api, dev, [op("customer", "1")])
    behind = api.get("/v1/sync/events", params={"after": 0, "wait": 5}, headers=dev.headers).json()
    assert behind == {"seq": 1, "changed": True}
    current = api.get("/v1/sync/events", params={"after": 1, "wait": 0.2}, headers=dev.headers).json()
    assert current == {"seq": 1, "changed": False}


def test_sync_routes_never_cross_organisations(api: TestClient) -> None:
    alpha, beta = register_tenant(api, "Werkstatt Adler"), register_tenant(api, "Autoservice Biber")
    a, b = device(api, alpha), device(api, beta)
    shared = str(uuid.uuid4())
    push(api, a, [op("customer", "1", {"id": 1, "last_name": "Geheim"}, op_id=shared), op("invoice", "1", invoice())])
    stolen = push(api, b, [op("customer", "1", {"id": 1, "last_name": "Fremd"}, op_id=shared)])["results"][0]
    assert stolen["status"] == "rejected" and stolen["version"] is None and "Geheim" not in str(stolen)
    assert statuses(push(api, b, [op("invoice", "1", invoice())])) == ["applied"]  # W1 is free in B
    for streams in ("records", "settings", "entitlements,settings,records,facts"):
        page = pull(api, b, streams=streams)
        assert a.location_id not in str(page) and "Geheim" not in str(page)
    snap = api.get("/v1/sync/snapshot", params={"streams": "records,settings"}, headers=b.headers).json()
    assert a.location_id not in str(snap) and "Geheim" not in str(snap)
    poke = api.get("/v1/sync/events", params={"after": 2, "wait": 0.1}, headers=b.headers).json()
    assert poke["seq"] == 2  # B's own sequence, not A's
    foreign = {"device_id": a.device_id, "location_id": a.location_id, "batch_id": str(uuid.uuid4()), "ops": []}
    assert api.post("/v1/sync/push", json=foreign, headers=b.headers).status_code == 403
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        names = [r.data["last_name"] for r in s.scalars(select(SyncRecord).where(SyncRecord.entity == "customer"))]
    assert names == ["Geheim"]
