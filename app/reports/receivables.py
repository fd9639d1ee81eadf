"""Open receivables and the overdue amount "as of" a day, for the period's end and every bucket end.

As of day E (payments are counted by their date, never by when they were typed in):

- an invoice is *valid* at E when it is final, of kind invoice, issued on or before E and not cancelled
  by a Stornorechnung issued on or before E (a Storno dated after E does not change the picture at E);
- paid(E) = the sum of its payments dated on or before E (refunds are negative payments; a payment
  dated before its invoice counts from the invoice's date);
- open(E) = Σ over valid invoices of gross − paid(E) (partial payments leave the rest open; the
  payment service refuses overpayments, so no invoice contributes a negative amount);
- overdue(E) = the same over the valid invoices whose due date lies before E.

Computed without loading invoices: every term is a sum of amounts whose "key day" is ≤ E, e.g. an
invoice's gross counts towards open(E) from its issue date and towards overdue(E) from the day after its
due date. Everything up to the first day needed comes from single-table sums over covering indexes;
only the few rows after it (and the Stornos with their payments) are read as events per day.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.reports.period import Scope
from app.reports.sql import FINAL, cents, day_of, fetch, fetch_one
from app.reports.types import Kpi, kpi
from app.reports.types import cents as euros

TITLE_OPEN: Final = N_("Offene Forderungen")
TITLE_OVERDUE: Final = N_("Davon überfällig")
_G: Final = cents("i.gross_total")
_ONE_DAY: Final = dt.timedelta(days=1)

# Gross of all final documents issued up to lo (Stornos net their originals) and of the invoices among them
# due before lo: one pass over the covering day index, no grouping.
_BASE_INVOICES: Final = f"""
SELECT sum({_G}), sum(CASE WHEN i.kind = 'invoice' AND i.due_date < :lo THEN {_G} ELSE 0 END)
FROM invoice i WHERE {FINAL} AND i.issue_date <= :lo
"""
# Invoices issued up to lo but due from lo on, per due day (found through the due-date index).
_BASE_NOT_DUE: Final = f"""
SELECT i.due_date, sum({_G}) FROM invoice i
WHERE {FINAL} AND i.kind = 'invoice' AND i.due_date >= :lo AND i.issue_date <= :lo
GROUP BY 1
"""
_WINDOW_INVOICES: Final = f"""
SELECT i.issue_date, i.due_date, i.kind, sum({_G}) FROM invoice i
WHERE {FINAL} AND i.issue_date > :lo AND i.issue_date <= :hi
GROUP BY 1, 2, 3
"""
_BASE_PAYMENTS: Final = f"SELECT sum({cents('p.amount')}) FROM payment p WHERE p.date <= :lo"
_WINDOW_PAYMENTS: Final = (
    f"SELECT p.date, sum({cents('p.amount')}) FROM payment p WHERE p.date > :lo AND p.date <= :hi GROUP BY 1"
)
# Payments dated before their invoice (a typing slip): counted from the invoice's date instead.
_EARLY_PAYMENTS: Final = f"""
SELECT p.date, i.issue_date, sum({cents("p.amount")}) FROM invoice i CROSS JOIN payment p ON p.invoice_id = i.id
WHERE {FINAL} AND i.issue_date > :lo AND +p.date < i.issue_date AND +p.date <= :hi
GROUP BY 1, 2
"""
# Payments made on or before the due date of invoices due from lo on: not yet part of overdue(E) while
# E ≤ due date, because only overdue invoices' payments reduce the overdue amount.
_TIMELY_PAYMENTS: Final = f"""
SELECT p.date, i.due_date, sum({cents("p.amount")}) FROM invoice i CROSS JOIN payment p ON p.invoice_id = i.id
WHERE {FINAL} AND i.kind = 'invoice' AND i.due_date >= :lo AND +p.date <= i.due_date AND +p.date <= :hi
GROUP BY 1, 2
"""
# Every cancelled invoice (Storno issued up to hi) with its payments, through the partial index of Stornos.
# (CROSS JOIN and the unary + keep SQLite on the invoice side: the few invoices of the window, not every
# payment of the history.)
_CANCELLED: Final = f"""
SELECT o.id, s.issue_date, o.due_date, {cents("o.gross_total")}, p.date, {cents("p.amount")}
FROM invoice s JOIN invoice o ON o.id = s.cancels_id LEFT JOIN payment p ON p.invoice_id = o.id
WHERE s.cancels_id IS NOT NULL AND s.status = 'final' AND +s.issue_date <= :hi
"""


class _Sum:
    """Amounts that count from a key day on: ``at(E)`` = base + Σ amounts with key ≤ E."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.events: list[tuple[dt.date, int]] = []

    def add(self, key: dt.date, amount: int) -> None:
        self.events.append((key, amount))

    def at_each(self, ends: Sequence[dt.date]) -> list[int]:
        self.events.sort()
        keys = [key for key, _amount in self.events]
        running, prefix = self.base, [self.base]
        for _key, amount in self.events:
            running += amount
            prefix.append(running)
        return [prefix[bisect.bisect_right(keys, end)] for end in ends]


