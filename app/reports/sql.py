"""Small SQL helpers shared by the report modules.

Reports aggregate in SQL (GROUP BY), never by loading invoice rows into Python. Amounts are summed as
integer cents: SQLite keeps NUMERIC values with decimals as floats and would add them as floats. Dates
are bound and compared as ISO text, the way SQLAlchemy stores ``Date`` columns in SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.calendar_rules import DEFAULT_OPENING_HOURS
from app.models import Workshop

# Final invoices and Stornorechnungen count; drafts never do.
FINAL: Final = "i.status = 'final'"
# +1 for an invoice, -1 for a Stornorechnung: counts net the way amounts do.
SIGN: Final = "CASE WHEN i.kind = 'storno' THEN -1 ELSE 1 END"


def cents(column: str) -> str:
    """SQL for ``column`` (euros, NUMERIC) as exact integer cents."""
    return f"CAST(round({column} * 100) AS INTEGER)"


def hundredths(column: str) -> str:
    """SQL for an AW column as integer hundredths of an AW (AW have two decimals)."""
    return f"CAST(round(coalesce({column}, 0) * 100) AS INTEGER)"


def iso(day: dt.date) -> str:
    """A date bound as SQLite stores it."""
    return day.isoformat()


def day_of(value: Any) -> dt.date:
    """A date read back from a raw SQL result (ISO text, or already a date)."""
    if isinstance(value, dt.date):
        return value
    return _parse_day(str(value))


@lru_cache(maxsize=8192)
def _parse_day(text_: str) -> dt.date:
    # Reports read the same few thousand days over and over (per day, per status, per mechanic).
    return dt.date.fromisoformat(text_[:10])


def fetch(session: Session, sql: str, **params: Any) -> Sequence[Any]:
    """Run one read-only statement with named parameters (dates as ISO text); the rows unpack like tuples."""
    bound = {key: iso(value) if isinstance(value, dt.date) else value for key, value in params.items()}
    return session.execute(text(sql), bound).all()


def fetch_one(session: Session, sql: str, **params: Any) -> Any:
    """The single row of an aggregate statement."""
    return fetch(session, sql, **params)[0]


@dataclass(frozen=True)
class ShopSettings:
    """The workshop settings the reports need (name, opening hours JSON, Bundesland, AW per hour)."""

    name: str = ""
    opening_hours: str = DEFAULT_OPENING_HOURS.to_json()
    bundesland: str = "BY"
    aw_per_hour: int = 10


def shop_settings(session: Session) -> ShopSettings:
    """Read the workshop row without creating it (``workshop_row`` would insert defaults – reports never
    write, and two report threads on a new database would both try to)."""
    row = session.get(Workshop, 1)
    if row is None:
        return ShopSettings()
    return ShopSettings(row.name, row.opening_hours or "{}", row.bundesland or "BY", row.aw_per_hour or 10)
