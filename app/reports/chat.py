"""The widget "Chats, Leads und Terminquote": the web chat's conversations, leads and booked leads.

Counting rules (shared with the daily facts and the hosted API): ``app.services.chat_stats``. The value
is the **Terminquote** = leads with an appointment ÷ leads of the period (one decimal, half-up; none
without leads); the sparkline shows it per bucket. The card names the three counts under the value, the
detail rows (CSV, PDF) give chats, leads, leads with an appointment and the quote of every bucket with
chat activity after a total row (always the first).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from app.i18n import N_, _
from app.reports.period import Scope
from app.reports.types import Cell, Kpi, kpi, percent
from app.services.chat_stats import ChatCounts, conversation_facts, count

TITLE: Final = N_("Chats, Leads und Terminquote")


def summary_text(counts: ChatCounts) -> str:
    """ "12 Chats · 5 Leads · 3 mit Termin" (the card's caption and the export's note)."""
    return _("{chats} Chats · {leads} Leads · {booked} mit Termin").format(
        chats=counts.chats, leads=counts.leads, booked=counts.booked
    )


def chat_kpi(session: Session, scope: Scope) -> Kpi:
    """The chat widget of ``scope`` (rules: module docstring)."""
    facts = conversation_facts(session, scope.first_day, scope.period.end)
    now = count(facts, scope.period.start, scope.period.end)
    before = count(facts, scope.previous.start, scope.previous.end) if scope.previous is not None else None
    parts = [count(facts, bucket.start, bucket.end) for bucket in scope.buckets]
    # The total first: the PDF shows only the first rows of a long table.
    rows: list[tuple[Cell, ...]] = [(_("Gesamt"), now.chats, now.leads, now.booked, percent(now.booked, now.leads))]
    rows += [
        (bucket.label, part.chats, part.leads, part.booked, percent(part.booked, part.leads))
        for bucket, part in zip(scope.buckets, parts, strict=True)
        if part.chats or part.leads
    ]
    return kpi(
        "chat_leads",
        _(TITLE),
        "%",
        percent(now.booked, now.leads),
        percent(before.booked, before.leads) if before is not None else None,
        sparkline=tuple(percent(part.booked, part.leads) for part in parts),
        columns=(_("Zeitraum"), _("Chats"), _("Leads"), _("Leads mit Termin"), _("Terminquote %")),
        rows=tuple(rows),
        note=summary_text(now) + ". " + _("Terminquote = Leads mit Termin ÷ Leads (abgesagte Termine zählen nicht)."),
    )
