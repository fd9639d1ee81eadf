"""The German texts of Einstellungen → Abo, computed from a ``BillingOverview`` (pure, no Qt).

Every price comes from the overview's ``plans`` (which the server builds from ``app.plans``): nothing
here states an amount. Amounts are formatted with Babel for the UI language (``app.formatting.money``,
de_DE: "1.234,00 €"), dates as "27.11.2026" in the PC's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app import formatting, plans
from app.i18n import N_, _, ngettext
from sync.protocol_billing import BillingOverview, InvoiceOut, PlanOut

STATUS_LABELS = {
    "trialing": N_("Testphase"),
    "active": N_("Aktiv"),
    "past_due": N_("Zahlung überfällig"),
    "cancelled": N_("Gekündigt"),
}
READ_ONLY_LABEL = N_("Lesemodus")
INTERVAL_LABELS = {"month": N_("monatlich"), "year": N_("jährlich")}
INVOICE_STATUS_LABELS = {
    "draft": N_("Entwurf"),
    "open": N_("offen"),
    "paid": N_("bezahlt"),
    "uncollectible": N_("uneinbringlich"),
    "void": N_("storniert"),
}
ROLE_LABELS = {"owner": N_("Inhaber"), "auditor": N_("Prüfer")}


def local_date(moment: dt.datetime | None) -> str:
    """An aware moment as the user's date ("27.11.2026"), "" for None."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # the wire always carries a zone; a naive one is UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return formatting.date(moment.astimezone().date())


def status_text(overview: BillingOverview) -> str:
    """Testphase / Aktiv / Zahlung überfällig / Gekündigt / Lesemodus."""
    if overview.read_only:
        return _(READ_ONLY_LABEL)
    return _(STATUS_LABELS[overview.effective_status])


def interval_text(interval: str | None) -> str:
    """monatlich / jährlich / – (no Stripe subscription yet)."""
    return _(INTERVAL_LABELS[interval]) if interval in INTERVAL_LABELS else "–"


def plan_name(overview: BillingOverview, plan_id: str | None) -> str:
    """The display name of ``plan_id`` from the overview's plan table (the id if unknown)."""
    for candidate in overview.plans:
        if candidate.id == plan_id:
            return candidate.name
    return plan_id or ""


def has_subscription(overview: BillingOverview) -> bool:
    """Whether a Stripe subscription runs (only then can it be changed, cancelled or resumed)."""
    return overview.interval is not None


def dates_text(overview: BillingOverview) -> tuple[str, str]:
    """(label, value) of the date that matters now: end of the trial or of the current period."""
    if overview.effective_status == "trialing" and overview.trial_ends_at is not None:
        return _("Testphase endet am"), local_date(overview.trial_ends_at)
    if overview.current_period_end is not None:
        if overview.cancel_at_period_end:
            return _("Läuft bis"), local_date(overview.current_period_end)
        return _("Nächste Abrechnung"), local_date(overview.current_period_end)
    if overview.trial_ends_at is not None:
        return _("Testphase endete am"), local_date(overview.trial_ends_at)
    return _("Laufzeit"), "–"


def notes(overview: BillingOverview) -> list[str]:
    """The notes under the status: cancellation, scheduled downgrade, payment grace, read-only mode."""
    out: list[str] = []
    end = local_date(overview.current_period_end)
    if overview.cancel_at_period_end:
        out.append(
            _("Gekündigt zum {date}. Bis dahin bleibt alles nutzbar; danach arbeitet CarBot im Lesemodus.").format(
                date=end or "–"
            )
        )
    if overview.scheduled_plan_id:
        out.append(
            _("Wechsel zum Tarif „{plan}“ zum {date} vorgemerkt.").format(
                plan=plan_name(overview, overview.scheduled_plan_id), date=end or "–"
            )
        )
    if overview.effective_status == "past_due" and not overview.read_only:
        out.append(
            _(
                "Die letzte Zahlung ist fehlgeschlagen. Bitte die Zahlungsdaten bis {date} im Stripe-Portal "
                "aktualisieren, sonst wechselt CarBot in den Lesemodus."
            ).format(date=local_date(overview.grace_until) or "–")
        )
    if overview.read_only:
        out.append(
            _(
                "Lesemodus: Alle Daten bleiben erhalten, Rechnungen können weiterhin gedruckt werden. Mit einem "
                "Abo arbeiten Sie sofort normal weiter."
            )
        )
    return out


