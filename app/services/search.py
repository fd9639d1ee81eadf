"""One search box for everything: customers, vehicles, plates and VIN fragments, as you type.

Backed by the SQLite FTS5 table ``search_index`` kept current by triggers (migration 0001):
rowid = customer.id*2 for customers and vehicle.id*2+1 for vehicles. Every typed word must match
the start of a word; "M AB 12" additionally matches the compact plate "MAB12…".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Customer, Vehicle
from app.services.customers import display_name

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    """One result row: a customer or a vehicle (with its owner)."""

    kind: str  # "customer" | "vehicle"
    id: int
    title: str
    subtitle: str
    customer_id: int | None
    vehicle_id: int | None


def fts_query(typed: str) -> str | None:
    """The FTS5 MATCH expression for what the user typed (None when there is nothing to search)."""
    tokens = [t for t in _TOKEN.findall(typed) if t]
    if not tokens:
        return None
    quoted = [f'"{t}"*' for t in tokens]
    query = " AND ".join(quoted)
    if len(tokens) > 1:
        # "M AB 12" also finds the compact plate key "MAB12".
        query = f'({query}) OR "{"".join(tokens)}"*'
    return query


class SearchService:
    """Search as you type over customers and vehicles."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def search(self, typed: str, *, limit: int = 30) -> list[SearchHit]:
        """Hits for ``typed``, vehicles first when the text looks like a plate or VIN."""
        query = fts_query(typed)
        if query is None:
            return []
        with self._db.unit() as s:
            rowids = [
                r[0]
                for r in s.execute(
                    text("SELECT rowid FROM search_index WHERE search_index MATCH :q LIMIT :n"),
                    {"q": query, "n": limit},
                )
            ]
            customer_ids = [r // 2 for r in rowids if r % 2 == 0]
            vehicle_ids = [r // 2 for r in rowids if r % 2 == 1]
            hits = self._vehicle_hits(s, vehicle_ids) + self._customer_hits(s, customer_ids)
        return hits

    @staticmethod
    def _customer_hits(s: Session, ids: list[int]) -> list[SearchHit]:
        if not ids:
            return []
        rows = s.execute(
            select(
                Customer.id,
                Customer.number,
                Customer.kind,
                Customer.company,
                Customer.first_name,
                Customer.last_name,
                Customer.postcode,
                Customer.city,
                Customer.phone,
            ).where(Customer.id.in_(ids), Customer.restricted_at.is_(None))
        ).all()
        by_id = {r.id: r for r in rows}
        hits = []
        for cid in ids:
            r = by_id.get(cid)
            if r is None:
                continue
            place = " ".join(p for p in (r.postcode, r.city) if p)
            subtitle = " · ".join(p for p in (r.number, place, r.phone) if p)
            name = display_name(r.kind, r.company, r.first_name, r.last_name)
            hits.append(SearchHit("customer", r.id, name, subtitle, r.id, None))
        return hits

    @staticmethod
    def _vehicle_hits(s: Session, ids: list[int]) -> list[SearchHit]:
        if not ids:
            return []
        rows = s.execute(
            select(
                Vehicle.id,
                Vehicle.plate,
                Vehicle.make,
                Vehicle.model,
                Vehicle.vin,
                Vehicle.customer_id,
                Customer.kind,
                Customer.company,
                Customer.first_name,
                Customer.last_name,
                Customer.restricted_at,
            )
            .outerjoin(Customer, Customer.id == Vehicle.customer_id)
            .where(Vehicle.id.in_(ids))
        ).all()
        by_id = {r.id: r for r in rows}
        hits = []
        for vid in ids:
            r = by_id.get(vid)
            if r is None or r.restricted_at is not None:
                continue
            car = " ".join(p for p in (r.make, r.model) if p)
            owner = display_name(r.kind, r.company, r.first_name, r.last_name) if r.customer_id else ""
            title = " · ".join(p for p in (r.plate or r.vin, car) if p)
            subtitle = " · ".join(p for p in (owner, r.vin) if p)
            hits.append(SearchHit("vehicle", r.id, title, subtitle, r.customer_id, r.id))
        return hits
