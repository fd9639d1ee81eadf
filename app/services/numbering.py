"""Invoice number ranges (INV-03/04): one range per location or device with a prefix, numbers like
``W1-2026-000123`` assigned only at finalising, inside the finalising transaction.

The counter is advanced with one atomic ``UPDATE … RETURNING`` statement, and ``invoice.number`` is
UNIQUE, so two processes can never hand out the same number; a rolled-back finalisation gives its
number back (no gap for abandoned drafts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import ConflictError, NotFound, ValidationError
from app.models import NumberCounter, NumberRange

_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")
DEFAULT_PREFIX = "W1"


@dataclass(frozen=True)
class RangeDTO:
    """A number range and whether its start value is still changeable."""

    id: int
    prefix: str
    start_value: int
    active: bool
    used: bool


def format_number(prefix: str, year: int, value: int) -> str:
    """W1-2026-000123."""
    return f"{prefix}-{year}-{value:06d}"


def _validate_prefix(prefix: str) -> str:
    prefix = prefix.strip().upper()
    if not _PREFIX.match(prefix):
        raise ValidationError(
            "Das Präfix „{prefix}“ ist ungültig – 1 bis 6 Zeichen, Großbuchstaben und Ziffern, beginnend mit einem "
            "Buchstaben (z. B. W1).",
            field="prefix",
            prefix=prefix,
        )
    return prefix


def default_range_in(session: Session) -> NumberRange:
    """The active range with the lowest id; created as W1 starting at 1 on first use."""
    rng = session.scalars(select(NumberRange).where(NumberRange.active.is_(True)).order_by(NumberRange.id)).first()
    if rng is None:
        rng = NumberRange(prefix=DEFAULT_PREFIX, start_value=1)
        session.add(rng)
        session.flush()
    return rng


def range_id_in(session: Session, prefix: str) -> int:
    """The id of the active range with ``prefix`` (any case); NotFound for an unknown or inactive one."""
    wanted = prefix.strip().upper()
    rng = session.scalar(select(NumberRange).where(NumberRange.prefix == wanted, NumberRange.active.is_(True)))
    if rng is None:
        raise NotFound("Den Nummernkreis „{prefix}“ gibt es nicht.", prefix=wanted)
    return rng.id


def allocate_in(session: Session, rng: NumberRange, year: int) -> str:
    """The next number of ``rng`` in ``year``, advanced atomically in the caller's transaction."""
    used_before = session.scalar(
        select(func.count()).select_from(NumberCounter).where(NumberCounter.range_id == rng.id)
    )
    first = rng.start_value if not used_before else 1
    session.execute(
        text("INSERT OR IGNORE INTO number_counter(range_id, year, next_value) VALUES (:r, :y, :n)"),
        {"r": rng.id, "y": year, "n": first},
    )
    value = session.execute(
        text(
            "UPDATE number_counter SET next_value = next_value + 1 WHERE range_id = :r AND year = :y "
            "RETURNING next_value - 1"
        ),
        {"r": rng.id, "y": year},
    ).scalar_one()
    return format_number(rng.prefix, year, int(value))


class NumberingService:
    """Set up number ranges; the start value can be set once, before the first number is issued."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def ranges(self) -> list[RangeDTO]:
        """All ranges."""
        with self._db.unit() as s:
            used = set(s.scalars(select(NumberCounter.range_id)))
            return [
                RangeDTO(r.id, r.prefix, r.start_value, r.active, r.id in used)
                for r in s.scalars(select(NumberRange).order_by(NumberRange.id))
            ]

    def create_range(self, prefix: str, start_value: int = 1) -> RangeDTO:
        """A new range (e.g. per location or second counter PC)."""
        prefix = _validate_prefix(prefix)
        if start_value < 1:
            raise ValidationError("Der Startwert muss mindestens 1 sein.", field="start_value")
        with self._db.unit() as s:
            if s.scalar(select(NumberRange).where(NumberRange.prefix == prefix)):
                raise ConflictError("Den Nummernkreis „{prefix}“ gibt es schon.", prefix=prefix)
            rng = NumberRange(prefix=prefix, start_value=start_value)
            s.add(rng)
            s.flush()
            return RangeDTO(rng.id, rng.prefix, rng.start_value, rng.active, False)

    def set_start_value(self, prefix: str, start_value: int) -> RangeDTO:
        """Set the start value (e.g. when migrating from another program) – only before the first number."""
        prefix = _validate_prefix(prefix)
        with self._db.unit() as s:
            rng = s.scalar(select(NumberRange).where(NumberRange.prefix == prefix))
            if rng is None:
                raise NotFound("Den Nummernkreis „{prefix}“ gibt es nicht.", prefix=prefix)
            if s.scalar(select(func.count()).select_from(NumberCounter).where(NumberCounter.range_id == rng.id)):
                raise ConflictError(
                    "Der Startwert von „{prefix}“ ist schon festgelegt – es wurden bereits Rechnungen nummeriert.",
                    prefix=prefix,
                )
            if start_value < 1:
                raise ValidationError("Der Startwert muss mindestens 1 sein.", field="start_value")
            rng.start_value = start_value
            return RangeDTO(rng.id, rng.prefix, rng.start_value, rng.active, False)
