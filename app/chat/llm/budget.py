"""The cloud LLM's cost per bot message and the location's monthly budget.

Every answer that went through a cloud LLM leaves one ``chat_llm_usage`` row (tokens, cost in EUR at the
price table's version, ``estimated`` when the stream broke off without usage figures). The budget is the sum
of ``cost_eur`` in the current calendar month (Europe/Berlin, the workshop's month); when it reaches the
configured ``monthly_budget_eur`` the LLM is not asked any more (``BudgetExceeded``) and the built-in
assistant answers until the next month. The desktop database is one location, so "per location" is the
whole table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.calendar_rules import WORKSHOP_TZ
from app.chat.llm.errors import BudgetExceeded
from app.chat.llm.pricing import PRICE_TABLE_VERSION, Usage, cost
from app.db import Database
from app.formatting import money
from app.i18n import N_
from app.models.chat import ChatLlmUsage


@dataclass(frozen=True)
class UsageRecord:
    """A stored usage row."""

    id: int
    conversation_id: str
    message_client_id: str
    provider: str
    model: str
    usage: Usage
    cost_eur: Decimal
    price_table_version: str
    created_at: dt.datetime  # naive UTC, as stored


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:  # naive values are taken as UTC, like the stored created_at
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the Europe/Berlin calendar month containing ``now``, as naive UTC for the query."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    local = aware.astimezone(WORKSHOP_TZ)
    following = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    start_local = dt.datetime(local.year, local.month, 1, tzinfo=WORKSHOP_TZ)
    end_local = dt.datetime(following[0], following[1], 1, tzinfo=WORKSHOP_TZ)
    return _naive_utc(start_local), _naive_utc(end_local)


def record_usage(
    db: Database,
    *,
    conversation_id: str,
    message_client_id: str,
    usage: Usage,
    provider: str | None = None,
    model: str | None = None,
    now: dt.datetime | None = None,
) -> UsageRecord:
    """Store the usage of one bot message, priced now with ``PRICE_TABLE_VERSION``.

    ``provider``/``model`` default to those named in ``usage`` (``LlmAssistant`` fills them in).
    """
    provider_name = provider if provider is not None else usage.provider
    model_name = model if model is not None else usage.model
    amount = cost(usage, model_name)
    created = _naive_utc(now or _utc_now())
    with db.unit() as session:
        row = ChatLlmUsage(
            conversation_id=conversation_id,
            message_client_id=message_client_id,
            provider=provider_name[:20],
            model=model_name[:80],
            input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cost_eur=amount,
            price_table_version=PRICE_TABLE_VERSION,
            estimated=usage.estimated,
            created_at=created,
        )
        session.add(row)
        session.flush()
        return UsageRecord(
            row.id,
            conversation_id,
            message_client_id,
            row.provider,
            row.model,
            usage,
            amount,
            PRICE_TABLE_VERSION,
            created,
        )


def month_spent(db: Database, now: dt.datetime | None = None) -> Decimal:
    """EUR spent on the cloud LLM in the calendar month (Europe/Berlin) of ``now``."""
    start, end = month_bounds(now or _utc_now())
    with db.unit() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(ChatLlmUsage.cost_eur), 0)).where(
                ChatLlmUsage.created_at >= start, ChatLlmUsage.created_at < end
            )
        )
    return Decimal(str(total or 0)).quantize(Decimal("0.000001"))


class MonthlyBudget:
    """The location's monthly LLM budget: ``check()`` raises ``BudgetExceeded`` once it is used up."""

    def __init__(self, db: Database, limit_eur: Decimal, *, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self._db = db
        self.limit_eur = limit_eur
        self._clock = clock

    def spent(self) -> Decimal:
        """Spent this month."""
        return month_spent(self._db, self._clock())

    def remaining(self) -> Decimal:
        """Left this month (never negative)."""
        return max(self.limit_eur - self.spent(), Decimal("0"))

    def check(self) -> None:
        """Raise ``BudgetExceeded`` when this month's spending reached the limit (a limit of 0 = never ask)."""
        spent = self.spent()
        if spent >= self.limit_eur:
            raise BudgetExceeded(
                N_(
                    "Das KI-Budget für diesen Monat ist aufgebraucht ({spent} von {limit}); bis zum Monatsende "
                    "antwortet der eingebaute Assistent."
                ),
                spent=money(spent),
                limit=money(self.limit_eur),
            )
