"""Stored lines and lookups inside a unit of work, shared by the estimate and work order services:
adding, copying, renumbering and reordering lines, line DTOs, the workshop's labour rate and tax context,
document numbers, customer and vehicle checks."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import NotFound, ValidationError
from app.i18n import N_
from app.models import Customer, Mechanic, OrderLine, Service, Vehicle
from app.services.customers import display_name
from app.services.order_lines import LabourRate, LineDTO, LineInput, Totals, clean_line, compute_totals
from app.services.settings import workshop_row
from app.tax import TaxContext


def _fail(message_id: str, index: int, name: str, **params: object) -> ValidationError:
    field = f"lines[{index}].{name}"  # outside the call: the gettext extractor warns about f-strings in it
    return ValidationError(message_id, field=field, position=index + 1, **params)


def labour_rate(session: Session) -> LabourRate:
    """The workshop's current hourly rate and AW per hour."""
    ws = workshop_row(session)
    return LabourRate(ws.labour_rate_net, ws.aw_per_hour or 10)


def tax_context(session: Session, customer_id: int | None, vehicle_id: int | None) -> TaxContext:
    """Who is taxed how – the same rules as the invoice (business vehicle, EU reverse charge, §19)."""
    ws = workshop_row(session)
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    vehicle = session.get(Vehicle, vehicle_id) if vehicle_id is not None else None
    business = customer is not None and customer.kind == "business"
    return TaxContext(
        customer_business=business,
        business_vehicle=business and (vehicle.business_use if vehicle is not None else True),
        customer_country=(customer.country if customer else "DE") or "DE",
        customer_vat_id=(customer.vat_id if customer else "") or "",
        seller_country=ws.country or "DE",
        kleinunternehmer=ws.kleinunternehmer,
    )


# ------------------------------------------------------------------------------------- stored lines


def sorted_lines(lines: Sequence[OrderLine]) -> list[OrderLine]:
    """Lines by position (a just-changed relationship list may not be in order yet)."""
    return sorted(lines, key=lambda row: (row.position, row.id or 0))


def check_refs(session: Session, line: LineInput, index: int) -> None:
    """The catalogue service and the mechanic a line names must exist; the mechanic must be active."""
    if line.service_id is not None and session.get(Service, line.service_id) is None:
        raise _fail(
            N_("Position {position}: Die Leistung {id} gibt es nicht."), index, "service_id", id=line.service_id
        )
    if line.mechanic_id is not None:
        mechanic = session.get(Mechanic, line.mechanic_id)
        if mechanic is None or not mechanic.active:
            raise _fail(
                N_("Position {position}: Den Monteur {id} gibt es nicht (oder er ist deaktiviert)."),
                index,
                "mechanic_id",
                id=line.mechanic_id,
            )


def write_line(row: OrderLine, line: LineInput) -> None:
    """Copy a cleaned line onto a stored row (``aw_actual`` and the parent stay)."""
    row.kind, row.text, row.part_no = line.kind, line.text, line.part_no
    row.quantity = Decimal(line.quantity)
    row.unit_code, row.unit_label = line.unit_code, line.unit_label
    row.unit_price_net = None if line.unit_price_net is None else Decimal(line.unit_price_net)
    row.vat_rate = Decimal(line.vat_rate)
    row.aw = None if line.aw is None else Decimal(line.aw)
    row.discount_percent = None if line.discount_percent is None else Decimal(line.discount_percent)
    row.discount_amount_net = None if line.discount_amount_net is None else Decimal(line.discount_amount_net)
    row.service_id, row.mechanic_id, row.proposed = line.service_id, line.mechanic_id, line.proposed


def add_line_in(session: Session, lines: list[OrderLine], line: LineInput) -> OrderLine:
    """Validate ``line`` and append it to a parent's ``lines`` as the last position."""
    index = len(lines)
    clean = clean_line(line, index)
    check_refs(session, clean, index)
    row = OrderLine(position=index + 1)
    write_line(row, clean)
    lines.append(row)
    return row


def copy_line(source: OrderLine) -> OrderLine:
    """A copy of a line for another parent (estimate → order); actual AW start empty."""
    row = OrderLine(position=source.position, aw_actual=None)
    for name in (
        "kind text part_no quantity unit_code unit_label unit_price_net vat_rate aw discount_percent "
        "discount_amount_net service_id mechanic_id proposed"
    ).split():
        setattr(row, name, getattr(source, name))
    return row