@dataclass(frozen=True)
class Receivables:
    """Open and overdue amounts (integer cents) as of one day."""

    day: dt.date
    open: int
    overdue: int


def _day(value: object) -> dt.date:
    return day_of(value)


def receivables(session: Session, ends: Iterable[dt.date]) -> list[Receivables]:
    """Open receivables and overdue amount as of each day in ``ends`` (rules: module docstring)."""
    days = sorted(set(ends))
    if not days:
        return []
    lo, hi = days[0], days[-1]
    gross, due_gross = _Sum(), _Sum()  # toward open(E) and overdue(E)
    total, due_before = fetch_one(session, _BASE_INVOICES, lo=lo)
    gross.base, due_gross.base = int(total or 0), int(due_before or 0)
    for due, amount in fetch(session, _BASE_NOT_DUE, lo=lo):
        due_gross.add(_day(due) + _ONE_DAY, int(amount))
    for issued, due, kind, total in fetch(session, _WINDOW_INVOICES, lo=lo, hi=hi):
        gross.add(_day(issued), int(total))
        if kind == "invoice" and due is not None:
            due_gross.add(_day(due) + _ONE_DAY, int(total))
    paid_base = int(fetch_one(session, _BASE_PAYMENTS, lo=lo)[0] or 0)
    paid, due_paid = _Sum(paid_base), _Sum(paid_base)  # payments toward open(E) and overdue(E)
    for day, amount in fetch(session, _WINDOW_PAYMENTS, lo=lo, hi=hi):
        paid.add(_day(day), int(amount))
        due_paid.add(_day(day), int(amount))
    for day, issued, amount in fetch(session, _EARLY_PAYMENTS, lo=lo, hi=hi):
        paid.add(_day(day), -int(amount))
        paid.add(_day(issued), int(amount))
    for day, due, amount in fetch(session, _TIMELY_PAYMENTS, lo=lo, hi=hi):
        due_paid.add(_day(day), -int(amount))
        due_paid.add(_day(due) + _ONE_DAY, int(amount))
    # Cancelled invoices: their payments leave open(E), their gross and payments leave overdue(E), from
    # the Storno's date on (their gross already leaves open(E) through the Storno's negative gross).
    cancelled_paid, cancelled_due, cancelled_due_paid = _Sum(), _Sum(), _Sum()
    seen: set[int] = set()
    for original, storno_day, due_day, original_gross, paid_day, amount in fetch(session, _CANCELLED, hi=hi):
        storno, due = _day(storno_day), _day(due_day) + _ONE_DAY
        if original not in seen:
            seen.add(original)
            cancelled_due.add(max(storno, due), int(original_gross))
        if paid_day is not None:
            cancelled_paid.add(max(_day(paid_day), storno), int(amount))
            cancelled_due_paid.add(max(_day(paid_day), storno, due), int(amount))
    series = [
        s.at_each(days) for s in (gross, paid, cancelled_paid, due_gross, cancelled_due, due_paid, cancelled_due_paid)
    ]
    return [
        Receivables(day, g - p + cp, dg - cd - (dp - cdp))
        for day, g, p, cp, dg, cd, dp, cdp in zip(days, *series, strict=True)
    ]


def receivables_kpis(session: Session, scope: Scope) -> list[Kpi]:
    """The widgets "Offene Forderungen" and "Davon überfällig" as of the period's end (or today)."""
    # Sub-periods that have not begun yet have no receivables to show.
    ends = [min(bucket.end, scope.today) if bucket.start <= scope.today else None for bucket in scope.buckets]
    wanted = [*ends, scope.as_of] + ([scope.previous_as_of] if scope.previous_as_of is not None else [])
    values = {r.day: r for r in receivables(session, [day for day in wanted if day is not None])}
    now = values[scope.as_of]
    before = values[scope.previous_as_of] if scope.previous_as_of is not None else None
    not_due = now.open - now.overdue
    columns = (_("Stichtag"), _("Offen"), _("Davon überfällig"), _("Noch nicht fällig"))
    rows = [(scope.as_of, euros(now.open), euros(now.overdue), euros(not_due))]
    if before is not None:
        rows.append((before.day, euros(before.open), euros(before.overdue), euros(before.open - before.overdue)))
    note = _("Stand {day}: Rechnungen abzüglich Zahlungen bis zu diesem Tag, stornierte Rechnungen nicht.").format(
        day=scope.as_of.strftime("%d.%m.%Y")
    )
    return [
        kpi(
            "receivables_open",
            _(TITLE_OPEN),
            "EUR",
            euros(now.open),
            euros(before.open) if before else None,
            sparkline=tuple(euros(values[day].open) if day else None for day in ends),
            columns=columns,
            rows=tuple(rows),
            note=note,
            lower_is_better=True,
        ),
        kpi(
            "receivables_overdue",
            _(TITLE_OVERDUE),
            "EUR",
            euros(now.overdue),
            euros(before.overdue) if before else None,
            sparkline=tuple(euros(values[day].overdue) if day else None for day in ends),
            columns=columns,
            rows=tuple(rows),
            note=note,
            lower_is_better=True,
        ),
    ]
