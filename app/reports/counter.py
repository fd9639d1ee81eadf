"""The counter's own day: today's appointments, the open work orders and today's payments – no revenue.

This is all the counter role sees of the reports (``ReportService.counter_day``): what it needs to run
and close its day, not the workshop's figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from app.reports.sql import cents, fetch
from app.reports.types import CounterDay
from app.reports.types import cents as euros

OPEN_ORDER_STATUSES: Final = ("draft", "open", "in_progress", "completed")  # app.services.work_orders
_APPOINTMENTS: Final = """
SELECT a.status, count(*) FROM appointment a WHERE a.start >= :lo AND a.start < :hi GROUP BY 1 ORDER BY 1
"""
_ORDERS: Final = f"""
SELECT w.status, count(*) FROM work_order w
WHERE w.status IN ({", ".join(f"'{s}'" for s in OPEN_ORDER_STATUSES)}) GROUP BY 1 ORDER BY 1
"""
_PAYMENTS: Final = f"""
SELECT p.method, count(*), sum({cents("p.amount")}) FROM payment p WHERE p.date = :day GROUP BY 1 ORDER BY 1
"""


def counter_day(session: Session, day: dt.date) -> CounterDay:
    """Appointments of ``day`` (cancelled ones listed but not counted), open orders, payments of ``day``."""
    start = dt.datetime.combine(day, dt.time.min)
    appointments = [
        (str(status), int(n))
        for status, n in fetch(
            session, _APPOINTMENTS, lo=start.isoformat(" "), hi=(start + dt.timedelta(days=1)).isoformat(" ")
        )
    ]
    orders = [(str(status), int(n)) for status, n in fetch(session, _ORDERS)]
    payments = [(str(method), int(n), int(total or 0)) for method, n, total in fetch(session, _PAYMENTS, day=day)]
    return CounterDay(
        day=day,
        appointments=sum(n for status, n in appointments if status != "cancelled"),
        appointments_by_status=tuple(appointments),
        open_orders=sum(n for _status, n in orders),
        open_orders_by_status=tuple(orders),
        payments=sum(n for _method, n, _total in payments),
        payments_total=euros(sum(total for _method, _n, total in payments)) if payments else Decimal("0.00"),
        payments_by_method=tuple((method, euros(total)) for method, _n, total in payments),
    )