WARN_PERCENT = 80
"""Usage from this share of a limit on is shown amber (carbot-lessons.md: warnings before the limit)."""


@dataclass(frozen=True)
class Usage:
    """One usage bar: value, limit (None = unlimited), its German text and how alarming it is."""

    value: int
    limit: int | None
    text: str
    level: str = "ok"  # ok, warn, over

    @property
    def percent(self) -> int:
        """0..100 for the bar (an unlimited plan shows an empty bar)."""
        if not self.limit:
            return 0
        return min(100, round(100 * self.value / self.limit))


def usage(value: int, limit: int | None, *, warn_at_limit: bool = True) -> Usage:
    """ "42 von 100" or "42 (unbegrenzt)"; ``warn_at_limit`` False: reaching the limit is normal (locations)."""
    if limit is None:
        return Usage(value, None, _("{value} (unbegrenzt)").format(value=value))
    text = _("{value} von {limit}").format(value=value, limit=limit)
    if value > limit or (warn_at_limit and value >= limit):
        level = "over"
    elif warn_at_limit and limit and 100 * value >= WARN_PERCENT * limit:
        level = "warn"
    else:
        level = "ok"
    return Usage(value, limit, text, level)


def price_text(amount: Decimal, *, yearly: bool) -> str:
    """ "<amount> netto / Monat" (or "/ Jahr") for a net amount of the overview's plan table."""
    money = formatting.money(amount)
    if yearly:
        return _("{amount} netto / Jahr").format(amount=money)
    return _("{amount} netto / Monat").format(amount=money)


def limits_lines(plan: PlanOut) -> list[str]:
    """The plan's limits in words."""
    locations = plan.limits.locations
    leads = plan.limits.leads_per_month
    return [
        _("unbegrenzt viele Standorte")
        if locations is None
        else ngettext("{count} Standort", "{count} Standorte", locations).format(count=locations),
        _("unbegrenzt viele Leads") if leads is None else _("{count} Leads pro Monat").format(count=leads),
    ]


def feature_lines(plan: PlanOut) -> list[str]:
    """The plan's features with their German names, in the plan table's order (unknown names are skipped)."""
    return [_(plans.FEATURE_LABELS[feature]) for feature in plans.Feature if feature.value in plan.features]


class ChangeKind(StrEnum):
    """What switching to another plan/interval means for the running subscription."""

    SAME = "same"
    UPGRADE = "upgrade"  # applies at once, prorated, charged immediately
    DOWNGRADE = "downgrade"  # applies at the end of the period


def change_kind(overview: BillingOverview, plan_id: str, interval: str) -> ChangeKind:
    """Upgrade (more expensive per month, or monthly → yearly) or downgrade, by the overview's prices."""
    prices: dict[str, Decimal] = {p.id: p.monthly_net for p in overview.plans}
    current, target = prices.get(overview.plan_id, Decimal(0)), prices.get(plan_id, Decimal(0))
    if plan_id == overview.plan_id:
        if interval == overview.interval:
            return ChangeKind.SAME
        return ChangeKind.UPGRADE if interval == "year" else ChangeKind.DOWNGRADE
    return ChangeKind.UPGRADE if target > current else ChangeKind.DOWNGRADE


