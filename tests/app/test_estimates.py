"""EstimateService: KVA terms, numbers, lines only in draft, status machine, expiry, totals, conversion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from app.catalog_csv import ServiceRow
from app.db import Database
from app.errors import ConflictError, InvalidTransition, NotFound, ValidationError
from app.services.catalog import CatalogService
from app.services.customers import CustomerInput, CustomerService
from app.services.estimates import TRANSITIONS, EstimateService
from app.services.order_lines import LineInput
from app.services.settings import SettingsService
from app.services.vehicles import VehicleInput, VehicleService
from app.services.work_orders import Intake, WorkOrderService

TODAY = dt.date(2026, 3, 10)


@dataclass(frozen=True)
class Shop:
    db: Database
    estimates: EstimateService
    customer: int
    business: int
    vehicle: int
    business_vehicle: int
    brakes: int
    mechanic: int


@pytest.fixture
def shop(db: Database) -> Shop:
    settings = SettingsService(db)
    settings.update(labour_rate_net="120", aw_per_hour=12)
    mechanic = settings.add_mechanic("Jonas").id
    customers = CustomerService(db)
    private, _ = customers.create(CustomerInput(first_name="Anna", last_name="Huber"))
    business, _ = customers.create(CustomerInput(kind="business", company="Bau GmbH"))
    vehicles = VehicleService(db, today=TODAY)
    vehicle, _ = vehicles.create(VehicleInput(customer_id=private.id, plate="M-AB 123"), mileage=80_000)
    van, _ = vehicles.create(VehicleInput(customer_id=business.id, plate="M-XY 9", business_use=True))
    brakes = CatalogService(db).create(
        ServiceRow(code="BR-01", category="Bremse", name="Bremsbeläge vorn erneuern", aw=Decimal("6"))
    )
    return Shop(
        db,
        EstimateService(db, today=TODAY),
        private.id,
        business.id,
        vehicle.id,
        van.id,
        brakes.service.id,
        mechanic,
    )


LINES = (
    LineInput(kind="labour", text="Bremsen vorn", aw=Decimal("6"), part_no="BR-01"),
    LineInput(kind="part", text="Bremsbeläge", part_no="0 986 494 123", quantity=Decimal(1), unit_price_net="89,90"),
    LineInput(kind="part", text="Motoröl 5W-30", quantity="4,5", unit_code="LTR", unit_price_net=Decimal("12.90")),
    LineInput(kind="exchange_part", text="Lichtmaschine (AT)", unit_price_net=Decimal("1000.00")),
    LineInput(kind="fee", text="Altölentsorgung", unit_price_net=Decimal("5.00"), vat_rate=Decimal(7)),
    LineInput(kind="discount", discount_percent=Decimal(10)),
)


def make(shop: Shop, **kw: object) -> int:
    return shop.estimates.create(shop.customer, shop.vehicle, lines=kw.pop("lines", LINES[:2]), **kw).estimate.id  # type: ignore[arg-type]


# --- terms and numbers -----------------------------------------------------------------------------


def test_create_with_defaults(shop: Shop) -> None:
    estimate, changes = shop.estimates.create(shop.customer, shop.vehicle)
    assert changes.orders
    assert (estimate.number, estimate.status, estimate.status_label) == ("KVA-2026-0001", "draft", "Entwurf")
    assert estimate.valid_until == TODAY + dt.timedelta(weeks=4)
    assert (estimate.binding, estimate.charged, estimate.fee_net) == (False, False, Decimal("0.00"))
    assert (estimate.customer_name, estimate.plate) == ("Huber, Anna", "M-AB 123")


def test_numbers_run_per_year(shop: Shop) -> None:
    second = shop.estimates.create(shop.customer).estimate
    third = shop.estimates.create(shop.customer).estimate
    next_year = EstimateService(shop.db, today=dt.date(2027, 1, 4)).create(shop.customer).estimate
    assert (second.number, third.number, next_year.number) == ("KVA-2026-0001", "KVA-2026-0002", "KVA-2027-0001")


def test_terms_are_validated(shop: Shop) -> None:
    charged = shop.estimates.create(shop.customer, binding=True, charged=True, fee_net="25,00").estimate
    assert (charged.binding, charged.charged, charged.fee_net) == (True, True, Decimal("25.00"))
    cases = [
        ({"charged": True}, "fee_net", "vereinbarte Gebühr"),
        ({"fee_net": "10"}, "fee_net", "§ 632 Abs. 3 BGB"),
        ({"valid_until": TODAY - dt.timedelta(days=1)}, "valid_until", "Vergangenheit"),
        ({"charged": True, "fee_net": "-5"}, "fee_net", "nicht negativ"),
    ]
    for kwargs, field, text in cases:
        with pytest.raises(ValidationError, match=text) as err:
            shop.estimates.create(shop.customer, **kwargs)  # type: ignore[arg-type]
        assert err.value.field == field
    with pytest.raises(NotFound):
        shop.estimates.create(9999)


def test_set_terms_in_draft_only(shop: Shop) -> None:
    estimate_id = make(shop)
    later = TODAY + dt.timedelta(days=60)
    changed = shop.estimates.set_terms(estimate_id, binding=True, charged=True, fee_net="30", valid_until=later)
    assert (changed.estimate.binding, changed.estimate.fee_net, changed.estimate.valid_until) == (
        True,
        Decimal("30"),
        later,
    )
    with pytest.raises(ValidationError):
        shop.estimates.set_terms(estimate_id, charged=False)  # a fee is still set
    shop.estimates.send(estimate_id)
    with pytest.raises(InvalidTransition, match="„Versendet“ kann nicht mehr geändert werden"):
        shop.estimates.set_terms(estimate_id, notes="zu spät")


# --- status machine --------------------------------------------------------------------------------

ALLOWED = {
    ("draft", "send"): "sent",
    ("draft", "accept"): "accepted",
    ("draft", "reject"): "rejected",
    ("sent", "accept"): "accepted",
    ("sent", "reject"): "rejected",
}
PATH = {"draft": (), "sent": ("send",), "accepted": ("accept",), "rejected": ("reject",)}


def test_transitions_are_written_down_as_in_the_brief() -> None:
    assert TRANSITIONS == {
        ("draft", "sent"),
        ("draft", "accepted"),
        ("sent", "accepted"),
        ("sent", "rejected"),
        ("draft", "rejected"),
    }
    assert {(source, target) for (source, _action), target in ALLOWED.items()} == TRANSITIONS


@pytest.mark.parametrize("status", list(PATH))
@pytest.mark.parametrize("action", ("send", "accept", "reject"))
def test_every_transition_is_allowed_or_refused(shop: Shop, status: str, action: str) -> None:
    estimate_id = make(shop)
    for step in PATH[status]:
        getattr(shop.estimates, step)(estimate_id)
    target = ALLOWED.get((status, action))
    if target is None:
        with pytest.raises(InvalidTransition, match="Ein Kostenvoranschlag im Status"):
            getattr(shop.estimates, action)(estimate_id)
        assert shop.estimates.get(estimate_id).status == status
    else:
        assert getattr(shop.estimates, action)(estimate_id).estimate.status == target


def test_an_empty_estimate_cannot_be_sent_or_accepted(shop: Shop) -> None:
    estimate_id = make(shop, lines=())
    for action in (shop.estimates.send, shop.estimates.accept):
        with pytest.raises(ValidationError, match="hat noch keine Positionen"):
            action(estimate_id)
    assert shop.estimates.reject(estimate_id).estimate.status == "rejected"


def test_lines_editable_only_in_draft(shop: Shop) -> None:
    estimate_id = make(shop)
    line_id = shop.estimates.get(estimate_id).lines[0].id
    shop.estimates.send(estimate_id)
    edits: tuple[Callable[[], object], ...] = (
        lambda: shop.estimates.add_line(estimate_id, LINES[1]),
        lambda: shop.estimates.add_service(estimate_id, shop.brakes),
        lambda: shop.estimates.update_line(line_id, LINES[0]),
        lambda: shop.estimates.remove_line(line_id),
        lambda: shop.estimates.reorder(estimate_id, [line_id]),
    )
    for edit in edits:
        with pytest.raises(InvalidTransition, match="kann nicht mehr geändert werden"):
            edit()
    assert len(shop.estimates.get(estimate_id).lines) == 2


def test_expired_lists_open_estimates_past_their_validity(shop: Shop) -> None:
    short = make(shop, valid_until=TODAY + dt.timedelta(days=3))
    sent = make(shop, valid_until=TODAY + dt.timedelta(days=5))
    shop.estimates.send(sent)
    accepted = make(shop, valid_until=TODAY + dt.timedelta(days=3))
    shop.estimates.accept(accepted)
    make(shop)  # four weeks
    later = TODAY + dt.timedelta(days=10)
    assert [e.id for e in shop.estimates.expired(later)] == [short, sent]
    assert shop.estimates.expired(TODAY + dt.timedelta(days=3)) == []
    assert shop.estimates.get(short).is_expired(later)
    assert not shop.estimates.get(accepted).is_expired(later)


# --- lines and totals ------------------------------------------------------------------------------


def test_totals_per_rate_with_altteilsteuer_and_discount(shop: Shop) -> None:
    estimate = shop.estimates.get(make(shop, lines=LINES))
    nets = [line.net for line in estimate.lines]
    # 6 AW × 120 € ÷ 12 = 60.00; 4.5 l × 12.90 = 58.05; discount 10 % of everything before it.
    assert nets == [
        Decimal("60.00"),
        Decimal("89.90"),
        Decimal("58.05"),
        Decimal("1000.00"),
        Decimal("5.00"),
        Decimal("-121.30"),
    ]
    totals = estimate.totals
    assert totals.net == Decimal("1091.65")
    # 19 %: 1,207.95 + Altteilwert 100.00 − 120.80 discount share; 7 %: 5.00 − 0.50; exempt: Altteil set-off.
    assert totals.net_by_rate == {
        Decimal("19.00"): Decimal("1187.15"),
        Decimal("7.00"): Decimal("4.50"),
        Decimal(0): Decimal("-100.00"),
    }
    assert totals.altteil_tax == Decimal("19.00")  # private customer: 19 % × 10 % × 1,000 €
    assert totals.gross == totals.net + totals.tax
    assert shop.estimates.totals(estimate.id) == totals


def test_business_vehicle_gets_no_altteilsteuer(shop: Shop) -> None:
    estimate = shop.estimates.create(shop.business, shop.business_vehicle, lines=[LINES[3]]).estimate
    assert (estimate.totals.net, estimate.totals.tax, estimate.totals.altteil_tax) == (
        Decimal("1000.00"),
        Decimal("190.00"),
        Decimal("0.00"),
    )


def test_add_service_update_remove_reorder(shop: Shop) -> None:
    estimate_id = make(shop, lines=[LINES[1]])
    added = shop.estimates.add_service(estimate_id, shop.brakes).estimate.lines[-1]
    assert (added.kind, added.aw, added.net, added.position) == ("labour", Decimal("6"), Decimal("60.00"), 2)
    first = shop.estimates.get(estimate_id).lines[0].id
    updated = shop.estimates.update_line(
        first, LineInput(kind="part", text="Beläge hinten", unit_price_net="49")
    ).estimate
    assert (updated.lines[0].text, updated.lines[0].net) == ("Beläge hinten", Decimal("49.00"))
    reordered = shop.estimates.reorder(estimate_id, [added.id, first]).estimate
    assert [line.id for line in reordered.lines] == [added.id, first]
    with pytest.raises(ValidationError) as err:
        shop.estimates.update_line(first, LineInput(kind="part", text="Beläge", unit_price_net="1,999"))
    assert err.value.field == "lines[1].unit_price_net"
    assert [line.id for line in shop.estimates.remove_line(added.id).estimate.lines] == [first]
    with pytest.raises(NotFound):
        shop.estimates.update_line(added.id, LINES[0])


# --- conversion into a work order ------------------------------------------------------------------


def fields(line: object) -> tuple[object, ...]:
    names = (
        "position kind text part_no quantity unit_code unit_label unit_price_net vat_rate aw discount_percent "
        "discount_amount_net service_id mechanic_id proposed net"
    ).split()
    return tuple(getattr(line, name) for name in names)


def test_convert_copies_lines_exactly_and_links_the_order(shop: Shop) -> None:
    lines = (*LINES, LineInput(kind="labour", text="Achsvermessung", aw="8", mechanic_id=shop.mechanic))
    estimate_id = make(shop, lines=lines, charged=True, fee_net="25")
    shop.estimates.send(estimate_id)
    shop.estimates.accept(estimate_id)
    estimate = shop.estimates.get(estimate_id)
    order, changes = shop.estimates.convert_to_order(estimate_id, Intake(mileage_in=80_400, fuel_level="3/4"))
    assert changes.orders and changes.vehicles
    assert (order.estimate_id, order.estimate_number, order.status) == (estimate_id, estimate.number, "draft")
    assert (order.customer_id, order.vehicle_id, order.mileage_in) == (shop.customer, shop.vehicle, 80_400)
    assert [fields(line) for line in order.lines] == [fields(line) for line in estimate.lines]
    assert {line.id for line in order.lines}.isdisjoint(line.id for line in estimate.lines)
    # The KVA fee is credited in practice, so it is not part of the order.
    assert order.totals == estimate.totals
    assert order.overrun.estimate_net == estimate.totals.net and not order.overrun.exceeded
    assert shop.estimates.get(estimate_id).work_order_number == order.number
    assert WorkOrderService(shop.db, today=TODAY).get(order.id).lines == order.lines


@pytest.mark.parametrize("path", [(), ("send",), ("reject",)])
def test_only_accepted_estimates_convert(shop: Shop, path: tuple[str, ...]) -> None:
    estimate_id = make(shop)
    for step in path:
        getattr(shop.estimates, step)(estimate_id)
    with pytest.raises(InvalidTransition, match="Nur ein angenommener Kostenvoranschlag"):
        shop.estimates.convert_to_order(estimate_id)


def test_convert_once_unless_the_order_was_cancelled(shop: Shop) -> None:
    estimate_id = make(shop)
    shop.estimates.accept(estimate_id)
    first = shop.estimates.convert_to_order(estimate_id).order
    with pytest.raises(ConflictError, match=first.number):
        shop.estimates.convert_to_order(estimate_id)
    WorkOrderService(shop.db, today=TODAY).cancel(first.id)
    second = shop.estimates.convert_to_order(estimate_id).order
    assert second.number != first.number
    assert second.estimate_id == estimate_id


def test_every_line_kind_round_trips_through_as_input(shop: Shop) -> None:
    estimate = shop.estimates.get(make(shop, lines=LINES))
    for line in estimate.lines:
        again = shop.estimates.update_line(line.id, line.as_input()).estimate.lines[line.position - 1]
        assert fields(again) == fields(line)
