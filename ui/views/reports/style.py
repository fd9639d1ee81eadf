"""Colours, texts and number formats of the Berichte tab (display only, no Qt widgets).

Values are formatted with ``app.formatting`` (German separators, "1.234,50 €"). A change against the
previous period is shown as ▲/▼ with the relative change in percent – for widgets that are percentages
themselves (labour share, no-show rate) in percentage points ("Pp."), because "+7 %" of a 54 % share is
not what an owner reads. Green means better, red worse; ``Kpi.lower_is_better`` flips the colours for
overdue amounts and no-shows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from babel.numbers import format_decimal

from app import formatting
from app.i18n import N_, _, locale_name
from app.reports.period import Period
from app.reports.types import Kpi, KpiReport

PAGE_BG: Final = "#f4f6f8"
CARD_BG: Final = "#ffffff"
BORDER: Final = "#dde3e8"
SELECTED: Final = "#1e88e5"
TITLE: Final = "#546e7a"
VALUE: Final = "#1f2d36"
MUTED: Final = "#90a4ae"
GOOD: Final = "#2e7d32"
BAD: Final = "#c62828"
NEUTRAL: Final = "#78909c"
ACCENT: Final = "#1e88e5"
ACCENT_FILL: Final = "#d6e8fb"
LIMIT: Final = "#455a64"
BAR_COLOURS: Final = ("#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#546e7a")
UTILISATION_BANDS: Final = (
    (Decimal("100"), "#8e24aa"),
    (Decimal("70"), "#43a047"),
    (Decimal("40"), "#fb8c00"),
)
"""Utilisation bar colours from the top: overbooked, healthy, low; below the last: red."""

CARD_CSS: Final = f"""
QFrame#kpiCard {{ background: {CARD_BG}; border: 1px solid {BORDER}; border-radius: 8px; }}
QFrame#kpiCard[selected="true"] {{ border: 2px solid {SELECTED}; }}
QFrame#kpiCard:hover {{ border-color: #90caf9; }}
QFrame#kpiCard[selected="true"]:hover {{ border-color: {SELECTED}; }}
QLabel#kpiTitle {{ color: {TITLE}; font-size: 9pt; font-weight: 600; }}
QLabel#kpiValue {{ color: {VALUE}; font-size: 17pt; font-weight: 700; }}
QLabel#kpiValue[available="false"] {{
    color: {MUTED}; font-size: 9.5pt; font-weight: 400; font-style: italic;
}}
QLabel#kpiCaption {{ color: {TITLE}; font-size: 8.5pt; }}
"""
PANEL_CSS: Final = (
    f"QFrame#chartPanel {{ background: {CARD_BG}; border: 1px solid {BORDER}; border-radius: 8px; }}"
    f"QLabel#chartTitle {{ color: {VALUE}; font-size: 10.5pt; font-weight: 600; }}"
    f"QLabel#chartNote {{ color: {MUTED}; font-size: 9pt; }}"
)

# Card titles where the service's title does not fit a card (the full title heads the tooltip).
SHORT_TITLES: Final = {
    "average_invoice": N_("Ø Rechnung (netto)"),
    "customer_value": N_("Kundenwert (CLV)"),
    "hu_due": N_("HU/AU fällig (60 Tage)"),
    "estimate_acceptance": N_("Annahmequote KVA"),
    "chat_leads": N_("Terminquote Chat-Leads"),
    "labour_share": N_("Lohnanteil"),
}

# What each widget means, for its tooltip (the service's note, e.g. the as-of day, is added below it).
KPI_HELP: Final = {
    "revenue_net": N_(
        "Summe der Nettobeträge aller Rechnungen mit Rechnungsdatum im Zeitraum. Stornorechnungen werden "
        "abgezogen, Entwürfe zählen nicht."
    ),
    "revenue_gross": N_("Wie Umsatz netto, aber mit Umsatzsteuer – das, was die Kunden insgesamt zahlen."),
    "invoice_count": N_("Ausgestellte Rechnungen im Zeitraum; eine Stornorechnung zählt negativ."),
    "average_invoice": N_("Umsatz netto geteilt durch die Zahl der Rechnungen: was ein Werkstattbesuch bringt."),
    "labour_share": N_(
        "Anteil des Lohns am Umsatz aus Lohn und Teilen (netto). Lohn bringt meist mehr Marge als Teile."
    ),
    "aw_sold": N_("Auf Rechnungen verkaufte Arbeitswerte (AW) im Zeitraum."),
    "utilisation": N_(
        "Geleistete AW aller Monteure geteilt durch ihre verfügbaren AW laut Arbeitszeit. Die Aufteilung je "
        "Monteur zeigt das Diagramm „Auslastung der Monteure“."
    ),
    "top_services": N_(
        "Zahl der verkauften Leistungen; genannt ist die umsatzstärkste. Die ganze Rangliste steht im "
        "CSV-Export und im PDF-Bericht."
    ),
    "receivables_open": N_(
        "Noch nicht bezahlte Rechnungsbeträge (brutto) am Stichtag, Teilzahlungen abgezogen, stornierte "
        "Rechnungen nicht."
    ),
    "receivables_overdue": N_("Der Teil der offenen Forderungen, dessen Zahlungsziel am Stichtag überschritten ist."),
    "new_customers": N_("Kunden, die im Zeitraum zum ersten Mal eine Rechnung bekommen haben."),
    "customer_retention": N_("Anteil der aktiven Kunden, die im Zeitraum wiedergekommen sind."),
    "customer_value": N_(
        "Durchschnittlicher Nettoumsatz je Kunde seit dem ersten Besuch. Die RFM-Segmente (Champions, "
        "Stammkunden, Gefährdet, Verloren) stehen im CSV-Export und im PDF-Bericht."
    ),
    "hu_due": N_(
        "Fahrzeuge, deren HU/AU in den nächsten 60 Tagen fällig ist – Kunden, die man jetzt anrufen oder "
        "anschreiben kann. Die Liste mit Telefonnummern steht im CSV-Export."
    ),
    "estimate_acceptance": N_("Angenommene Kostenvoranschläge geteilt durch angenommene plus abgelehnte."),
    "appointments": N_("Termine im Zeitraum, abgesagte nicht mitgezählt."),
    "no_show_rate": N_("Anteil der Termine mit bekanntem Ausgang, zu denen der Kunde nicht erschienen ist."),
    "chat_leads": N_(
        "Anteil der Leads aus dem Website-Chat, die zu einem Termin geführt haben (Terminanfrage aus dem Chat "
        "oder vom Team verknüpfter Termin; abgesagte zählen nicht). Ein Lead ist ein Chat, in dem der Kunde "
        "Telefon oder E-Mail hinterlassen oder einen Termin angefragt hat."
    ),
}


def value_text(value: Decimal | int | None, unit: str) -> str:
    """A value with its unit: "8.537,85 €", "54,2 %", "392 AW", "34"; "–" when there is none."""
    if value is None:
        return "–"
    if unit == "EUR":
        return formatting.money(Decimal(value))
    if unit == "%":
        return f"{percent_number(value)}\u00a0%"
    if unit == "AW":
        return f"{formatting.number(value, 2)}\u00a0AW"
    return formatting.number(value, 0)


def percent_number(value: Decimal | int) -> str:
    """A percentage with exactly one decimal ("6,0"), so a column of them lines up."""
    return str(format_decimal(value, format="#,##0.0", locale=locale_name()))


def is_better(item: Kpi) -> bool | None:
    """Whether the change is an improvement (None: no change or nothing to compare)."""
    if item.delta is None or item.delta == 0:
        return None
    return (item.delta > 0) != item.lower_is_better


def delta_text(item: Kpi) -> str:
    """ "▲ 25,9 %", "▼ 7,1 Pp.", "± 0" – or "" without a previous value."""
    if item.delta is None:
        return ""
    if item.delta == 0:
        return _("± 0")
    arrow = "▲" if item.delta > 0 else "▼"
    size = abs(Decimal(item.delta))
    if item.unit == "%":
        return _("{arrow} {points} Pp.").format(arrow=arrow, points=percent_number(size))
    if item.delta_percent is not None:
        return f"{arrow} {percent_number(abs(item.delta_percent))}\u00a0%"
    return f"{arrow} {value_text(size, item.unit)}"  # the previous value was 0: no percentage


def delta_colour(item: Kpi) -> str:
    """Green for better, red for worse, grey for no change."""
    better = is_better(item)
    return NEUTRAL if better is None else GOOD if better else BAD


def comparison_name(previous: Period | None) -> str:
    """ "ggü. Vormonat", "ggü. Vorquartal", "ggü. Vorjahr", "ggü. Vorzeitraum"."""
    if previous is None:
        return ""
    months = previous.whole_months
    if months == 1:
        return _("ggü. Vormonat")
    if months == 3:
        return _("ggü. Vorquartal")
    if months == 12:
        return _("ggü. Vorjahr")
    return _("ggü. Vorzeitraum")


def tooltip_text(item: Kpi, report: KpiReport) -> str:
    """What the widget means, how it is computed here and the previous period's value (rich text)."""
    parts = [f"<b>{item.title}</b>"]
    help_text = KPI_HELP.get(item.id)
    if help_text:
        parts.append(_(help_text))
    if item.note:
        parts.append(f"<i>{item.note}</i>")
    if item.available and report.previous is not None and item.previous is not None:
        parts.append(
            _("Vergleich {range}: {value}").format(
                range=report.previous.label(), value=value_text(item.previous, item.unit)
            )
        )
    if item.available and item.value is None:
        parts.append(_("Im Zeitraum gibt es dafür keine Daten."))
    parts.append(_("Klicken wählt die Kennzahl für den CSV-Export aus."))
    return "<p style='white-space:pre-wrap'>" + "<br><br>".join(parts) + "</p>"


def utilisation_colour(value: Decimal | None) -> str:
    """The bar colour of a mechanic's utilisation."""
    if value is None:
        return MUTED
    for threshold, colour in UTILISATION_BANDS:
        if value >= threshold:
            return colour
    return BAD
