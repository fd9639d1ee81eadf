"""The demo workshop is deterministic and passes every rule (it goes through the normal services)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from app.db import open_database
from app.demo import create_demo, is_empty
from app.services.audit import AuditService
from app.services.registry import Services

TODAY = dt.date(2026, 11, 27)


def _digest(path: Path) -> list[tuple[object, ...]]:
    db = open_database(path)
    try:
        with db.unit() as s:
            rows = list(s.execute(text("SELECT number, last_name, company, postcode FROM customer ORDER BY id")))
            rows += list(s.execute(text("SELECT plate, vin, hu_due FROM vehicle ORDER BY id")))
            rows += list(s.execute(text("SELECT start, bay_id, status FROM appointment ORDER BY id")))
            rows += list(s.execute(text("SELECT number, issue_date, gross_total FROM invoice ORDER BY id")))
            rows += list(s.execute(text("SELECT amount, method, date FROM payment ORDER BY id")))
        return rows
    finally:
        db.close()


def _build(path: Path) -> object:
    services = Services.open(path)
    try:
        assert is_empty(services)
        summary = create_demo(services, today=TODAY, customers=40, vehicles=50, history_weeks=2)
        assert not is_empty(services)
        assert AuditService(services.db).verify().ok
        return summary
    finally:
        services.close()


def test_demo_is_deterministic_and_complete(tmp_path: Path) -> None:
    first = _build(tmp_path / "a.db")
    second = _build(tmp_path / "b.db")
    assert first == second
    assert first.customers == 40 and first.vehicles == 50  # type: ignore[attr-defined]
    assert first.appointments > 20 and first.invoices > 5  # type: ignore[attr-defined]
    assert first.services >= 500  # type: ignore[attr-defined]
    assert _digest(tmp_path / "a.db") == _digest(tmp_path / "b.db")
