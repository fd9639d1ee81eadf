"""WorkOrderService: status machine, lines and AW pricing, intake mileage, KVA overrun (INV-14), time report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog_csv import ServiceRow
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.models import Appointment, MileageReading, Service, WorkOrder
from app.services.catalog import CatalogService
from app.services.customers import CustomerInput, CustomerService
from app.services.estimates import EstimateService
from app.services.order_lines import LineInput, clean_line, line_from_service
from app.services.settings import SettingsService
from app.services.vehicles import VehicleInput, VehicleService
from app.services.work_orders import (
    TRANSITIONS,
    Intake,
    WorkOrderService,
    check_invoiceable,
    mark_invoiced_in,
)

TODAY = dt.date(2026, 3, 10)


@dataclass(frozen=True)
class Shop:
    db: Database
    orders: WorkOrderService
    estimates: EstimateService
    customer: int
    vehicle: int
    brakes: int  # 6 AW, price by AW
    hu: int  # fixed price 139.00 at 19 %
    jonas: int
    ali: int


@pytest.fixture
def shop(db: Database) -> Shop:
    settings = SettingsService(db)
    settings.update(labour_rate_net="120", aw_per_hour=12, name="Kfz Meier")
    jonas = settings.add_mechanic("Jonas").id
    ali = settings.add_mechanic("Ali").id
    customer, _ = CustomerService(db).create(CustomerInput(first_name="Anna", last_name="Huber", city="München"))
    vehicle, _ = VehicleService(db, today=TODAY).create(
        VehicleInput(customer_id=customer.id, plate="M-AB 123", make="VW", model="Golf"), mileage=80_000
    )
    catalog = CatalogService(db)
    brakes = catalog.create(
        ServiceRow(
            code="BR-01",
            category="Bremse",
            name="Bremsbeläge vorn erneuern",
            aw=Decimal("6"),
            parts=("Bremsbeläge", "Verschleißanzeiger"),
        )
    )
    hu = catalog.create(
        ServiceRow(
            code="HU-01",
            category="Prüfung",
            name="HU/AU-Vorführung",
            aw=Decimal("3"),
            price_rule="fixed",
            price_net=Decimal("139.00"),
        )
    )
    return Shop(
        db,
        WorkOrderService(db, today=TODAY),
        EstimateService(db, today=TODAY),
        customer.id,
        vehicle.id,
        brakes.service.id,
        hu.service.id,
        jonas,
        ali,
    )


def part(price: str, text: str = "Bremsscheibe", **kw: object) -> LineInput:
    return LineInput(kind="part", text=text, unit_price_net=Decimal(price), **kw)  # type: ignore[arg-type]


def labour(aw: str, text: str = "Bremsen vorn", **kw: object) -> LineInput:
    return LineInput(kind="labour", text=text, aw=Decimal(aw), **kw)  # type: ignore[arg-type]


# --- status machine --------------------------------------------------------------------------------

ACTIONS = ("open", "start", "complete", "reopen", "cancel", "mark_invoiced")
ALLOWED = {
    ("draft", "open"): "open",
    ("open", "start"): "in_progress",
    ("in_progress", "complete"): "completed",
    ("completed", "reopen"): "in_progress",
    ("draft", "cancel"): "cancelled",
    ("open", "cancel"): "cancelled",
    ("in_progress", "cancel"): "cancelled",
    ("completed", "mark_invoiced"): "invoiced",
}
PATH = {
    "draft": (),
    "open": ("open",),
    "in_progress": ("open", "start"),
    "completed": ("open", "start", "complete"),
    "invoiced": ("open", "start", "complete", "mark_invoiced"),
    "cancelled": ("cancel",),
}


def order_in(shop: Shop, status: str) -> int:
    order_id = shop.orders.create(shop.customer, shop.vehicle, lines=[labour("6")]).order.id
    for action in PATH[status]:
        getattr(shop.orders, action)(order_id)
    assert shop.orders.get(order_id).status == status
    return order_id


def test_transitions_are_written_down_as_in_the_brief() -> None:
    # invoiced → completed is no user action: the invoicing service performs it when a Storno is issued.
    assert TRANSITIONS == {(source, target) for (source, _action), target in ALLOWED.items()} | {
        ("invoiced", "completed")
    }


@pytest.mark.parametrize("status", list(PATH))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_transition_is_allowed_or_refused(shop: Shop, status: str, action: str) -> None:
    order_id = order_in(shop, status)
    target = ALLOWED.get((status, action))
    if target is None:
        with pytest.raises(InvalidTransition):
            getattr(shop.orders, action)(order_id)
        assert shop.orders.get(order_id).status == status
    else:
        result = getattr(shop.orders, action)(order_id)
        assert result.order.status == target
        assert result.changes.orders
        assert shop.orders.get(order_id).status == target


def test_refusal_names_the_status_in_german(shop: Shop) -> None:
    order_id = order_in(shop, "draft")
    with pytest.raises(InvalidTransition) as err:
        shop.orders.complete(order_id)
    assert str(err.value) == "Ein Auftrag im Status „Entwurf“ kann nicht abgeschlossen werden."


def test_undecided_proposed_lines_block_completion(shop: Shop) -> None:
    order_id = order_in(shop, "in_progress")
    proposed = shop.orders.add_line(order_id, replace(part("45.00", "Bremsschlauch"), proposed=True)).order.lines[-1]
    with pytest.raises(ValidationError, match="Position 2 ist nur vorgeschlagen"):
        shop.orders.complete(order_id)
    assert shop.orders.confirm_line(proposed.id).order.lines[-1].proposed is False
    assert shop.orders.complete(order_id).order.status == "completed"


def test_lines_editable_until_completed_then_after_reopen(shop: Shop) -> None:
    order_id = order_in(shop, "completed")
    line_id = shop.orders.get(order_id).lines[0].id
    with pytest.raises(InvalidTransition, match="kann nicht mehr geändert werden"):
        shop.orders.add_line(order_id, part("10.00"))
    with pytest.raises(InvalidTransition):
        shop.orders.record_actual_aw(line_id, "5")
    shop.orders.reopen(order_id)
    assert len(shop.orders.add_line(order_id, part("10.00")).order.lines) == 2


# --- lines and prices ------------------------------------------------------------------------------


def test_labour_6_aw_at_12_aw_per_hour_and_120_euro_is_60_euro_net(shop: Shop) -> None:
    order = shop.orders.create(shop.customer, shop.vehicle, lines=[labour("6")]).order
    line = order.lines[0]
    assert (line.aw, line.quantity, line.unit_code, line.unit_label) == (Decimal("6"), Decimal("6"), "C62", "AW")
    assert line.unit_price_net is None  # the price follows the workshop's AW price
    assert line.net == Decimal("60.00")
    assert (order.totals.net, order.totals.tax, order.totals.gross) == (
        Decimal("60.00"),
        Decimal("11.40"),
        Decimal("71.40"),
    )


def test_add_service_fills_aw_from_the_catalogue_and_adds_no_parts(shop: Shop) -> None:
    order_id = order_in(shop, "draft")
    order = shop.orders.add_service(order_id, shop.brakes).order
    added = order.lines[-1]
    assert (added.kind, added.text, added.aw, added.service_id) == (
        "labour",
        "Bremsbeläge vorn erneuern",
        Decimal("6"),
        shop.brakes,
    )
    assert added.part_no == "BR-01"
    assert added.net == Decimal("60.00")
    assert len(order.lines) == 2  # typical parts ("Bremsbeläge") are not turned into lines


def test_fixed_price_service_becomes_a_fee_line(shop: Shop) -> None:
    order_id = order_in(shop, "draft")
    added = shop.orders.add_service(order_id, shop.hu, 2).order.lines[-1]
    assert (added.kind, added.quantity, added.unit_price_net, added.net) == (
        "fee",
        Decimal("2"),
        Decimal("139.00"),
        Decimal("278.00"),
    )
    assert added.aw is None


def test_line_from_service_without_database() -> None:
    service = Service(id=7, code="OEL", name="Ölwechsel", aw=Decimal("4"), price_rule="from", vat_rate=Decimal("19"))
    line = line_from_service(service, quantity=2)
    assert (line.kind, line.aw, line.service_id) == ("labour", Decimal("8"), 7)
    with pytest.raises(ValidationError, match="weder AW noch einen Preis"):
        line_from_service(Service(id=8, code="X", name="Leer", aw=Decimal(0), price_rule="aw", vat_rate=Decimal(19)))


@pytest.mark.parametrize(
    ("line", "field", "text"),
    [
        (part("10.00", quantity=Decimal(0)), "quantity", "Die Menge muss größer als 0 sein"),
        (part("-1"), "unit_price_net", "zwischen 0 und"),
        (part("10.005"), "unit_price_net", "höchstens 2 Nachkommastellen"),
        (LineInput(kind="part", text="Filter"), "unit_price_net", "Bitte einen Einzelpreis"),
        (part("10", vat_rate=Decimal(16)), "vat_rate", "19 %, 7 % oder 0 %"),
        (labour("0"), "aw", "Arbeitslohn braucht AW größer als 0"),
        (LineInput(kind="labour", text="Diagnose"), "aw", "Arbeitslohn braucht AW"),
        (LineInput(kind="discount"), "discount_percent", "entweder Prozent oder Betrag"),
        (
            LineInput(kind="discount", discount_percent=Decimal(5), discount_amount_net=Decimal(5)),
            "discount_percent",
            "entweder Prozent oder Betrag",
        ),
        (LineInput(kind="discount", discount_percent=Decimal(101)), "discount_percent", "höchstens 100 %"),
        (part("10", text="  "), "text", "Bitte eine Bezeichnung"),
        (LineInput(kind="repair", text="x"), "kind", "unbekannte Positionsart"),
        (part("10", unit_code="XYZ"), "unit_code", "unbekannte Einheit"),
        (part("10", quantity="viel"), "quantity", "keine Zahl"),
    ],
)
def test_line_validation_names_the_field(line: LineInput, field: str, text: str) -> None:
    with pytest.raises(ValidationError, match=text) as err:
        clean_line(line, 3)
    assert err.value.field == f"lines[3].{field}"
    assert str(err.value).startswith("Position 4:")


def test_oil_in_litres_and_a_german_quantity() -> None:
    line = clean_line(
        LineInput(kind="part", text="Motoröl 5W-30", quantity="4,5", unit_code="LTR", unit_price_net="12,90")
    )
    assert (line.quantity, line.unit_code, line.unit_label, line.unit_price_net) == (
        Decimal("4.5"),
        "LTR",
        "l",
        Decimal("12.90"),
    )
    assert clean_line(part("5")).unit_label == "Stk"


def test_service_reports_the_index_of_the_bad_line(shop: Shop) -> None:
    with pytest.raises(ValidationError) as err:
        shop.orders.create(shop.customer, shop.vehicle, lines=[labour("6"), part("1.234")])
    assert err.value.field == "lines[1].unit_price_net"
    assert shop.orders.list() == []  # nothing half-created
    order_id = order_in(shop, "draft")
    with pytest.raises(ValidationError) as err:
        shop.orders.add_line(order_id, labour("-2"))
    assert err.value.field == "lines[1].aw"


def test_a_discount_needs_lines_before_it(shop: Shop) -> None:
    order_id = shop.orders.create(shop.customer, shop.vehicle).order.id
    with pytest.raises(ValidationError) as err:
        shop.orders.add_line(order_id, LineInput(kind="discount", discount_percent=Decimal(10)))
    assert err.value.field == "lines[0].kind"
    shop.orders.add_line(order_id, part("200.00"))
    order = shop.orders.add_line(order_id, LineInput(kind="discount", discount_percent=Decimal(10))).order
    assert [line.net for line in order.lines] == [Decimal("200.00"), Decimal("-20.00")]
    assert order.totals.net == Decimal("180.00")


def test_update_remove_and_reorder_lines(shop: Shop) -> None:
    order = shop.orders.create(shop.customer, shop.vehicle, lines=[labour("6"), part("50"), part("20", "Clip")]).order
    first, second, third = (line.id for line in order.lines)
    shop.orders.record_actual_aw(first, "7")
    updated = shop.orders.update_line(first, labour("12", "Bremsen vorn und hinten")).order.lines[0]
    assert (updated.text, updated.aw, updated.aw_actual, updated.net) == (
        "Bremsen vorn und hinten",
        Decimal("12"),
        Decimal("7"),  # recorded time stays
        Decimal("120.00"),
    )
    reordered = shop.orders.reorder(order.id, [third, first, second]).order
    assert [(line.id, line.position) for line in reordered.lines] == [(third, 1), (first, 2), (second, 3)]
    with pytest.raises(ValidationError, match="genau einmal"):
        shop.orders.reorder(order.id, [third, first])
    remaining = shop.orders.remove_line(first).order.lines
    assert [(line.id, line.position) for line in remaining] == [(third, 1), (second, 2)]
    with pytest.raises(NotFound):
        shop.orders.remove_line(first)


# --- intake, numbers, appointments, queries --------------------------------------------------------


def test_numbers_run_per_year(shop: Shop) -> None:
    first = shop.orders.create(shop.customer, shop.vehicle).order
    second = shop.orders.create(shop.customer, None).order
    next_year = WorkOrderService(shop.db, today=dt.date(2027, 1, 2)).create(shop.customer, None).order
    assert (first.number, second.number, next_year.number) == ("A-2026-00001", "A-2026-00002", "A-2027-00001")


def test_intake_mileage_goes_into_the_vehicle_history(shop: Shop) -> None:
    intake = Intake(
        mileage_in="81.250", fuel_level="1/2", customer_wishes="Quietschen vorn", approval_phone="0171 1234567"
    )
    order, changes = shop.orders.create(shop.customer, shop.vehicle, intake=intake)
    assert changes == Changes(orders=True, vehicles=True)
    assert (order.mileage_in, order.fuel_level, order.date_of_service) == (81_250, "1/2", TODAY)
    with shop.db.unit() as s:
        readings = s.scalars(select(MileageReading).where(MileageReading.vehicle_id == shop.vehicle)).all()
        assert [(r.km, r.source, r.date) for r in readings][-1] == (81_250, "Auftrag", TODAY)
    assert VehicleService(shop.db, today=TODAY).get(shop.vehicle).last_mileage == 81_250


def test_intake_mileage_lower_than_the_last_reading_is_refused(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="niedriger als der letzte erfasste") as err:
        shop.orders.create(shop.customer, shop.vehicle, intake=Intake(mileage_in=79_999))
    assert err.value.field == "mileage_in"
    with shop.db.unit() as s:
        assert s.scalars(select(WorkOrder)).all() == []


def test_create_from_appointment_turns_services_into_labour_lines(shop: Shop) -> None:
    with shop.db.unit() as s:
        appt = Appointment(
            start=dt.datetime(2026, 3, 10, 8),
            end=dt.datetime(2026, 3, 10, 9),
            customer_id=shop.customer,
            vehicle_id=shop.vehicle,
            mechanic_id=shop.jonas,
            services=[s.get(Service, shop.brakes)],
        )
        s.add(appt)
        s.flush()
        appt_id = appt.id
    order = shop.orders.create_from_appointment(appt_id, Intake(mileage_in=80_500)).order
    assert (order.appointment_id, order.customer_id, order.vehicle_id) == (appt_id, shop.customer, shop.vehicle)
    assert [(line.kind, line.aw, line.mechanic_name) for line in order.lines] == [("labour", Decimal("6"), "Jonas")]
    with pytest.raises(ConflictError, match=order.number):
        shop.orders.create_from_appointment(appt_id)


def test_queries(shop: Shop) -> None:
    done = order_in(shop, "invoiced")
    running = order_in(shop, "in_progress")
    other = shop.orders.create(shop.customer, None).order.id
    assert [o.id for o in shop.orders.open_for_vehicle(shop.vehicle)] == [running]
    assert [o.id for o in shop.orders.list(status="invoiced")] == [done]
    assert [o.id for o in shop.orders.list(customer_id=shop.customer)] == [other, running, done]
    assert shop.orders.get(running).status_label == "In Arbeit"
    with pytest.raises(NotFound):
        shop.orders.get(9999)


# --- mechanics' time -------------------------------------------------------------------------------


def test_time_report_target_against_actual_aw(shop: Shop) -> None:
    order = shop.orders.create(
        shop.customer, shop.vehicle, lines=[labour("6"), labour("10", "Zahnriemen"), labour("2", "Probefahrt")]
    ).order
    brakes, belt, drive = (line.id for line in order.lines)
    shop.orders.assign_mechanic(brakes, shop.jonas)
    shop.orders.assign_mechanic(belt, shop.jonas)
    shop.orders.assign_mechanic(drive, shop.ali)
    shop.orders.record_actual_aw(brakes, "5")
    shop.orders.record_actual_aw(belt, "12,5")
    report = {t.mechanic_name: t for t in shop.orders.time_report(order.id)}
    jonas, ali = report["Jonas"], report["Ali"]
    assert (jonas.target_aw, jonas.actual_aw, jonas.difference) == (Decimal("16"), Decimal("17.5"), Decimal("1.5"))
    assert jonas.performance_percent == Decimal("91.4")
    assert (ali.target_aw, ali.actual_aw, ali.lines_without_actual, ali.performance_percent) == (
        Decimal("2"),
        Decimal("0"),
        1,
        None,
    )
    with pytest.raises(ValidationError, match="nur bei Arbeitspositionen"):
        shop.orders.assign_mechanic(shop.orders.add_line(order.id, part("5")).order.lines[-1].id, shop.ali)


# --- KVA overrun (INV-14) --------------------------------------------------------------------------


def order_from_estimate(shop: Shop, *, binding: bool = False) -> int:
    estimate = shop.estimates.create(shop.customer, shop.vehicle, binding=binding, lines=[part("1000.00")]).estimate
    shop.estimates.accept(estimate.id)
    order_id = shop.estimates.convert_to_order(estimate.id).order.id
    shop.orders.open(order_id)
    shop.orders.start(order_id)
    return order_id


def finish(shop: Shop, order_id: int, extra: str) -> None:
    shop.orders.add_line(order_id, LineInput(kind="fee", text="Mehraufwand", unit_price_net=Decimal(extra)))
    shop.orders.complete(order_id)


def check(shop: Shop, order_id: int) -> None:
    with shop.db.unit() as s:
        check_invoiceable(s, order_id)


def test_non_binding_estimate_allows_up_to_15_percent(shop: Shop) -> None:
    order_id = order_from_estimate(shop)
    finish(shop, order_id, "149.00")
    overrun = shop.orders.overrun(order_id)
    assert (overrun.estimate_net, overrun.projected_net, overrun.percent, overrun.threshold) == (
        Decimal("1000.00"),
        Decimal("1149.00"),
        Decimal("14.9"),
        Decimal("15.00"),
    )
    assert not overrun.exceeded
    check(shop, order_id)


def test_more_than_15_percent_blocks_until_approved_and_again_after_more_work(shop: Shop) -> None:
    order_id = order_from_estimate(shop)
    finish(shop, order_id, "151.00")
    assert shop.orders.overrun(order_id).blocked
    with pytest.raises(ValidationError) as err:
        check(shop, order_id)
    assert str(err.value) == (
        "Der Auftrag überschreitet den Kostenvoranschlag um 15,1 % – bitte zuerst die Zustimmung des Kunden "
        "erfassen (Zeit, Weg, Mitarbeiter)."
    )
    order = shop.orders.record_approval(order_id, "phone", "Theke Maria", note="Kundin einverstanden").order
    approval = order.approvals[0]
    assert (approval.channel_label, approval.user, approval.approved_net) == (
        "Telefon",
        "Theke Maria",
        Decimal("1151.00"),
    )
    assert order.overrun.approved and not order.overrun.blocked
    check(shop, order_id)
    shop.orders.reopen(order_id)
    finish(shop, order_id, "10.00")
    with pytest.raises(ValidationError, match="um 16,1 %"):
        check(shop, order_id)
    shop.orders.record_approval(order_id, "in_person", "Meister", approved_net="1.200,00")
    check(shop, order_id)


def test_binding_estimate_blocks_at_any_increase(shop: Shop) -> None:
    order_id = order_from_estimate(shop, binding=True)
    shop.orders.complete(order_id)
    check(shop, order_id)  # exactly the estimate: fine
    shop.orders.reopen(order_id)
    finish(shop, order_id, "0.01")
    overrun = shop.orders.overrun(order_id)
    assert (overrun.threshold, overrun.exceeded, overrun.binding) == (Decimal(0), True, True)
    with pytest.raises(ValidationError, match="um 0,1 %"):
        check(shop, order_id)


def test_threshold_follows_the_workshop_setting(shop: Shop) -> None:
    SettingsService(shop.db).update(estimate_overrun_percent="20")
    order_id = order_from_estimate(shop)
    finish(shop, order_id, "190.00")
    check(shop, order_id)


def test_order_without_estimate_is_never_exceeded(shop: Shop) -> None:
    order_id = order_in(shop, "completed")
    overrun = shop.orders.overrun(order_id)
    assert (overrun.estimate_net, overrun.exceeded, overrun.projected_net) == (None, False, Decimal("60.00"))
    check(shop, order_id)


def test_approval_input_is_checked(shop: Shop) -> None:
    order_id = order_in(shop, "open")
    with pytest.raises(ValidationError) as err:
        shop.orders.record_approval(order_id, "fax", "Maria")
    assert err.value.field == "channel"
    with pytest.raises(ValidationError) as err:
        shop.orders.record_approval(order_id, "phone", "  ")
    assert err.value.field == "user"
    with pytest.raises(ValidationError) as err:
        shop.orders.record_approval(order_id, "phone", "Maria", approved_net="-5")
    assert err.value.field == "approved_net"


# --- invoicing hooks -------------------------------------------------------------------------------


def test_check_invoiceable_needs_a_completed_order(shop: Shop) -> None:
    order_id = order_in(shop, "in_progress")
    with pytest.raises(ValidationError, match="Nur abgeschlossene Aufträge") as err:
        check(shop, order_id)
    assert "„In Arbeit“" in str(err.value)


def test_mark_invoiced_in_joins_the_callers_transaction(shop: Shop) -> None:
    order_id = order_in(shop, "completed")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), shop.db.unit() as s:
        mark_invoiced_in(s, order_id)
        assert s.get(WorkOrder, order_id).status == "invoiced"  # type: ignore[union-attr]
        raise Abort  # e.g. the invoice could not be finalised
    assert shop.orders.get(order_id).status == "completed"
    with shop.db.unit() as s:
        mark_invoiced_in(s, order_id)
    assert shop.orders.get(order_id).status == "invoiced"


def test_mark_invoiced_in_rechecks_the_overrun(shop: Shop) -> None:
    order_id = order_from_estimate(shop)
    finish(shop, order_id, "300.00")
    with pytest.raises(ValidationError, match="um 30 %"), shop.db.unit() as s:
        mark_invoiced_in(s, order_id)
    assert shop.orders.get(order_id).status == "completed"


def test_changes_combine_the_new_flags() -> None:
    assert Changes(orders=True) | Changes(invoices=True) == Changes(orders=True, invoices=True)
    assert (Changes(customers=True) | Changes()).orders is False
