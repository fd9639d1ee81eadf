"""The service catalogue (Leistungskatalog): search as you type, maintain, import and export.

Prices: an AW (Arbeitswert) is a fraction of an hour, so the AW price is the hourly rate ÷ AW per hour;
a service is priced by AW (parts extra), at a fixed net price, or "ab" (AW price, but at least the
given net price).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.catalog_csv import (
    PARTS_SEPARATOR,
    ServiceRow,
    check_row,
    normalise_row,
    read_catalog_csv,
    write_catalog_csv,
)
from app.changes import Changes
from app.db import Database
from app.errors import ConflictError, NotFound, ValidationError
from app.models.base import utcnow
from app.models.catalog import Service
from app.money import round_money

CATALOG_CHANGED = Changes(catalog=True)


@dataclass(frozen=True)
class ServiceDTO:
    """A catalogue service as plain data."""

    id: int
    code: str
    category: str
    name: str
    aw: Decimal
    parts: tuple[str, ...]
    price_rule: str
    price_net: Decimal | None
    vat_rate: Decimal
    active: bool


@dataclass(frozen=True)
class ServiceSaved:
    """Result of create/update: the stored service and what changed."""

    service: ServiceDTO
    changes: Changes = CATALOG_CHANGED


@dataclass(frozen=True)
class ImportSummary:
    """Result of a CSV import: rows created, rows changed, rows already identical."""

    created: int
    updated: int
    unchanged: int = 0

    @property
    def changes(self) -> Changes:
        """Catalogue changed only if something was written."""
        return Changes(catalog=bool(self.created or self.updated))


class Priced(Protocol):
    """Anything with a price rule: a ServiceDTO or a ServiceRow."""

    @property
    def aw(self) -> Decimal: ...
    @property
    def price_rule(self) -> str: ...
    @property
    def price_net(self) -> Decimal | None: ...


def labour_price(aw: Decimal, labour_rate: Decimal, aw_per_hour: int) -> Decimal:
    """Labour for ``aw`` AW: AW × (hourly rate ÷ AW per hour), rounded half-up to the cent.

    Multiplying before dividing keeps 12 AW/h exact where the AW price itself (e.g. €9.1666…) is not.
    """
    if aw_per_hour <= 0:
        raise ValidationError("AW pro Stunde muss größer als 0 sein.", field="aw_per_hour")
    return round_money(aw * labour_rate / Decimal(aw_per_hour))


def price_for(service: Priced, labour_rate: Decimal, aw_per_hour: int) -> Decimal:
    """The net price shown to customers: fixed price, "ab" price (at least ``price_net``) or AW price."""
    labour = labour_price(service.aw, labour_rate, aw_per_hour)
    if service.price_rule == "fixed" and service.price_net is not None:
        return round_money(service.price_net)
    if service.price_rule == "from" and service.price_net is not None:
        return max(labour, round_money(service.price_net))
    return labour


# ---------------------------------------------------------------------------------------------- search
# Search folds case and accents twice – "Ö" as "o" and as "oe" – so "öl", "oel" and "Öl" all find
# "Ölwechsel", and "er" still finds "Steuer". The folding runs inside SQLite as a Python function;
# lru_cache makes repeated searches over the same rows cheap.

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_NON_WORD = re.compile(r"[\W_]+")


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation as single spaces: "HU/AU-Vorführung" → "hu au vorfuhrung"."""
    return _NON_WORD.sub(" ", _strip_accents(text.casefold())).strip()


def fold_expanded(text: str) -> str:
    """Like :func:`fold`, but umlauts spelled out: "Öl" → "oel"."""
    return _NON_WORD.sub(" ", _strip_accents(text.casefold().translate(_UMLAUTS))).strip()


@functools.lru_cache(maxsize=65536)
def _haystack(code: str, category: str, name: str, parts: str) -> str:
    body = f"{code} {category} {name} {parts}"
    plain, expanded = fold(body), fold_expanded(body)
    compact_code = fold(code).replace(" ", "")
    return f" {plain} {compact_code} | {expanded} " if expanded != plain else f" {plain} {compact_code} "


