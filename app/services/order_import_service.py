"""Writes validated JSON orders (app.order_import) in ONE transaction: customers and vehicles are found
or created, each order gets its lines and arrives completed, ready to be invoiced."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import ValidationError
from app.models import Customer, Vehicle
from app.order_import import ImportedOrder, parse_orders
from app.services import audit
from app.services.customers import create_in as create_customer_in
from app.services.order_lines import LineInput
from app.services.order_rows import add_line_in
from app.services.vehicles import VehicleInput, validate_vehicle
from app.services.vehicles import create_in as create_vehicle_in
from app.services.work_order_intake import create_order_in
from app.services.work_order_types import Intake


class OrderImportService:
    """`carbot orders import`: validate everything, then write everything or nothing."""

    def __init__(self, db: Database, *, today: dt.date | None = None) -> None:
        self._db = db
        self._today = today

    def import_file(self, data: bytes | str, *, user: str = "Import") -> list[int]:
        """The ids of the new work orders; ImportRejected (with paths) when anything is invalid."""
        today = self._today or dt.date.today()
        orders = parse_orders(data, today=today)
        ids: list[int] = []
        with self._db.unit() as s:
            for index, order in enumerate(orders):
                try:
                    ids.append(self._write(s, order, today=today, user=user))
                except ValidationError as exc:
                    prefix = f"[{index}]." if len(orders) > 1 else ""
                    raise ValidationError(
                        "Auftrag {path}: {message}",
                        field=f"{prefix}{exc.field}",
                        path=f"{prefix}{exc.field}",
                        message=exc.message,
                    ) from exc
        return ids

    @staticmethod
    def _customer(s: Session, order: ImportedOrder) -> Customer:
        data = order.customer
        query = select(Customer).where(Customer.restricted_at.is_(None))
        if data.email:
            query = query.where(Customer.email == data.email)
        else:
            query = query.where(
                Customer.kind == data.kind,
                Customer.company == data.company,
                Customer.last_name == data.last_name,
                Customer.first_name == data.first_name,
                Customer.postcode == data.postcode,
                Customer.street == data.street,
            )
        return s.scalars(query.order_by(Customer.id)).first() or create_customer_in(s, data)

    @staticmethod
    def _vehicle(s: Session, order: ImportedOrder, customer: Customer, today: dt.date, user: str) -> Vehicle | None:
        if not (order.vin or order.plate):
            return None
        found = None
        if order.vin:
            found = s.scalar(select(Vehicle).where(Vehicle.vin == order.vin))
        if found is None and order.plate:
            found = s.scalar(select(Vehicle).where(Vehicle.plate == order.plate, Vehicle.customer_id == customer.id))
        if found is not None:
            return found
        cleaned, problems = validate_vehicle(
            VehicleInput(
                customer_id=customer.id,
                vin=order.vin,
                plate=order.plate,
                first_registration=order.first_registration,
                business_use=order.business_use,
            ),
            today,
        )
        if problems:
            raise problems[0]
        return create_vehicle_in(s, cleaned, mileage=None, user=user, today=today)

    def _write(self, s: Session, order: ImportedOrder, *, today: dt.date, user: str) -> int:
        customer = self._customer(s, order)
        vehicle = self._vehicle(s, order, customer, today, user)
        intake = Intake(mileage_in=order.mileage, date_of_service=order.date_of_service)
        row = create_order_in(
            s, customer_id=customer.id, vehicle_id=vehicle.id if vehicle else None, intake=intake, today=today
        )
        for line in order.lines:
            add_line_in(
                s,
                row.lines,
                LineInput(
                    kind=line.kind,
                    text=line.text,
                    part_no=line.part_no,
                    quantity=line.quantity,
                    unit_code=line.unit_code if line.kind != "labour" else "",
                    unit_label=line.unit_label if line.kind != "labour" else "",
                    unit_price_net=line.unit_price_net,
                    vat_rate=line.vat_rate,
                    aw=line.aw,
                    discount_percent=line.percent,
                    discount_amount_net=line.amount_net,
                ),
            )
        # Imported work was done elsewhere: the order arrives completed, ready for invoicing.
        row.status = "completed"
        s.flush()
        audit.log_in(
            s,
            user=user,
            entity="work_order",
            entity_id=row.id,
            action="import",
            new={"number": row.number, "lines": len(order.lines), "reference": order.reference},
        )
        return row.id
