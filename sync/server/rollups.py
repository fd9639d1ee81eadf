"""Roll-ups of the daily facts across an organisation's locations, computed on the server only.

Source: ``sync_daily_facts`` (one row per location and day, pushed by the desktops as ``daily_fact``
records, see ``sync.protocol.DailyFacts``). Sums are taken in Python with ``Decimal`` over the stored
values, never with SQL ``SUM`` (SQLite would add binary floats), and leave as decimal strings with two
places. Revenue stays split per VAT rate (rates compared by value: ``19`` and ``19.00`` are one rate).

Who may ask (``GET /v1/rollups``): owners and auditors. Figures of more than one location need the
Enterprise feature ``multi_location_rollups``; a single location (an organisation with one location,
or ``location_id=`` given) needs only ``basic_reports``, which read-only mode keeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.plans import Feature
from sync.server.auth.tokens import Principal
from sync.server.errors import Forbidden, NotFound, Unprocessable
from sync.server.models import Location, Role
from sync.server.plans_gate import ensure_feature
from sync.server.sync_models import DailyFactRow

MAX_DAYS = 366
"""Longest period one request may cover (a year, leap day included)."""

Group = Literal["location", "day"]
MONEY_FIELDS = ("net_total", "tax_total", "gross_total", "altteil_tax", "aw_sold", "labour_net", "parts_net",
                "other_net")  # fmt: skip
COUNT_FIELDS = ("invoice_count", "storno_count", "new_customers", "appointments", "chats", "leads")
CENT = Decimal("0.01")
DecimalText = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1234.50"])]


def _text(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


class RateFigures(BaseModel):
    """Revenue of one VAT rate (decimal strings, two places)."""

    vat_rate: DecimalText
    net: DecimalText
    tax: DecimalText
    gross: DecimalText


class Figures(BaseModel):
    """Summed daily facts (field meanings as in ``sync.protocol.DailyFacts``); amounts and AW as strings."""

    revenue: list[RateFigures]
    net_total: DecimalText
    tax_total: DecimalText
    gross_total: DecimalText
    altteil_tax: DecimalText
    aw_sold: DecimalText
    labour_net: DecimalText
    parts_net: DecimalText
    other_net: DecimalText
    invoice_count: int
    storno_count: int
    new_customers: int
    appointments: int
    chats: int
    leads: int
    days_reported: int
    """How many (location, day) fact rows went into these figures."""


class RollupGroup(BaseModel):
    """The figures of one location (``group=location``) or one calendar day (``group=day``)."""

    location_id: str | None = None
    location_name: str | None = None
    date: dt.date | None = None
    figures: Figures


class RollupResponse(BaseModel):
    """Roll-up of ``from``..``to`` (both inclusive) with the total over every group."""

    date_from: dt.date
    date_to: dt.date
    group: Group
    currency: Literal["EUR"] = "EUR"
    location_ids: list[str]
    total: Figures
    groups: list[RollupGroup]


@dataclass
class _Sum:
    money: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(MONEY_FIELDS, Decimal(0)))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    rates: dict[Decimal, list[Decimal]] = field(default_factory=dict)  # rate -> [net, tax, gross]
    rows: int = 0

    def add(self, row: DailyFactRow) -> None:
        for name in MONEY_FIELDS:
            self.money[name] += Decimal(getattr(row, name))
        for name in COUNT_FIELDS:
            self.counts[name] += int(getattr(row, name))
        for item in row.revenue or []:
            totals = self.rates.setdefault(Decimal(str(item["vat_rate"])), [Decimal(0)] * 3)
            for index, key in enumerate(("net", "tax", "gross")):
                totals[index] += Decimal(str(item[key]))
        self.rows += 1

    def figures(self) -> Figures:
        revenue = [
            RateFigures(vat_rate=_text(rate), net=_text(net), tax=_text(tax), gross=_text(gross))
            for rate, (net, tax, gross) in sorted(self.rates.items(), reverse=True)
        ]
        money = {name: _text(value) for name, value in self.money.items()}
        return Figures.model_validate({"revenue": revenue, **money, **self.counts, "days_reported": self.rows})


def _scope(session: Session, principal: Principal, location_id: str | None) -> list[Location]:
    query = select(Location).where(Location.organization_id == principal.organization_id)
    if location_id is not None:
        query = query.where(Location.id == location_id)
    locations = list(session.scalars(query.order_by(Location.name, Location.id)))
    if location_id is not None and not locations:
        raise NotFound("Standort nicht gefunden.")
    return locations


def rollup(
    session: Session,
    principal: Principal,
    *,
    date_from: dt.date,
    date_to: dt.date,
    group: Group,
    location_id: str | None,
    now: dt.datetime,
) -> RollupResponse:
    """The organisation's figures of ``date_from``..``date_to`` grouped by location or by day."""
    if not principal.is_user or principal.role not in (Role.OWNER, Role.AUDITOR):
        raise Forbidden("Standortübergreifende Kennzahlen sehen nur Inhaber und Prüfer.")
    if date_to < date_from:
        raise Unprocessable("Das Enddatum liegt vor dem Startdatum.", field="to")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise Unprocessable("Der Zeitraum darf höchstens {days} Tage umfassen.", field="to", days=MAX_DAYS)
    locations = _scope(session, principal, location_id)
    feature = Feature.MULTI_LOCATION_ROLLUPS if len(locations) > 1 else Feature.BASIC_REPORTS
    ensure_feature(session, principal.organization_id, feature, now=now)
    ids = [location.id for location in locations]
    rows = session.scalars(
        select(DailyFactRow).where(
            DailyFactRow.organization_id == principal.organization_id,
            DailyFactRow.location_id.in_(ids),
            DailyFactRow.day >= date_from,
            DailyFactRow.day <= date_to,
        )
    ).all()
    total = _Sum()
    for row in rows:
        total.add(row)
    groups = _by_location(locations, rows) if group == "location" else _by_day(rows)
    return RollupResponse(date_from=date_from, date_to=date_to, group=group, location_ids=ids,
                          total=total.figures(), groups=groups)  # fmt: skip


def _by_location(locations: list[Location], rows: Iterable[DailyFactRow]) -> list[RollupGroup]:
    """Every location in scope by name, also those without facts in the period (all zero)."""
    sums = {location.id: _Sum() for location in locations}
    for row in rows:
        sums[row.location_id].add(row)
    return [
        RollupGroup(location_id=location.id, location_name=location.name, figures=sums[location.id].figures())
        for location in locations
    ]


def _by_day(rows: Iterable[DailyFactRow]) -> list[RollupGroup]:
    """Days with at least one location's facts, oldest first."""
    sums: dict[dt.date, _Sum] = {}
    for row in rows:
        sums.setdefault(row.day, _Sum()).add(row)
    return [RollupGroup(date=day, figures=sums[day].figures()) for day in sorted(sums)]