@functools.lru_cache(maxsize=256)
def _parse_pattern(pattern: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    compact, _sep, joined = pattern.partition("\n")
    pairs = []
    for token in joined.split("\t"):
        if token:
            plain, _sep, expanded = token.partition("\x1f")
            pairs.append((plain, expanded))
    return compact, tuple(pairs)


def _query_pattern(text: str) -> str:
    """The query as one SQL parameter: compact code, then each token in plain and umlaut-expanded form."""
    plain, expanded = fold(text).split(), fold_expanded(text).split()
    if len(expanded) != len(plain):  # cannot happen with today's folding; stay correct if it ever does
        expanded = plain
    tokens = dict.fromkeys(f"{p}\x1f{e}" for p, e in zip(plain, expanded, strict=True))
    return "".join(plain) + "\n" + "\t".join(tokens)


def _sql_match(code: str, category: str, name: str, parts: str, pattern: str) -> int:
    hay = _haystack(code, category, name, parts)
    _compact, tokens = _parse_pattern(pattern)
    return int(all(p in hay or e in hay for p, e in tokens))


@functools.lru_cache(maxsize=65536)
def _name_forms(name: str) -> tuple[str, str]:
    return f" {fold(name)} ", f" {fold_expanded(name)} "


def _sql_rank(code: str, category: str, name: str, pattern: str) -> int:
    """Sort key, best first: the name rank ×2, +1 unless a query word is in the category too
    ("oel" puts the Ölservice before "Ölfilter entsorgen")."""
    _compact, tokens = _parse_pattern(pattern)
    plain, expanded = _name_forms(category)
    in_category = any(p in plain or e in expanded for p, e in tokens)
    return 2 * _name_rank(code, name, pattern) + (0 if in_category else 1)


def _name_rank(code: str, name: str, pattern: str) -> int:
    """0 code typed exactly, 1 code prefix, 2 name starts with the whole query, 3 name starts with the
    first word and every word starts a name word, 4 every word starts a name word, 5 every word is in
    the name, 6 found only in category, parts or code."""
    compact, tokens = _parse_pattern(pattern)
    code_compact = fold(code).replace(" ", "")
    if compact and code_compact == compact:
        return 0
    if compact and code_compact.startswith(compact):
        return 1
    plain, expanded = _name_forms(name)
    if plain.startswith(" " + " ".join(p for p, _e in tokens)) or expanded.startswith(
        " " + " ".join(e for _p, e in tokens)
    ):
        return 2
    word_starts = all(f" {p}" in plain or f" {e}" in expanded for p, e in tokens)
    if word_starts and tokens and (plain.startswith(" " + tokens[0][0]) or expanded.startswith(" " + tokens[0][1])):
        return 3
    if word_starts:
        return 4
    return 5 if all(p in plain or e in expanded for p, e in tokens) else 6


def _register_functions(session: Session) -> None:
    # Registered on the pooled connection each time: cheap, and no engine-wide hook needed in db.py.
    raw: Any = session.connection().connection.driver_connection
    raw.create_function("carbot_catalog_match", 5, _sql_match, deterministic=True)
    raw.create_function("carbot_catalog_rank", 4, _sql_rank, deterministic=True)


# ---------------------------------------------------------------------------------------------- service


def _dto(row: Service) -> ServiceDTO:
    return ServiceDTO(
        id=row.id,
        code=row.code,
        category=row.category,
        name=row.name,
        aw=row.aw,
        parts=tuple(p for p in row.parts.split(PARTS_SEPARATOR) if p),
        price_rule=row.price_rule,
        price_net=row.price_net,
        vat_rate=row.vat_rate,
        active=row.active,
    )


def _columns(row: ServiceRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "category": row.category,
        "name": row.name,
        "aw": row.aw,
        "parts": PARTS_SEPARATOR.join(row.parts),
        "price_rule": row.price_rule,
        "price_net": row.price_net,
        "vat_rate": row.vat_rate,
    }


def _validated(data: ServiceRow) -> ServiceRow:
    row = normalise_row(data)
    issues = check_row(row)
    if issues:
        field, message, params = issues[0]
        raise ValidationError(message, field=field, **params)
    return row


class CatalogService:
    """Use cases of the service catalogue; each public method is one unit of work."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reading

    def get(self, service_id: int) -> ServiceDTO:
        """One service by id; NotFound if there is none."""
        with self._db.unit() as s:
            row = s.get(Service, service_id)
            if row is None:
                raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
            return _dto(row)

    def get_by_code(self, code: str) -> ServiceDTO:
        """One service by its code (e.g. "BR-0001"); NotFound if there is none."""
        with self._db.unit() as s:
            row = s.scalars(select(Service).where(Service.code == code.strip())).first()
            if row is None:
                raise NotFound("Die Leistung mit der Nummer „{code}“ gibt es nicht.", code=code)
            return _dto(row)

    def search(
        self, text: str, *, category: str | None = None, limit: int = 50, include_inactive: bool = False
    ) -> list[ServiceDTO]:
        """Services whose code, name, category or parts contain every word of ``text``.

        Case- and umlaut-insensitive; best matches first (exact code, name starting with the query);
        an empty query lists the catalogue by category.
        """
        pattern = _query_pattern(text)
        stmt = select(Service)
        if not include_inactive:
            stmt = stmt.where(Service.active.is_(True))
        if category:
            stmt = stmt.where(Service.category == category)
        with self._db.unit() as s:
            if pattern.strip():
                _register_functions(s)
                stmt = stmt.where(
                    func.carbot_catalog_match(Service.code, Service.category, Service.name, Service.parts, pattern) == 1
                ).order_by(
                    func.carbot_catalog_rank(Service.code, Service.category, Service.name, pattern), Service.code
                )
            else:
                stmt = stmt.order_by(Service.category, Service.code)
            return [_dto(row) for row in s.scalars(stmt.limit(limit))]

    def categories(self) -> list[str]:
        """The categories of active services, alphabetically (umlauts sorted like their base letter)."""
        with self._db.unit() as s:
            names = s.scalars(select(Service.category).where(Service.active.is_(True)).distinct()).all()
        return sorted(names, key=lambda n: (fold(n), n))

    def count(self, *, active_only: bool = False) -> int:
        """Number of services in the catalogue."""
        stmt = select(func.count(Service.id))
        if active_only:
            stmt = stmt.where(Service.active.is_(True))
        with self._db.unit() as s:
            return int(s.scalar(stmt) or 0)

    # -- writing

    def create(self, data: ServiceRow) -> ServiceSaved:
        """Add a service; ValidationError for bad fields, ConflictError if the code is taken."""
        row = _validated(data)
        with self._db.unit() as s:
            self._ensure_code_free(s, row.code, None)
            service = Service(**_columns(row), active=True if row.active is None else row.active)
            s.add(service)
            s.flush()
            return ServiceSaved(_dto(service))

    def update(self, service_id: int, data: ServiceRow) -> ServiceSaved:
        """Replace a service's fields (``active`` only if given)."""
        row = _validated(data)
        with self._db.unit() as s:
            service = s.get(Service, service_id)
            if service is None:
                raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
            self._ensure_code_free(s, row.code, service_id)
            for key, value in _columns(row).items():
                setattr(service, key, value)
            if row.active is not None:
                service.active = row.active
            s.flush()
            return ServiceSaved(_dto(service))

    def deactivate(self, service_id: int) -> Changes:
        """Hide a service from search and booking; kept for old appointments and invoices."""
        return self._set_active(service_id, False)

    def activate(self, service_id: int) -> Changes:
        """Offer a deactivated service again."""
        return self._set_active(service_id, True)

    def _set_active(self, service_id: int, active: bool) -> Changes:
        with self._db.unit() as s:
            service = s.get(Service, service_id)
            if service is None:
                raise NotFound("Die Leistung {id} gibt es nicht.", id=service_id)
            service.active = active
        return CATALOG_CHANGED

    @staticmethod
    def _ensure_code_free(s: Session, code: str, own_id: int | None) -> None:
        other = s.scalar(select(Service.id).where(Service.code == code))
        if other is not None and other != own_id:
            raise ConflictError("Die Nummer „{code}“ ist schon vergeben.", code=code)

    # -- files

    def load_defaults(self) -> int:
        """Import the shipped catalogue if the catalogue is empty; returns the number of rows imported."""
        if self.count():
            return 0
        data = (resources.files("resources") / "catalog" / "services.csv").read_bytes()
        return self._upsert(read_catalog_csv(data)).created

    def import_csv(self, source: Path | str | bytes) -> ImportSummary:
        """Import a catalogue file (path or bytes) as an upsert by code, all or nothing.

        Raises ImportRejected listing every problem (row, column, message); then nothing is written.
        """
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        return self._upsert(read_catalog_csv(data))

    def export_csv(self, path: Path | str) -> int:
        """Write the whole catalogue (inactive services too) as Excel-friendly CSV; returns the row count."""
        with self._db.unit() as s:
            services = [_dto(row) for row in s.scalars(select(Service).order_by(Service.id))]
        rows = [
            ServiceRow(
                code=d.code,
                category=d.category,
                name=d.name,
                aw=d.aw,
                parts=d.parts,
                price_rule=d.price_rule,
                price_net=d.price_net,
                vat_rate=d.vat_rate,
                active=d.active,
            )
            for d in services
        ]
        Path(path).write_bytes(write_catalog_csv(rows))
        return len(rows)

    def _upsert(self, rows: list[ServiceRow]) -> ImportSummary:
        """Insert new codes, update changed ones – two bulk statements in one transaction.

        Core executemany on the table, not ORM objects: 10,000 rows in a fraction of a second.
        """
        table = cast(Table, Service.__table__)
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        unchanged = 0
        with self._db.unit() as s:
            existing = {r.code: r for r in s.execute(select(table))}
            for row in rows:
                values = _columns(row)
                old = existing.get(row.code)
                values["active"] = (old is None or old.active) if row.active is None else row.active
                if old is None:
                    inserts.append({**values, "created_at": now, "updated_at": now})
                elif any(getattr(old, key) != value for key, value in values.items()):
                    updates.append({**values, "_id": old.id, "updated_at": now})
                else:
                    unchanged += 1
            if inserts:
                s.execute(insert(table), inserts)
            if updates:
                s.execute(update(table).where(table.c.id == bindparam("_id")), updates)
        return ImportSummary(created=len(inserts), updated=len(updates), unchanged=unchanged)
