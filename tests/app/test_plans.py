"""The plan table (app/plans.py) and the rule that no other file of the repository states a plan price."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from app import plans
from app.errors import NotFound
from app.plans import READ_ONLY_FEATURES, Feature, SubscriptionStatus

REPO = Path(__file__).resolve().parents[2]
UTC = dt.UTC

# --- the price scanner -------------------------------------------------------------------------------------
# Currency-bound notations only: a plan amount (monthly 49/99/199, yearly 490/990/1990 – also "1.990",
# "1,990", "1 990") as a whole number (not part of 12,49 or 9.999), optionally with ",00"/".00"/",-",
# within three non-alphanumeric characters of "€", "EUR" or "Euro"; or followed by a billing period
# ("49/Monat", "99 pro Monat", "490/Jahr", "€49/mo"); or as Stripe cents (unit_amount=4900).
_AMOUNT = r"(?:1[.,\u00a0\u202f ]?990|199|490|990|49|99)"
_NUMBER = rf"(?<![\d.,]){_AMOUNT}(?:[.,](?:00|-|–))?(?![\d]|[.,]\d)"
_CURRENCY = r"(?:€|(?<![a-z])eur(?:os?)?(?![a-z]))"
_GAP = r"[^\w\n]{0,3}"
_PERIOD = r"(?:/|\bpro\b|\bper\b|\bim\b|\ba\b|\bje\b)\s*(?:monat|mon\.|mtl\.|jahr|month|mo|year|yr)\b"
_CENTS = r"(?<![\d.,])(?:4900|9900|19900|49000|99000|199000)(?!\d)"
PRICE_PATTERN = re.compile(
    rf"{_CURRENCY}{_GAP}{_NUMBER}"
    rf"|{_NUMBER}{_GAP}{_CURRENCY}"
    rf"|{_NUMBER}{_GAP}{_PERIOD}"
    rf"|(?:amount|cents)\w*[\"']?\s*[:=]\s*{_CENTS}",
    re.IGNORECASE,
)

# The source of truth, its generated page, and this file (whose samples state prices on purpose).
EXEMPT = {"app/plans.py", "docs/pricing.md", "tests/app/test_plans.py"}


def price_mentions(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every plan price stated in ``text``."""
    return [
        (number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if PRICE_PATTERN.search(line)
    ]


def repository_text_files() -> list[str]:
    """Tracked files plus untracked files that are not ignored, relative to the repository root."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    return sorted({name for name in out.decode("utf-8").split("\0") if name})


@pytest.mark.parametrize(
    "sample",
    [
        "Starter für 49 € im Monat",
        "Starter für 49\u00a0€ im Monat",
        "ab €49/mo",
        "Preis: 49,00 €",
        "49.00 EUR monthly",
        "EUR 99",
        "Enterprise 199 Euro",
        "199 euros a month",
        "Jahrespreis 1.990 €",
        "yearly €1,990",
        "990,00\u00a0€ netto / Jahr",
        "490 €/Jahr",
        "nur 49/Monat",
        "99 pro Monat",
        "€ 199,-",
        "Preis (€): 99",
        '"unit_amount": 4900',
        "unit_amount=19900",
    ],
)
def test_scanner_finds_price_notations(sample: str) -> None:
    assert price_mentions(f"Zeile davor\n{sample}\nZeile danach") == [(2, sample.strip())]


@pytest.mark.parametrize(
    "sample",
    [
        "Zeile 49",
        "siehe Zeile 49: Fehler",
        "PLZ 99999 Musterstadt",
        "AW 49, 12 AW je Stunde",
        "49 AW",
        "12,49 €",
        "1.049 €",
        "2049 €",
        "€ 4.990",
        "99,90 €",
        " 99,90 € ",
        "zwischen 0 und 9.999 € liegen",
        "zwischen 0 und 9.999.999,99 € liegen",
        "between €0 and €9,999",
        "Europa 49",
        "100 Leads im Monat",
        "seit 1990 in Betrieb",
        "HU alle 24 Monate, Baujahr 1990",
        "amount = 490",
        "invoice_total_cents = 49001",
    ],
)
def test_scanner_ignores_ordinary_numbers(sample: str) -> None:
    assert price_mentions(sample) == []


def test_no_file_outside_the_plans_module_states_a_price() -> None:
    files = repository_text_files()
    assert "app/plans.py" in files and "README.md" in files  # the listing really covers the repository
    found: list[str] = []
    for name in files:
        path = REPO / name
        if name in EXEMPT or not path.is_file():
            continue  # exempt, or deleted from the work tree but still in the index
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (images, fonts, compiled catalogues)
        text = data.decode("utf-8", errors="replace")
        found += [f"{name}:{number}: {line}" for number, line in price_mentions(text)]
    assert found == [], "Preise nur in app/plans.py (docs: python -m app.plans --markdown):\n" + "\n".join(found)


def test_docs_pricing_is_generated_from_the_plans_module() -> None:
    committed = (REPO / "docs" / "pricing.md").read_text(encoding="utf-8")
    assert committed == plans.render_markdown(), "docs/pricing.md neu erzeugen: python -m app.plans --markdown"


def test_markdown_entry_point_writes_the_page() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.plans", "--markdown"], cwd=REPO, check=True, capture_output=True
    )
    assert result.stdout.decode("utf-8") == plans.render_markdown()
    assert "49,00\u00a0€ netto / Monat zzgl. USt." in plans.render_markdown()
    assert "1.990,00\u00a0€ netto / Jahr zzgl. USt." in plans.render_markdown()


# --- the plan table ------------------------------------------------------------------------------------------


def test_plan_table() -> None:
    assert [p.id for p in plans.PLANS] == ["starter", "professional", "enterprise"]
    assert [p.name for p in plans.PLANS] == ["Starter", "Professional", "Enterprise"]
    assert [p.monthly_net for p in plans.PLANS] == [Decimal("49"), Decimal("99"), Decimal("199")]
    for p in plans.PLANS:
        assert p.currency == "EUR"
        assert p.prices_are_net is True
        assert p.trial_days == 14
        assert p.stripe_lookup_key_monthly == f"carbot_{p.id}_monthly"
        assert p.stripe_lookup_key_yearly == f"carbot_{p.id}_yearly"
        assert plans.plan_for_lookup_key(p.stripe_lookup_key_monthly) == (p, False)
        assert plans.plan_for_lookup_key(p.stripe_lookup_key_yearly) == (p, True)
    assert plans.plan("professional").name == "Professional"


def test_yearly_is_ten_times_monthly() -> None:
    assert [p.yearly_net for p in plans.PLANS] == [Decimal("490"), Decimal("990"), Decimal("1990")]
    assert all(p.yearly_net == 10 * p.monthly_net for p in plans.PLANS)
    assert [(p.monthly_cents, p.yearly_cents) for p in plans.PLANS] == [
        (4900, 49000),
        (9900, 99000),
        (19900, 199000),
    ]


def test_plans_are_immutable() -> None:
    with pytest.raises(AttributeError):
        plans.plan("starter").monthly_net = Decimal("1")  # type: ignore[misc]


def test_unknown_plan_and_lookup_key_are_refused() -> None:
    with pytest.raises(NotFound, match="Unbekannter Tarif „basic“"):
        plans.plan("basic")  # the old CarBot's id: no silent fallback to Starter
    with pytest.raises(NotFound):
        plans.plan_for_lookup_key("plan_basic_m")
    with pytest.raises(NotFound):
        plans.allows("premium", Feature.SYNC)


def test_features_per_plan() -> None:
    starter = {Feature.CHAT_WIDGET, Feature.SYNC, Feature.BASIC_REPORTS}
    professional = starter | {Feature.ADVANCED_ANALYTICS, Feature.PUBLIC_API}
    enterprise = professional | {Feature.MULTI_LOCATION_ROLLUPS, Feature.WHITE_LABEL, Feature.CUSTOM_INTEGRATIONS}
    assert plans.features_for("starter") == starter
    assert plans.features_for("professional") == professional
    assert plans.features_for("enterprise") == enterprise == set(Feature)
    assert not plans.allows("starter", Feature.PUBLIC_API)
    assert plans.allows("professional", Feature.PUBLIC_API)
    assert not plans.allows("professional", Feature.WHITE_LABEL)
    assert plans.allows("enterprise", Feature.MULTI_LOCATION_ROLLUPS)
    assert set(plans.FEATURE_LABELS) == set(Feature)


def test_limits_one_unit_each() -> None:
    assert [plans.limit(p.id, "locations") for p in plans.PLANS] == [1, 1, None]
    assert [plans.limit(p.id, "leads_per_month") for p in plans.PLANS] == [100, None, None]
    with pytest.raises(ValueError, match="unknown limit"):
        plans.limit("starter", "conversations")  # type: ignore[arg-type]


def test_price_labels_german_and_english() -> None:
    starter, enterprise = plans.plan("starter"), plans.plan("enterprise")
    assert plans.price_label(starter) == "49,00\u00a0€ netto / Monat zzgl. USt."
    assert plans.price_label(enterprise, yearly=True) == "1.990,00\u00a0€ netto / Jahr zzgl. USt."
    assert plans.price_label(starter, lang="en") == "€49.00 net / month plus VAT"
    assert plans.price_label(enterprise, yearly=True, lang="en") == "€1,990.00 net / year plus VAT"
    assert plans.price_label(starter, lang="xx") == plans.price_label(starter, lang="de")


def test_price_label_ignores_the_process_language() -> None:
    from app.i18n import language, set_language

    before = language()
    set_language("en")
    try:
        assert plans.price_label(plans.plan("professional"), lang="de") == "99,00\u00a0€ netto / Monat zzgl. USt."
    finally:
        set_language(before)


# --- subscription state and the grace period -------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize("status", [SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE])
def test_trialing_and_active_have_the_plans_features(status: SubscriptionStatus) -> None:
    for p in plans.PLANS:
        assert plans.effective_features(p.id, status, now=NOW, grace_until=None) == p.features
        assert not plans.is_read_only(status, now=NOW, grace_until=None)


def test_past_due_keeps_features_until_the_grace_period_ends() -> None:
    grace_until = NOW + dt.timedelta(days=plans.PAST_DUE_GRACE_DAYS)
    full = plans.features_for("professional")

    def at(moment: dt.datetime) -> frozenset[Feature]:
        return plans.effective_features(
            "professional", SubscriptionStatus.PAST_DUE, now=moment, grace_until=grace_until
        )

    assert at(NOW) == full
    assert at(grace_until - SECOND) == full
    assert at(grace_until) == READ_ONLY_FEATURES  # the grace period is now < grace_until
    assert at(grace_until + SECOND) == READ_ONLY_FEATURES
    assert plans.is_read_only(SubscriptionStatus.PAST_DUE, now=grace_until, grace_until=grace_until)
    assert not plans.is_read_only(SubscriptionStatus.PAST_DUE, now=grace_until - SECOND, grace_until=grace_until)


def test_past_due_without_grace_until_fails_closed() -> None:
    features = plans.effective_features("enterprise", SubscriptionStatus.PAST_DUE, now=NOW, grace_until=None)
    assert features == READ_ONLY_FEATURES


def test_cancelled_falls_back_to_read_only_even_within_a_grace_date() -> None:
    later = NOW + dt.timedelta(days=30)
    for p in plans.PLANS:
        features = plans.effective_features(p.id, SubscriptionStatus.CANCELLED, now=NOW, grace_until=later)
        assert features == READ_ONLY_FEATURES == {Feature.BASIC_REPORTS, Feature.SYNC}


def test_status_accepts_wire_strings_and_rejects_naive_datetimes() -> None:
    assert plans.effective_features("starter", "cancelled", now=NOW, grace_until=None) == READ_ONLY_FEATURES  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        plans.effective_features("starter", SubscriptionStatus.ACTIVE, now=NOW.replace(tzinfo=None), grace_until=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        plans.is_read_only(SubscriptionStatus.PAST_DUE, now=NOW, grace_until=NOW.replace(tzinfo=None))