def renumber(lines: Sequence[OrderLine]) -> None:
    """Positions 1..n in the current order."""
    for position, row in enumerate(sorted_lines(lines), start=1):
        row.position = position


def reorder_lines(lines: Sequence[OrderLine], line_ids: Sequence[int]) -> None:
    """Put the lines into the order of ``line_ids``, which must name each line exactly once."""
    if sorted(line_ids) != sorted(row.id for row in lines):
        raise ValidationError("Die neue Reihenfolge muss jede Position genau einmal enthalten.", field="line_ids")
    by_id = {row.id: row for row in lines}
    for position, line_id in enumerate(line_ids, start=1):
        by_id[line_id].position = position


def line_dtos(session: Session, lines: Sequence[OrderLine], nets: Sequence[Decimal]) -> tuple[LineDTO, ...]:
    """DTOs of the lines (in position order, matching ``nets``) with mechanic names."""
    ids = {row.mechanic_id for row in lines if row.mechanic_id is not None}
    names = {m.id: m.name for m in session.scalars(select(Mechanic).where(Mechanic.id.in_(ids)))} if ids else {}
    return tuple(
        LineDTO(
            id=row.id,
            position=row.position,
            kind=row.kind,
            text=row.text,
            part_no=row.part_no,
            quantity=row.quantity,
            unit_code=row.unit_code,
            unit_label=row.unit_label,
            unit_price_net=row.unit_price_net,
            vat_rate=row.vat_rate,
            aw=row.aw,
            aw_actual=row.aw_actual,
            discount_percent=row.discount_percent,
            discount_amount_net=row.discount_amount_net,
            service_id=row.service_id,
            mechanic_id=row.mechanic_id,
            mechanic_name=names.get(row.mechanic_id, "") if row.mechanic_id is not None else "",
            proposed=row.proposed,
            net=net,
        )
        for row, net in zip(lines, nets, strict=True)
    )


# ------------------------------------------------------------------------------------ shared lookups


def next_number(session: Session, column: InstrumentedAttribute[str], prefix: str, width: int) -> str:
    """The next number after the highest one starting with ``prefix`` ("KVA-2026-" → "KVA-2026-0001")."""
    taken = session.scalars(select(column).where(column.like(f"{prefix}%")))
    tails = (number[len(prefix) :] for number in taken)
    highest = max((int(tail) for tail in tails if tail.isdigit()), default=0)
    return f"{prefix}{highest + 1:0{width}d}"


def customer_in(session: Session, customer_id: int) -> Customer:
    """An active customer; NotFound for unknown or GDPR-restricted ones (no new business with them)."""
    row = session.get(Customer, customer_id)
    if row is None or row.restricted_at is not None:
        raise NotFound("Den Kunden {id} gibt es nicht (oder er ist gesperrt).", id=customer_id)
    return row


def vehicle_in(session: Session, vehicle_id: int) -> Vehicle:
    """A vehicle or NotFound."""
    row = session.get(Vehicle, vehicle_id)
    if row is None:
        raise NotFound("Das Fahrzeug {id} gibt es nicht.", id=vehicle_id)
    return row


def party_names(session: Session, customer_id: int | None, vehicle_id: int | None) -> tuple[str, str]:
    """(customer name, plate) for lists; a restricted customer shows no name (Art. 18 DSGVO)."""
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    vehicle = session.get(Vehicle, vehicle_id) if vehicle_id is not None else None
    name = ""
    if customer is not None and customer.restricted_at is None:
        name = display_name(customer.kind, customer.company, customer.first_name, customer.last_name)
    return name, vehicle.plate if vehicle is not None else ""


def compute_totals_in(
    session: Session, lines: Sequence[OrderLine], customer_id: int | None, vehicle_id: int | None
) -> tuple[Totals, tuple[LineDTO, ...]]:
    """Totals and line DTOs of ``lines`` (in position order) for this customer and vehicle."""
    ctx = tax_context(session, customer_id, vehicle_id)
    totals, nets = compute_totals(lines, labour_rate(session), ctx)
    return totals, line_dtos(session, lines, nets)
