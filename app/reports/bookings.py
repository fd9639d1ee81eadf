"""Front-office widgets: estimate acceptance, appointments and no-shows, HU/AU due (work to win).

- **Estimate acceptance rate**: the Kostenvoranschläge created in the period (local date of
  ``created_at``, stored in UTC), accepted ÷ (accepted + rejected); drafts and sent ones still wait for
  the customer's answer and are listed, not counted.
- **Appointments**: the appointments starting in the period (local wall-clock times), cancelled ones
  excluded. **No-show rate** = no-shows ÷ (done + no-shows): only appointments whose outcome is known.
- **HU/AU due**: vehicles whose HU month (``hu_due``, the first of the month) lies from the current month
  up to 60 days ahead of today – the same rule as ``VehicleService.hu_due_between`` – and whose customer
  is not restricted by a GDPR request. Always as of today (who is due now is what can be won); the
  sparkline counts the vehicles per HU month.

The web chat's widget (chats, leads, Terminquote) lives in ``app.reports.chat``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.reports.period import Period, Scope, bucket_index, local_date, month_end, utc_bounds
from app.reports.sql import day_of, fetch
from app.reports.types import Kpi, kpi, percent
from app.services.customers import display_name
from app.services.estimates import STATUS_LABELS as ESTIMATE_LABELS

HU_DAYS_AHEAD: Final = 60
TITLES: Final = {
    "estimate_acceptance": N_("Annahmequote Kostenvoranschläge"),
    "appointments": N_("Termine"),
    "no_show_rate": N_("No-Show-Quote"),
    "hu_due": N_("HU/AU fällig (nächste 60 Tage)"),
}
APPOINTMENT_LABELS: Final = {
    "pending": N_("Anfrage"),
    "confirmed": N_("Bestätigt"),
    "done": N_("Erledigt"),
    "no_show": N_("Nicht erschienen"),
    "cancelled": N_("Abgesagt"),
}

# Estimates per UTC hour: Berlin is a whole number of hours off UTC, so each hour maps to one local date.
_ESTIMATES: Final = """
SELECT strftime('%Y-%m-%d %H:00:00', e.created_at), e.status, count(*) FROM estimate e
WHERE e.created_at >= :lo AND e.created_at < :hi GROUP BY 1, 2
"""
_APPOINTMENTS: Final = """
SELECT date(a.start), a.status, count(*) FROM appointment a
WHERE a.start >= :lo AND a.start < :hi GROUP BY 1, 2
"""
_HU_DUE: Final = """
SELECT v.hu_due, v.plate, v.make, v.model, c.kind, c.company, c.first_name, c.last_name, c.phone, c.mobile
FROM vehicle v JOIN customer c ON c.id = v.customer_id
WHERE v.hu_due >= :lo AND v.hu_due <= :hi AND c.restricted_at IS NULL
ORDER BY v.hu_due, v.plate
"""


def _counts(rows: list[tuple[dt.date, str, int]], period: Period) -> Counter[str]:
    counts: Counter[str] = Counter()
    for day, status, count in rows:
        if period.start <= day <= period.end:
            counts[status] += count
    return counts


def _per_bucket(rows: list[tuple[dt.date, str, int]], scope: Scope) -> list[Counter[str]]:
    """The counts of each bucket in one pass."""
    parts: list[Counter[str]] = [Counter() for _bucket in scope.buckets]
    for day, status, count in rows:
        index = bucket_index(scope.buckets, day)
        if index is not None:
            parts[index][status] += count
    return parts


def _estimates(session: Session, start: dt.date, end: dt.date) -> list[tuple[dt.date, str, int]]:
    lo, hi = utc_bounds(Period(start, end))
    rows = fetch(session, _ESTIMATES, lo=lo.isoformat(" "), hi=hi.isoformat(" "))
    return [(local_date(dt.datetime.fromisoformat(str(hour))), str(status), int(n)) for hour, status, n in rows]


def _acceptance(counts: Counter[str]) -> Decimal | None:
    return percent(counts["accepted"], counts["accepted"] + counts["rejected"])


def estimate_kpi(session: Session, scope: Scope) -> Kpi:
    """The widget "Annahmequote Kostenvoranschläge" (rule: module docstring)."""
    rows = _estimates(session, scope.first_day, scope.period.end)
    now = _counts(rows, scope.period)
    rate = _acceptance(now)
    before = _acceptance(_counts(rows, scope.previous)) if scope.previous is not None else None
    spark = tuple(_acceptance(part) for part in _per_bucket(rows, scope))
    detail = [(_(ESTIMATE_LABELS[status]), now[status]) for status in ("accepted", "rejected", "sent", "draft")]
    detail.append((_("Erstellt im Zeitraum"), sum(now.values())))
    return kpi(
        "estimate_acceptance",
        _(TITLES["estimate_acceptance"]),
        "%",
        rate,
        before,
        sparkline=spark,
        columns=(_("Status"), _("Anzahl")),
        rows=tuple(detail),
        note=_("Angenommen ÷ (angenommen + abgelehnt); offene Kostenvoranschläge zählen noch nicht."),
    )


def appointment_kpis(session: Session, scope: Scope) -> list[Kpi]:
    """The widgets "Termine" and "No-Show-Quote" (rules: module docstring)."""
    lo = dt.datetime.combine(scope.first_day, dt.time.min)
    hi = dt.datetime.combine(scope.period.end + dt.timedelta(days=1), dt.time.min)
    rows = [
        (day_of(day), str(status), int(n))
        for day, status, n in fetch(session, _APPOINTMENTS, lo=lo.isoformat(" "), hi=hi.isoformat(" "))
    ]

    def booked(counts: Counter[str]) -> int:
        return sum(n for status, n in counts.items() if status != "cancelled")

    def no_shows(counts: Counter[str]) -> Decimal | None:
        return percent(counts["no_show"], counts["done"] + counts["no_show"])

    now = _counts(rows, scope.period)
    old = _counts(rows, scope.previous) if scope.previous is not None else None
    parts = _per_bucket(rows, scope)
    detail = tuple((_(label), now[status]) for status, label in APPOINTMENT_LABELS.items())
    columns = (_("Status"), _("Anzahl"))
    return [
        kpi(
            "appointments",
            _(TITLES["appointments"]),
            "Anzahl",
            booked(now),
            booked(old) if old is not None else None,
            sparkline=tuple(booked(p) for p in parts),
            columns=columns,
            rows=detail,
            note=_("Termine im Zeitraum ohne abgesagte."),
        ),
        kpi(
            "no_show_rate",
            _(TITLES["no_show_rate"]),
            "%",
            no_shows(now),
            no_shows(old) if old is not None else None,
            sparkline=tuple(no_shows(p) for p in parts),
            columns=columns,
            rows=detail,
            note=_("Nicht erschienen ÷ (erledigt + nicht erschienen)."),
            lower_is_better=True,
        ),
    ]


def hu_due_kpi(session: Session, today: dt.date) -> Kpi:
    """The widget "HU/AU fällig (nächste 60 Tage)" as of ``today`` (rule: module docstring)."""
    until = today + dt.timedelta(days=HU_DAYS_AHEAD)
    rows = fetch(session, _HU_DUE, lo=today.replace(day=1), hi=until)
    months: Counter[dt.date] = Counter(day_of(row[0]) for row in rows)
    detail = tuple(
        (day_of(due), plate, f"{make} {model}".strip(), display_name(kind, company, first, last), phone or mobile)
        for due, plate, make, model, kind, company, first, last, phone, mobile in rows
    )
    spark = []
    month = today.replace(day=1)
    while month <= until:
        spark.append(months[month])
        month = month_end(month) + dt.timedelta(days=1)
    return kpi(
        "hu_due",
        _(TITLES["hu_due"]),
        "Anzahl",
        len(rows),
        None,
        sparkline=tuple(spark),
        columns=(_("HU-Monat"), _("Kennzeichen"), _("Fahrzeug"), _("Kunde"), _("Telefon")),
        rows=detail,
        note=_("Fahrzeuge mit HU/AU-Monat bis {day} (Stand heute) – Arbeit, die man gewinnen kann.").format(
            day=until.strftime("%d.%m.%Y")
        ),
    )