def change_question(overview: BillingOverview, plan: PlanOut, interval: str) -> str:
    """The confirmation text: says whether the switch applies now (upgrade) or at the period end (downgrade)."""
    price = price_text(plan.yearly_net if interval == "year" else plan.monthly_net, yearly=interval == "year")
    if change_kind(overview, plan.id, interval) is ChangeKind.UPGRADE:
        return _(
            "Jetzt zum Tarif „{plan}“ ({price}) wechseln? Der Wechsel gilt sofort. Der Rest des laufenden "
            "Zeitraums wird anteilig verrechnet und sofort in Rechnung gestellt."
        ).format(plan=plan.name, price=price)
    return _(
        "Zum Tarif „{plan}“ ({price}) wechseln? Der Wechsel gilt zum Ende des laufenden Zeitraums am {date}; "
        "bis dahin bleibt Ihr Tarif „{current}“ unverändert."
    ).format(
        plan=plan.name, price=price, date=local_date(overview.current_period_end) or "–", current=overview.plan_name
    )


def location_block(overview: BillingOverview, plan: PlanOut) -> str:
    """Why a plan cannot be chosen (fewer locations allowed than the organisation has), or ""."""
    allowed = plan.limits.locations
    if allowed is not None and overview.usage.locations > allowed:
        return ngettext(
            "Der Tarif „{plan}“ umfasst {limit} Standort; Ihre Organisation hat {count}.",
            "Der Tarif „{plan}“ umfasst {limit} Standorte; Ihre Organisation hat {count}.",
            allowed,
        ).format(plan=plan.name, limit=allowed, count=overview.usage.locations)
    return ""


def invoice_amount(invoice: InvoiceOut) -> str:
    """The invoice total (gross, from cents) in the invoice's currency."""
    return formatting.money(Decimal(invoice.total_cents) / 100, invoice.currency.upper())


def invoice_status(invoice: InvoiceOut) -> str:
    """bezahlt / offen / … (Stripe's status in German)."""
    status = invoice.status or ""
    return _(INVOICE_STATUS_LABELS[status]) if status in INVOICE_STATUS_LABELS else status


def running(overview: BillingOverview) -> bool:
    """A Stripe subscription that can be changed or cancelled (not ended)."""
    return has_subscription(overview) and overview.effective_status != "cancelled"


@dataclass(frozen=True)
class CardAction:
    """What a plan card's button says and does: ``checkout`` (with ``trial``) or ``change``; None = disabled."""

    text: str
    action: str | None
    tip: str = ""
    trial: bool = False
    note: str = ""  # why the plan cannot be chosen (shown on the card)


def card_action(overview: BillingOverview, plan: PlanOut, interval: str) -> CardAction:
    """The button of ``plan``'s card for the chosen ``interval``."""
    block = location_block(overview, plan)
    if not running(overview):
        trial = overview.effective_status == "trialing"
        text = trial_button_text() if trial else _("Abonnieren")
        tip = block or _("Öffnet die Bezahlseite von Stripe im Browser.")
        return CardAction(text, None if block else "checkout", tip, trial, block)
    if plan.id == overview.scheduled_plan_id and interval == (overview.scheduled_interval or interval):
        return CardAction(_("Vorgemerkt"), None, _("Wechsel zum Laufzeitende vorgemerkt."))
    kind = change_kind(overview, plan.id, interval)
    if kind is ChangeKind.SAME:
        return CardAction(_("Aktueller Tarif"), None)
    if plan.id == overview.plan_id:
        text = _("Auf jährlich umstellen") if interval == "year" else _("Auf monatlich umstellen")
    else:
        text = _("Tarif wechseln")
    when = _("Gilt sofort (anteilig berechnet).") if kind is ChangeKind.UPGRADE else _("Gilt zum Laufzeitende.")
    tip = block or when
    return CardAction(text, None if block else "change", tip, note=block)


def trial_button_text() -> str:
    """ "14 Tage testen" (the trial length from app.plans)."""
    return _("{days} Tage testen").format(days=plans.TRIAL_DAYS)
