"""Change capture into the outbox: same transaction as the domain write, per-entity payloads, coalescing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import Database, open_database
from app.errors import ValidationError
from app.models import Customer, OutboxEntry, SyncDirtyDay, Vehicle, WorkOrder
from app.services.customers import CustomerInput, CustomerService
from app.services.payments import PaymentService
from app.sync_outbox import backfill, new_op_id
from sync import local
from tests.sync.test_daily_facts import LABOUR, TODAY, invoice_shop


def outbox(db: Database) -> list[OutboxEntry]:
    with db.unit() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def payload(row: OutboxEntry) -> dict:  # type: ignore[type-arg]
    return json.loads(row.payload)  # type: ignore[no-any-return]


@pytest.fixture
def capturing(db: Database) -> Database:
    db.enable_outbox()
    return db


def test_nothing_is_captured_before_the_outbox_is_enabled(db: Database) -> None:
    CustomerService(db).create(CustomerInput(last_name="Huber"))
    assert outbox(db) == []


def test_customer_create_update_delete_become_upsert_and_tombstone(capturing: Database) -> None:
    customers = CustomerService(capturing)
    dto, _ = customers.create(CustomerInput(first_name="Anna", last_name="Müller", email="anna@example.de"))
    [row] = outbox(capturing)
    assert (row.entity, row.entity_id, row.op, row.state) == ("customer", str(dto.id), "upsert", "pending")
    body = payload(row)
    assert body["last_name"] == "Müller" and body["email"] == "anna@example.de" and body["restricted"] is False
    assert "notes" not in body  # free text stays on the desktop
    with capturing.unit() as s:  # the first op was sent meanwhile: a change now needs its own op
        s.get_one(OutboxEntry, row.id).state = "sent"
    customers.update(dto.id, CustomerInput(first_name="Anna", last_name="Meier"))
    with capturing.unit() as s:
        s.delete(s.get_one(Customer, dto.id))
    rows = outbox(capturing)
    assert [(r.op, r.state) for r in rows] == [("upsert", "sent"), ("delete", "pending")]  # update coalesced
    assert payload(rows[1]) == {"id": dto.id}
    assert rows[0].hlc < rows[1].hlc


def test_pending_changes_of_one_entity_coalesce_into_the_newest_state(capturing: Database) -> None:
    customers = CustomerService(capturing)
    dto, _ = customers.create(CustomerInput(last_name="Alt"))
    first_hlc = outbox(capturing)[0].hlc
    for name in ("Zwischen", "Neu"):
        customers.update(dto.id, CustomerInput(last_name=name))
    [row] = outbox(capturing)
    assert payload(row)["last_name"] == "Neu" and row.hlc > first_hlc


def test_a_rolled_back_domain_write_leaves_no_outbox_row(capturing: Database) -> None:
    with pytest.raises(RuntimeError), capturing.unit() as s:
        s.add(Customer(number="K-9", last_name="Geist"))
        s.flush()  # the listener has written its row inside this transaction …
        assert s.scalar(select(OutboxEntry.entity)) == "customer"
        raise RuntimeError("crash before commit")
    assert outbox(capturing) == []  # … and it went with the rollback
    with pytest.raises(ValidationError):
        CustomerService(capturing).create(CustomerInput(kind="unbekannt", last_name="X"))
    assert outbox(capturing) == []


def test_work_orders_travel_only_on_creation_and_status_change(capturing: Database) -> None:
    dto, _ = CustomerService(capturing).create(CustomerInput(last_name="Berger"))
    with capturing.unit() as s:
        s.add(WorkOrder(number="A-1", customer_id=dto.id, status="draft"))
    with capturing.unit() as s:
        for row in s.scalars(select(OutboxEntry)):
            row.state = "acked"
    with capturing.unit() as s:
        order = s.scalars(select(WorkOrder)).one()
        order.customer_wishes = "Bremsen quietschen"
    assert [r.state for r in outbox(capturing)] == ["acked", "acked"]
    with capturing.unit() as s:
        s.scalars(select(WorkOrder)).one().status = "open"
    rows = outbox(capturing)
    assert rows[-1].entity == "work_order" and payload(rows[-1])["status"] == "open"
    assert "customer_wishes" not in payload(rows[-1])


def test_invoices_travel_once_when_final_and_stornos_too(tmp_path: Path) -> None:
    shop = invoice_shop(tmp_path)
    shop.db.enable_outbox()
    draft = shop.draft(LABOUR)
    assert [r.entity for r in outbox(shop.db) if r.entity == "invoice"] == []  # drafts stay local
    result = shop.invoices.finalize(draft, user="Theke")
    PaymentService(shop.db, today=TODAY).record(result.id, amount=Decimal("10.00"), method="cash", user="Theke")
    storno = shop.invoices.cancel(result.number, reason="Falscher Kunde", user="Theke")
    invoices = [r for r in outbox(shop.db) if r.entity == "invoice"]
    assert [payload(r)["number"] for r in invoices] == [result.number, storno.number]
    original, cancel = (payload(r) for r in invoices)
    assert original["status"] == "final" and original["gross_total"] == str(result.gross)
    assert cancel["kind"] == "storno" and cancel["cancels_id"] == result.id
    assert original["taxes"] and original["taxes"][0]["rate"] == "19.00"
    payments = [payload(r) for r in outbox(shop.db) if r.entity == "payment"]
    assert len(payments) == 1 and payments[0]["amount"] == "10.00" and payments[0]["method"] == "cash"
    with shop.db.unit() as s:
        assert s.get(SyncDirtyDay, TODAY) is not None  # the day's facts must be recomputed


def test_backfill_queues_every_existing_record_once(db: Database) -> None:
    customers = CustomerService(db)
    ids = [customers.create(CustomerInput(last_name=f"Kunde {i}"))[0].id for i in range(5)]
    with db.unit() as s:
        s.add(Vehicle(customer_id=ids[0], plate="M-AB 123"))
    capture = db.enable_outbox()
    with db.unit() as s:
        assert backfill(s, capture.clock, chunk=2) == 6
    rows = outbox(db)
    assert sorted((r.entity, r.entity_id) for r in rows) == sorted(
        [("customer", str(i)) for i in ids] + [("vehicle", "1")]
    )
    assert len({r.op_id for r in rows}) == 6 and len({r.hlc for r in rows}) == 6


def test_registration_turns_capture_on_at_every_later_open(db_path: Path) -> None:
    db = open_database(db_path)
    CustomerService(db).create(CustomerInput(last_name="Vorher"))
    assert local.register(db, server_url="http://srv", device_id="dev-1", location_id="loc-1") == 1
    db.close()
    reopened = open_database(db_path)  # a composition root that knows nothing about sync
    try:
        assert reopened.outbox is not None
        CustomerService(reopened).create(CustomerInput(last_name="Nachher"))
        rows = outbox(reopened)
        assert [payload(r)["last_name"] for r in rows] == ["Vorher", "Nachher"]
        assert rows[1].hlc.endswith("-dev1") and rows[1].hlc > rows[0].hlc
    finally:
        reopened.close()


def test_op_ids_are_time_ordered_uuid7() -> None:
    first, second = new_op_id(), new_op_id()
    assert first[14] == "7" and first[19] in "89ab"
    assert first[:8] <= second[:8]
