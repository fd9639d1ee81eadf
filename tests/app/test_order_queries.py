"""order_rows: the order list's read model – one query, status filter, search, restricted customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event

from app.db import Database
from app.errors import ValidationError
from app.models import Customer
from app.services.customers import CustomerInput
from app.services.order_lines import LineInput
from app.services.order_queries import order_rows
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from app.services.work_orders import Intake

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def services(db: Database) -> Services:
    return Services.for_database(db, today=TODAY)


def customer(services: Services, last: str, plate: str | None, **extra: Any) -> tuple[int, int | None]:
    created, _ = services.customers.create(CustomerInput(first_name="Jürgen", last_name=last, **extra))
    if plate is None:
        return created.id, None
    vehicle, _ = services.vehicles.create(VehicleInput(customer_id=created.id, plate=plate))
    return created.id, vehicle.id


def test_rows_carry_what_the_list_shows(services: Services) -> None:
    customer_id, vehicle_id = customer(services, "Müller", "M-AB 123")
    orders = services.work_orders
    first = orders.create(customer_id, vehicle_id, intake=Intake(customer_wishes="Bremsen prüfen")).order
    orders.add_line(first.id, LineInput(kind="part", text="Wischer", unit_price_net="20"))
    orders.add_line(first.id, LineInput(kind="labour", text="Einbau", aw="2"))
    estimate = services.estimates.create(
        customer_id, vehicle_id, lines=[LineInput(kind="fee", text="X", unit_price_net="1")]
    )
    services.estimates.accept(estimate.estimate.id)
    second = services.estimates.convert_to_order(estimate.estimate.id).order
    rows = order_rows(services.db)
    assert [row.id for row in rows] == [second.id, first.id]  # newest first
    row = rows[1]
    assert (row.number, row.date_of_service, row.status, row.status_label) == (first.number, TODAY, "draft", "Entwurf")
    assert (row.customer_id, row.customer_name, row.vehicle_id, row.plate) == (
        customer_id,
        "Müller, Jürgen",
        vehicle_id,
        "M-AB 123",
    )
    assert (row.line_count, row.customer_wishes, row.estimate_number) == (2, "Bremsen prüfen", "")
    assert (rows[0].line_count, rows[0].estimate_number) == (1, estimate.estimate.number)


def test_one_query_however_many_orders(services: Services) -> None:
    customer_id, vehicle_id = customer(services, "Huber", "M-XY 1")
    for _ in range(12):
        order = services.work_orders.create(customer_id, vehicle_id).order
        services.work_orders.add_line(order.id, LineInput(kind="fee", text="Gebühr", unit_price_net="5"))
    statements: list[str] = []
    engine = services.db.engine

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        rows = order_rows(services.db)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 12 and all(row.line_count == 1 for row in rows)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_status_filter_one_or_several(services: Services) -> None:
    customer_id, vehicle_id = customer(services, "Huber", "M-XY 1")
    orders = services.work_orders
    draft = orders.create(customer_id, vehicle_id).order.id
    running = orders.create(customer_id, vehicle_id).order.id
    orders.open(running)
    cancelled = orders.create(customer_id, vehicle_id).order.id
    orders.cancel(cancelled)
    assert [row.id for row in order_rows(services.db, status="open")] == [running]
    assert [row.id for row in order_rows(services.db, status=("draft", "cancelled"))] == [cancelled, draft]
    with pytest.raises(ValidationError) as err:
        order_rows(services.db, status=["draft", "fertig"])
    assert err.value.field == "status"


def test_search_by_number_plate_name_and_kva(services: Services) -> None:
    mueller, golf = customer(services, "Müller", "M-AB 123")
    schmidt, _ = customer(services, "Schmidt", None)
    orders = services.work_orders
    first = orders.create(mueller, golf).order
    second = orders.create(schmidt, None).order

    def found(text: str) -> list[int]:
        return [row.id for row in order_rows(services.db, search=text)]

    assert found("muller") == [first.id]  # accents do not matter
    assert found("MAB123") == found("m-ab 123") == [first.id]
    assert found(second.number) == [second.id]
    assert found("jürgen") == [second.id, first.id]
    assert found("jürgen schmidt") == [second.id]
    assert found("  ") == found("") == [second.id, first.id]
    assert found("Meier") == []


def test_a_restricted_customer_has_no_name_in_the_list(services: Services) -> None:
    customer_id, vehicle_id = customer(services, "Müller", "M-AB 123")
    services.work_orders.create(customer_id, vehicle_id)
    with services.db.unit() as s:
        row = s.get(Customer, customer_id)
        assert row is not None
        row.restricted_at = dt.datetime(2026, 3, 1)
    [order] = order_rows(services.db)
    assert order.customer_name == "" and order.plate == "M-AB 123"
    assert order_rows(services.db, search="Müller") == []
