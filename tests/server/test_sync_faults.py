"""Sync over a real network: a uvicorn server, a faulty proxy in front of it, pokes and the CLI.

The FAULT test: two desktops (two locations of one organisation) write 10,000 customers while they sync
through a loopback proxy that drops connections before and after the server answered, cuts request bodies
in half, delays, duplicates and replays requests later (out of order). Afterwards the server holds exactly
10,000 records, every change is in the change log exactly once, every desktop op is acknowledged, and both
desktops end on the same cursor. Runs on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring as keyring_module
import pytest
from sqlalchemy import func, insert, select

from app.cli import main
from app.db import Database, open_database
from app.models import Customer, OutboxEntry
from app.services.customers import CustomerInput, CustomerService
from sync import local
from sync.errors import SyncError
from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.sync_models import AppliedOp, ChangeLogEntry, SyncRecord
from sync.server.sync_service import current_seq
from tests.server.fixtures import *  # noqa: F403  (pytest fixtures: server_settings, backend, ...)
from tests.server.fixtures import PASSWORD
from tests.sync.sync_support import Desktop, FaultProxy, LiveServer, MemoryKeyring, make_desktop, register_org

PER_DESKTOP = 5_000
UNIT = 100


@pytest.fixture
def live(server_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(server_settings)) as server:
        yield server


def server_count(live: LiveServer, statement: Any) -> int:
    with live.server.config.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        return int(s.scalar(statement) or 0)


def write_customers(db: Database, prefix: str, *, pause: float) -> None:
    """PER_DESKTOP customers in units of UNIT (ORM inserts: the outbox listener sees every one)."""
    for unit in range(PER_DESKTOP // UNIT):
        with db.unit() as s:
            s.add_all(
                Customer(number=f"{prefix}-{unit * UNIT + i}", last_name=f"{prefix} {unit * UNIT + i}")
                for i in range(UNIT)
            )
        time.sleep(pause)


def settle(desktop: Desktop, *, attempts: int = 200) -> None:
    """Rounds until one succeeds completely (faults still hit some)."""
    for _ in range(attempts):
        try:
            desktop.client.run_once(desktop.db)
            return
        except SyncError:
            time.sleep(0.05)
    raise AssertionError("no successful round")


def sync_while_writing(desktop: Desktop, writer: threading.Thread, failures: list[str]) -> None:
    while writer.is_alive() or local.state(desktop.db).pending:
        try:
            desktop.client.run_once(desktop.db)
        except SyncError as exc:
            failures.append(type(exc).__name__)
            time.sleep(0.02)


@pytest.mark.slow
def test_ten_thousand_changes_survive_a_faulty_network(live: LiveServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http, FaultProxy(live.port, seed=20261127) as proxy:
        org = register_org(http, live.server.config.app, locations=2)
        keyring = MemoryKeyring()
        desktops = [
            make_desktop(
                tmp_path / f"{name}.db",
                http,
                keyring,
                email=org["email"],
                location_id=location,
                sync_url=proxy.url,
                timeout=5.0,
            )
            for name, location in zip(("hauptbetrieb", "filiale"), org["location_ids"], strict=True)
        ]
        try:
            failures: list[str] = []
            writers = [
                threading.Thread(
                    target=write_customers,
                    args=(
                        d.db,
                        name,
                    ),
                    kwargs={"pause": 0.01},
                )
                for d, name in zip(desktops, ("H", "F"), strict=True)
            ]
            syncers = [
                threading.Thread(target=sync_while_writing, args=(d, w, failures))
                for d, w in zip(desktops, writers, strict=True)
            ]
            for thread in writers + syncers:
                thread.start()
            for thread in writers + syncers:
                thread.join(600)
                assert not thread.is_alive()
            for desktop in (*desktops, desktops[0]):  # the last round lets both see each other's last change
                settle(desktop)
        finally:
            cursors = [local.state(d.db).cursor for d in desktops]
            states = []
            for d in desktops:
                with d.db.unit() as s:
                    grouped = s.execute(select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state))
                    states.append({state: number for state, number in grouped})
                    local_names = {(str(c.id), c.last_name) for c in s.scalars(select(Customer))}
                    d.local_names = local_names  # type: ignore[attr-defined]
            for d in desktops:
                d.close()

    assert proxy.stats["drop_before"] and proxy.stats["drop_after"] and proxy.stats["duplicate"]
    assert proxy.stats["replay"] and proxy.stats["truncate"] and proxy.stats["delay"]
    assert failures, "the proxy never broke a round: the test would prove nothing"
    customers = select(func.count()).select_from(SyncRecord).where(SyncRecord.entity == "customer")
    assert server_count(live, customers) == 2 * PER_DESKTOP
    for d in desktops:
        assert server_count(live, customers.where(SyncRecord.location_id == d.location_id)) == PER_DESKTOP
        with live.server.config.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
            stored = {
                (entity_id, data["last_name"])
                for entity_id, data in s.execute(
                    select(SyncRecord.entity_id, SyncRecord.data).where(
                        SyncRecord.location_id == d.location_id, SyncRecord.entity == "customer"
                    )
                )
            }
        assert stored == d.local_names  # type: ignore[attr-defined]
    logged = select(func.count()).select_from(ChangeLogEntry).where(ChangeLogEntry.stream == "records")
    assert server_count(live, logged) == 2 * PER_DESKTOP  # nothing doubled
    for state in states:
        assert set(state) == {"acked"}, state  # nothing lost, nothing refused
    answered = server_count(live, select(func.count()).select_from(AppliedOp)) + server_count(
        live, select(func.count()).select_from(ChangeLogEntry).where(ChangeLogEntry.op_id.is_not(None))
    )
    assert answered == sum(sum(state.values()) for state in states)  # every op answered exactly once
    with live.server.config.app.state.ctx.db.unit() as s:  # type: ignore[attr-defined]
        last, _ = current_seq(s, org["organization_id"])
    assert cursors == [last, last]


def test_pokes_arrive_as_server_sent_events(live: LiveServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        org = register_org(http, live.server.config.app, locations=2)
        keyring = MemoryKeyring()
        watcher, writer = (
            make_desktop(tmp_path / f"{name}.db", http, keyring, email=org["email"], location_id=location)
            for name, location in zip(("a", "b"), org["location_ids"], strict=True)
        )
        try:
            token = watcher.client.credentials.access_token(watcher.client.http)
            events: list[dict[str, Any]] = []
            connected = threading.Event()

            def listen() -> None:
                headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
                with http.stream("GET", "/v1/sync/events", params={"after": 0, "heartbeat": 1}, headers=headers) as r:
                    assert r.headers["content-type"].startswith("text/event-stream")
                    connected.set()
                    for line in r.iter_lines():
                        if line.startswith("data: "):
                            events.append(json.loads(line.removeprefix("data: ")))
                            return

            listener = threading.Thread(target=listen)
            listener.start()
            assert connected.wait(10)
            time.sleep(0.3)  # the stream is waiting on the store now
            CustomerService(writer.db).create(CustomerInput(last_name="Poke"))
            writer.client.run_once(writer.db)
            listener.join(10)
            assert not listener.is_alive()
            assert events and events[0]["seq"] >= 1
            poke = watcher.client.wait_for_change(0, 1.0)
            assert poke.changed and poke.seq == events[0]["seq"] or poke.seq > events[0]["seq"]
        finally:
            watcher.close()
            writer.close()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring_module.get_keyring()
    memory = MemoryKeyring()
    keyring_module.set_keyring(memory)
    yield memory
    keyring_module.set_keyring(previous)


def test_cli_registers_syncs_and_reports_status(
    live: LiveServer, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        org = register_org(http, live.server.config.app, locations=1)
    db_path = tmp_path / "carbot.db"
    db = open_database(db_path)
    with db.unit() as s:  # data from before the registration is sent too
        s.execute(insert(Customer), [{"number": f"K-{i}", "last_name": f"Alt {i}"} for i in range(3)])
    db.close()
    argv = [
        "--db",
        str(db_path),
        "sync",
        "register",
        "--server",
        live.url,
        "--email",
        org["email"],
        "--password",
        PASSWORD,
        "--name",
        "Theke 1",
    ]
    assert main(argv) == 0
    assert "registriert (3 Datensätze" in capsys.readouterr().out
    [(service, account)] = memory_keyring.secrets
    assert account == f"device:{db_path.resolve()}" and "refresh_token" in memory_keyring.secrets[(service, account)]
    assert main(["--db", str(db_path), "sync", "status", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["registered"] and before["online"] and before["pending_changes"] == 3
    assert before["last_sync_at"] is None
    assert main(["--db", str(db_path), "sync"]) == 0
    assert "4 Änderungen gesendet" in capsys.readouterr().out  # 3 customers and the daily facts of today
    assert main(["--db", str(db_path), "sync", "status", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["pending_changes"] == 0 and after["last_sync_at"] and after["last_error"] is None
    assert server_count(live, select(func.count()).select_from(SyncRecord).where(SyncRecord.entity == "customer")) == 3
    assert main(["--db", str(db_path), "sync", "status"]) == 0
    assert "Ausstehende Änderungen: 0" in capsys.readouterr().out
