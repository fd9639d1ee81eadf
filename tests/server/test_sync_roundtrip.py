"""Real desktops (SyncClient + desktop database) against the real app in-process, on both server backends.

The TestClient's transport is injected as the SyncClient's httpx transport, so every request goes through
the whole FastAPI app (auth, tenancy, policies) into SQLite or PostgreSQL + Redis.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.demo import setup_workshop
from app.models import OutboxEntry
from app.services.customers import CustomerInput, CustomerService
from app.services.invoicing import InvoiceService
from app.services.order_import_service import OrderImportService
from app.services.registry import Services
from sync import local
from sync.entitlements import Entitlements
from sync.errors import SyncUnavailable
from sync.server.sync_models import ChangeLogEntry, DailyFactRow, SyncRecord
from sync.server.sync_service import current_seq
from tests.server.fixtures import *  # noqa: F403  (pytest fixtures: api, clock, server_settings, backend, ...)
from tests.sync.sync_support import Desktop, MemoryKeyring, make_desktop, register_org

TODAY = dt.date(2026, 11, 27)
ORDER = Path(__file__).resolve().parent.parent / "data" / "order_private.json"


class CrashAfterServer(httpx.BaseTransport):
    """Forwards to the app; the first ``crashes`` pushes are processed by the server, then the answer is lost."""

    def __init__(self, inner: httpx.BaseTransport, crashes: int = 1, path: str = "/v1/sync/push") -> None:
        self.inner = inner
        self.crashes = crashes
        self.path = path

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path and self.crashes > 0:
            self.crashes -= 1
            response.read()
            raise httpx.RemoteProtocolError("server disconnected without sending a response", request=request)
        return response


class Offline(httpx.BaseTransport):
    """No network until ``online`` is set."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.online = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("Netzwerk nicht erreichbar", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def org(api: TestClient) -> dict[str, Any]:
    return register_org(api, api.app, locations=2)


@pytest.fixture
def desktops(api: TestClient, org: dict[str, Any], tmp_path: Path, server_settings: Any) -> Iterator[list[Desktop]]:
    keyring = MemoryKeyring()
    made = [
        make_desktop(
            tmp_path / f"{name}.db",
            api,
            keyring,
            email=org["email"],
            location_id=location,
            transport=api._transport,
            issuer=server_settings.jwt_issuer,
        )
        for name, location in zip(("hauptbetrieb", "filiale"), org["location_ids"], strict=True)
    ]
    yield made
    for desktop in made:
        desktop.close()


def server_query(api: TestClient, statement: Any) -> Any:
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        return s.execute(statement).all()


def records(api: TestClient, location_id: str, entity: str) -> dict[str, Any]:
    rows = server_query(
        api,
        select(SyncRecord.entity_id, SyncRecord.data).where(
            SyncRecord.location_id == location_id, SyncRecord.entity == entity
        ),
    )
    return {entity_id: data for entity_id, data in rows}


def test_two_locations_sync_their_data_and_end_on_the_same_cursor(
    api: TestClient, org: dict[str, Any], desktops: list[Desktop]
) -> None:
    main, branch = desktops
    setup_workshop(Services.for_database(main.db))
    order_id = OrderImportService(main.db, today=TODAY).import_file(ORDER.read_bytes())[0]
    invoices = InvoiceService(main.db, today=TODAY)
    issued = invoices.finalize(invoices.create_draft_from_order(order_id, user="Theke")[0], user="Theke")
    huber, _ = CustomerService(branch.db).create(CustomerInput(last_name="Huber", city="Augsburg"))
    CustomerService(branch.db).update(huber.id, CustomerInput(last_name="Huber", city="Ulm"))

    report = main.client.run_once(main.db)
    assert report.rejected == 0 and report.conflicts == 0 and report.entitlement_updated
    branch.client.run_once(branch.db)

    main_invoices = records(api, main.location_id, "invoice")
    assert [data["number"] for data in main_invoices.values()] == [issued.number]
    assert Decimal(next(iter(main_invoices.values()))["gross_total"]) == issued.gross
    assert {d["city"] for d in records(api, branch.location_id, "customer").values()} == {"Ulm"}
    assert records(api, main.location_id, "work_order")  # the order became "invoiced"
    [fact] = server_query(
        api,
        select(DailyFactRow.gross_total, DailyFactRow.aw_sold).where(
            DailyFactRow.location_id == main.location_id, DailyFactRow.day == TODAY
        ),
    )
    assert fact == (Decimal("1486.56"), Decimal("12.00"))

    for desktop in (main, branch):  # one more round each: both catch up with the organisation's newest change
        desktop.client.run_once(desktop.db)
    last, _ = current_seq_of(api, org["organization_id"])
    assert local.state(main.db).cursor == local.state(branch.db).cursor == last
    assert [e[1] for e in local.remote_records(branch.db, "settings")] == ["W1"]  # the main site's prefix
    token = local.state(main.db).entitlement_token
    kept = Entitlements(issuer=api.app.state.ctx.settings.jwt_issuer).restore(  # type: ignore[attr-defined]
        token, local.state(main.db).jwks or {}, now=dt.datetime.now(dt.UTC)
    )
    assert kept.location_id == main.location_id


