"""``sync.server.bulk.insert_many`` stores exactly what SQLAlchemy's Core insert stores, on both backends."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

import pytest
from sqlalchemy import Table, text

from sync.server.bulk import insert_many
from sync.server.db import ServerDatabase, json_dumps, open_server_database
from sync.server.models import Organization
from sync.server.sync_models import AppliedOp, ChangeLogEntry
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: server_db_url, ...)

CHANGES = cast(Table, ChangeLogEntry.__table__)
APPLIED = cast(Table, AppliedOp.__table__)
NOW = dt.datetime(2026, 2, 28, 23, 30, 5, 123456, tzinfo=dt.UTC)


@pytest.fixture
def db(server_db_url: str) -> Any:
    database = open_server_database(server_db_url)
    with database.unit() as session:
        session.add_all([Organization(id="org-a", name="A", created_at=NOW), Organization(id="org-b", name="B")])
    yield database
    database.close()


def _change(org: str, seq: int, data: Any, when: dt.datetime = NOW) -> dict[str, Any]:
    return {
        "organization_id": org,
        "seq": seq,
        "stream": "records",
        "location_id": "loc-1",
        "entity": "customer",
        "entity_id": f"k-{seq % 100}",
        "op": "upsert" if data is not None else "delete",
        "data": data,
        "origin_device": None if seq % 2 else "dev-1",
        "created_at": when,
    }


def _raw(db: ServerDatabase, table: str, org: str) -> list[tuple[Any, ...]]:
    """The stored values as the driver returns them (no SQLAlchemy result processing)."""
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table} WHERE organization_id = :org"), {"org": org})  # noqa: S608
        return sorted(tuple(value for key, value in row._mapping.items() if key != "seq") for row in rows)


def test_change_log_rows_are_stored_exactly_as_the_core_insert_stores_them(db: ServerDatabase):
    documents: list[Any] = [
        {"name": "Müller & Söhne", "umlaut": "äöüß€", "nested": {"list": [1, 2.5, None, True]}},
        None,  # a delete: SQL NULL, not the JSON text "null"
        {"big": 10**30, "empty": {}, "quote": 'say "hi"'},
        {"same": 1},
        {"same": 1.0},  # equal to the previous one for Python, yet stored as written
    ]
    later = NOW + dt.timedelta(hours=1)
    core = [_change("org-a", n, doc, later if n % 2 else NOW) for n, doc in enumerate(documents, start=1)]
    fast = [_change("org-b", n, doc, later if n % 2 else NOW) for n, doc in enumerate(documents, start=1)]
    with db.engine.begin() as conn:
        conn.execute(CHANGES.insert(), core)
        insert_many(conn, CHANGES, fast)
    assert [row[1:] for row in _raw(db, "sync_change_log", "org-a")] == [
        row[1:] for row in _raw(db, "sync_change_log", "org-b")
    ]
    with db.reading() as session:
        stored = session.query(ChangeLogEntry).filter_by(organization_id="org-b").order_by(ChangeLogEntry.seq).all()
        assert [entry.data for entry in stored] == documents
        assert [entry.created_at for entry in stored] == [later, NOW, later, NOW, later]
        assert stored[1].data is None and stored[1].origin_device == "dev-1"


def test_applied_op_results_round_trip(db: ServerDatabase):
    rows = [
        {
            "op_id": f"0190f6c2-0000-7000-8000-00000000000{n}",
            "organization_id": "org-b",
            "device_id": "dev-1",
            "result": {"op_id": "x", "status": "applied", "version": n, "seq": n, "reason": None, "canonical": None},
            "created_at": NOW,
        }
        for n in range(3)
    ]
    with db.engine.begin() as conn:
        insert_many(conn, APPLIED, rows)
        insert_many(conn, APPLIED, [])  # nothing to do
    with db.reading() as session:
        stored = [(op.result, op.created_at) for op in session.query(AppliedOp).order_by(AppliedOp.op_id)]
    assert stored == [(row["result"], NOW) for row in rows]


def test_json_columns_are_written_compactly_without_losing_anything():
    assert json_dumps({"name": "Müller", "n": [1, 2.5, None, True]}) == '{"name":"Müller","n":[1,2.5,null,true]}'
    assert json.loads(json_dumps({"big": 10**30})) == {"big": 10**30}  # beyond orjson: json.dumps takes over
    assert json.loads(json_dumps({1: "a"})) == json.loads(json.dumps({1: "a"})) == {"1": "a"}
