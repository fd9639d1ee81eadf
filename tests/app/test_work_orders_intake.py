"""WorkOrderService.update_intake: correcting the intake data of a running order – checked like at creation,
mileage only upwards into the vehicle's history, nothing changed once the order is completed."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.changes import Changes
from app.db import Database
from app.errors import InvalidTransition, NotFound, ValidationError
from app.models import MileageReading
from app.services.customers import CustomerInput, CustomerService
from app.services.order_lines import LineInput
from app.services.settings import SettingsService
from app.services.vehicles import VehicleInput, VehicleService
from app.services.work_orders import Intake, WorkOrderService

TODAY = dt.date(2026, 3, 10)


@dataclass(frozen=True)
class Shop:
    db: Database
    orders: WorkOrderService
    vehicles: VehicleService
    customer: int
    vehicle: int


@pytest.fixture
def shop(db: Database) -> Shop:
    """A customer with a Golf last read at 80.000 km."""
    SettingsService(db).update(labour_rate_net="120", aw_per_hour=12)
    customer, _ = CustomerService(db).create(CustomerInput(first_name="Anna", last_name="Huber"))
    vehicles = VehicleService(db, today=TODAY)
    vehicle, _ = vehicles.create(VehicleInput(customer_id=customer.id, plate="M-AB 123"), mileage=80_000)
    return Shop(db, WorkOrderService(db, today=TODAY), vehicles, customer.id, vehicle.id)


def readings(shop: Shop) -> list[int]:
    """The vehicle's mileage history in order of entry."""
    with shop.db.unit() as s:
        query = select(MileageReading.km).where(MileageReading.vehicle_id == shop.vehicle).order_by(MileageReading.id)
        return list(s.scalars(query))


def new_order(shop: Shop, **intake: object) -> int:
    return shop.orders.create(shop.customer, shop.vehicle, intake=Intake(**intake)).order.id  # type: ignore[arg-type]


def test_every_intake_field_is_saved_and_announced(shop: Shop) -> None:
    order_id = new_order(shop, mileage_in=81_000, fuel_level="1/4")
    order, changes = shop.orders.update_intake(
        order_id,
        Intake(
            mileage_in="81.000",  # unchanged (German grouping): no new reading
            fuel_level=" 3/4 ",
            damage_notes="Kratzer hinten links",
            customer_wishes="Inspektion",
            approval_phone="0171 2345678",
            approval_limit_gross="400,50",
        ),
    )
    assert (order.mileage_in, order.fuel_level, order.damage_notes) == (81_000, "3/4", "Kratzer hinten links")
    assert (order.customer_wishes, order.approval_phone) == ("Inspektion", "0171 2345678")
    assert order.approval_limit_gross == Decimal("400.50")
    assert changes == Changes(orders=True)  # the vehicle did not change
    assert readings(shop) == [80_000, 81_000]
    assert shop.orders.get(order_id) == order


def test_a_higher_mileage_is_added_to_the_vehicle_history(shop: Shop) -> None:
    order_id = new_order(shop, mileage_in=81_000)
    order, changes = shop.orders.update_intake(order_id, Intake(mileage_in="81.250"))
    assert order.mileage_in == 81_250 and changes.vehicles
    assert readings(shop) == [80_000, 81_000, 81_250]
    assert shop.vehicles.get(shop.vehicle).last_mileage == 81_250


def test_a_first_mileage_for_an_order_without_one_is_recorded(shop: Shop) -> None:
    order_id = new_order(shop)
    assert shop.orders.update_intake(order_id, Intake(mileage_in=82_000)).order.mileage_in == 82_000
    assert readings(shop) == [80_000, 82_000]


def test_the_last_reading_itself_is_taken_without_a_duplicate(shop: Shop) -> None:
    order_id = new_order(shop)
    order, changes = shop.orders.update_intake(order_id, Intake(mileage_in=80_000))
    assert order.mileage_in == 80_000 and not changes.vehicles
    assert readings(shop) == [80_000]


@pytest.mark.parametrize("km", [80_999, 79_000])
def test_a_lower_mileage_is_refused_at_its_field_and_nothing_changes(shop: Shop, km: int) -> None:
    order_id = new_order(shop, mileage_in=81_000, customer_wishes="Ölwechsel")
    with pytest.raises(ValidationError) as err:
        shop.orders.update_intake(order_id, Intake(mileage_in=km, customer_wishes="Inspektion"))
    assert err.value.field == "mileage_in"
    assert "niedriger als der letzte erfasste (81.000 km)" in err.value.message
    order = shop.orders.get(order_id)
    assert (order.mileage_in, order.customer_wishes) == (81_000, "Ölwechsel")  # one transaction: all or nothing
    assert readings(shop) == [80_000, 81_000]


def test_an_empty_mileage_keeps_the_recorded_one(shop: Shop) -> None:
    order_id = new_order(shop, mileage_in=81_000)
    assert shop.orders.update_intake(order_id, Intake(mileage_in="  ", fuel_level="voll")).order.mileage_in == 81_000
    assert readings(shop) == [80_000, 81_000]


@pytest.mark.parametrize(
    ("intake", "field"),
    [
        (Intake(mileage_in="viel"), "mileage_in"),
        (Intake(fuel_level="halb voll, etwa"), "fuel_level"),
        (Intake(approval_phone="bitte anrufen"), "approval_phone"),
        (Intake(approval_limit_gross="-5"), "approval_limit_gross"),
        (Intake(approval_limit_gross="zu viel"), "approval_limit_gross"),
    ],
)
def test_fields_are_validated_like_at_creation(shop: Shop, intake: Intake, field: str) -> None:
    order_id = new_order(shop)
    with pytest.raises(ValidationError) as err:
        shop.orders.update_intake(order_id, intake)
    assert err.value.field == field
    with pytest.raises(ValidationError) as at_creation:
        new_order(shop, **asdict(intake))
    assert (at_creation.value.field, at_creation.value.message) == (field, err.value.message)


def test_no_mileage_without_a_vehicle(shop: Shop) -> None:
    order_id = shop.orders.create(shop.customer, None).order.id
    with pytest.raises(ValidationError) as err:
        shop.orders.update_intake(order_id, Intake(mileage_in=90_000))
    assert err.value.field == "mileage_in"
    assert shop.orders.update_intake(order_id, Intake(customer_wishes="Reifen")).order.customer_wishes == "Reifen"


def test_the_service_date_changes_only_when_given(shop: Shop) -> None:
    order_id = new_order(shop)
    assert shop.orders.update_intake(order_id, Intake(fuel_level="1/2")).order.date_of_service == TODAY
    later = TODAY + dt.timedelta(days=2)
    assert shop.orders.update_intake(order_id, Intake(date_of_service=later)).order.date_of_service == later


def test_editable_while_running_refused_once_completed(shop: Shop) -> None:
    order_id = new_order(shop)
    orders = shop.orders
    orders.add_line(order_id, LineInput(kind="fee", text="Entsorgung", unit_price_net="5"))
    for step in (orders.open, orders.start):
        step(order_id)
        assert (
            orders.update_intake(order_id, Intake(customer_wishes=step.__name__)).order.customer_wishes == step.__name__
        )
    orders.complete(order_id)
    with pytest.raises(InvalidTransition):
        orders.update_intake(order_id, Intake(customer_wishes="zu spät"))
    assert orders.get(order_id).customer_wishes == "start"
    with pytest.raises(NotFound):
        orders.update_intake(9999, Intake())