def current_seq_of(api: TestClient, organization_id: str) -> tuple[int, int]:
    with api.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        return current_seq(s, organization_id)


def test_the_second_location_cannot_issue_numbers_of_the_first_ones_range(
    api: TestClient, desktops: list[Desktop]
) -> None:
    for desktop, price in zip(desktops, ("10.00", "20.00"), strict=True):
        setup_workshop(Services.for_database(desktop.db))
        order = {
            "customer": {"name": "Anna Müller", "street": "Hauptstraße 1", "postcode": "80331", "city": "München"},
            "date_of_service": "2026-11-26",
            "lines": [{"kind": "part", "text": "Wischer", "unit_price_net": price, "quantity": 1}],
        }
        order_id = OrderImportService(desktop.db, today=TODAY).import_file(json.dumps(order))[0]
        invoices = InvoiceService(desktop.db, today=TODAY)
        invoices.finalize(invoices.create_draft_from_order(order_id, user="Theke")[0], user="Theke")
        desktop.client.run_once(desktop.db)
    with desktops[1].db.unit() as s:
        refused = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "invoice")).one()
    assert refused.state == "rejected" and "„W1“ gehört zu einem anderen Standort" in refused.last_error
    assert len(records(api, desktops[0].location_id, "invoice")) == 1
    assert records(api, desktops[1].location_id, "invoice") == {}


def test_a_lost_push_answer_is_resent_and_nothing_is_doubled(
    api: TestClient, org: dict[str, Any], tmp_path: Path, server_settings: Any
) -> None:
    crash = CrashAfterServer(api._transport)
    desktop = make_desktop(
        tmp_path / "theke.db",
        api,
        MemoryKeyring(),
        email=org["email"],
        location_id=org["location_ids"][0],
        transport=crash,
    )
    try:
        for i in range(250):
            CustomerService(desktop.db).create(CustomerInput(last_name=f"Kunde {i}"))
        with pytest.raises(SyncUnavailable):
            desktop.client.run_once(desktop.db)  # the server stored the first 200, the answer never came
        assert len(records(api, desktop.location_id, "customer")) == 200
        assert local.state(desktop.db).pending == 251  # 250 customers + today's facts, 200 of them "sent"
        report = desktop.client.run_once(desktop.db)
        assert report.pushed == 251 and report.acked == 251
        assert len(records(api, desktop.location_id, "customer")) == 250
        [[logged]] = server_query(
            api, select(func.count()).select_from(ChangeLogEntry).where(ChangeLogEntry.stream == "records")
        )
        assert logged == 250  # every change exactly once
    finally:
        desktop.close()


def test_a_crash_between_pull_and_cursor_store_repeats_the_page_harmlessly(
    api: TestClient, desktops: list[Desktop], monkeypatch: pytest.MonkeyPatch
) -> None:
    main, branch = desktops
    setup_workshop(Services.for_database(main.db))
    order_id = OrderImportService(main.db, today=TODAY).import_file(ORDER.read_bytes())[0]
    invoices = InvoiceService(main.db, today=TODAY)
    invoices.finalize(invoices.create_draft_from_order(order_id, user="Theke")[0], user="Theke")
    main.client.run_once(main.db)
    real = local.apply_changes
    calls = {"n": 0}

    def dies_once(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SyncUnavailable("Stromausfall")
        real(*args, **kwargs)

    monkeypatch.setattr(local, "apply_changes", dies_once)
    with pytest.raises(SyncUnavailable):
        branch.client.run_once(branch.db)
    assert local.state(branch.db).cursor == 0 and local.remote_records(branch.db, "settings") == []
    branch.client.run_once(branch.db)
    assert [e[1] for e in local.remote_records(branch.db, "settings")] == ["W1"]
    assert local.state(branch.db).cursor > 0


def test_an_offline_desktop_keeps_working_and_catches_up(api: TestClient, org: dict[str, Any], tmp_path: Path) -> None:
    offline = Offline(api._transport)
    desktop = make_desktop(
        tmp_path / "theke.db",
        api,
        MemoryKeyring(),
        email=org["email"],
        location_id=org["location_ids"][1],
        transport=offline,
    )
    try:
        customers = CustomerService(desktop.db)
        for i in range(3):
            dto, _ = customers.create(CustomerInput(last_name=f"Offline {i}"))
            with pytest.raises(SyncUnavailable):
                desktop.client.run_once(desktop.db)
        customers.update(dto.id, CustomerInput(last_name="Offline 2", city="Passau"))
        state = local.state(desktop.db)
        assert state.pending >= 4 and state.last_sync_at is None and "Keine Verbindung" in state.last_error
        offline.online = True
        desktop.client.run_once(desktop.db)
        assert local.state(desktop.db).pending == 0
        stored = records(api, desktop.location_id, "customer")
        assert sorted(d["last_name"] for d in stored.values()) == ["Offline 0", "Offline 1", "Offline 2"]
        assert stored[str(dto.id)]["city"] == "Passau"
    finally:
        desktop.close()
