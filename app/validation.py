"""Field validators with German messages naming the field: VAT ids, tax numbers, IBAN/BIC,
postcodes, e-mail and phone. Each returns the normalised value or raises ValidationError.

Vehicle-specific validators (VIN, plate, HSN/TSN) live in ``app.vehicle_rules``.
"""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import exceptions as stdnum_exc
from stdnum.de import stnr
from stdnum.eu import vat

from app.errors import ValidationError

_POSTCODE = {
    "DE": (re.compile(r"^\d{5}$"), "5 Ziffern"),
    "AT": (re.compile(r"^\d{4}$"), "4 Ziffern"),
    "CH": (re.compile(r"^\d{4}$"), "4 Ziffern"),
    "NL": (re.compile(r"^\d{4} ?[A-Z]{2}$"), "4 Ziffern und 2 Buchstaben"),
    "PL": (re.compile(r"^\d{2}-\d{3}$"), "NN-NNN"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()/\-]{5,25}$")


def postcode(value: str, country: str = "DE", *, field: str = "postcode") -> str:
    """German postcodes have 5 digits (01001–99998); AT/CH 4; others are taken as typed."""
    value = value.strip().upper()
    if not value:
        return ""
    rule = _POSTCODE.get(country.upper())
    if rule and not rule[0].match(value):
        raise ValidationError(
            "Die Postleitzahl „{value}“ ist ungültig – erwartet: {rule}.", field=field, value=value, rule=rule[1]
        )
    if country.upper() == "DE" and value in {"00000", "99999"}:
        raise ValidationError("Die Postleitzahl „{value}“ gibt es nicht.", field=field, value=value)
    return value


def vat_id(value: str, *, field: str = "vat_id") -> str:
    """An EU VAT id (USt-IdNr.), e.g. DE136695976; checksum-validated by python-stdnum."""
    value = value.strip()
    if not value:
        return ""
    try:
        return str(vat.validate(value))
    except stdnum_exc.ValidationError as exc:
        raise ValidationError(
            "Die USt-IdNr. „{value}“ ist ungültig – bitte prüfen: Länderkürzel und Nummer, z. B. DE + 9 Ziffern.",
            field=field,
            value=value,
        ) from exc


def tax_number(value: str, bundesland: str = "", *, field: str = "tax_number") -> str:
    """A German Steuernummer in regional or 13-digit federal format; checked against the Bundesland."""
    value = value.strip()
    if not value:
        return ""
    region = _STNR_REGION.get(bundesland.upper()) if bundesland else None
    try:
        return str(stnr.validate(value, region)) and value
    except stdnum_exc.ValidationError as exc:
        raise ValidationError(
            "Die Steuernummer „{value}“ ist ungültig{where} – Format z. B. 181/815/08155 (Bayern).",
            field=field,
            value=value,
            where=f" für {bundesland.upper()}" if region else "",
        ) from exc


def iban(value: str, *, field: str = "iban") -> str:
    """An IBAN, checksum and country format validated (schwifty); returned in compact form."""
    value = value.strip()
    if not value:
        return ""
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise ValidationError(
            "Die IBAN „{value}“ ist ungültig – bitte Ziffern und Prüfsumme kontrollieren.",
            field=field,
            value=value,
        ) from exc


def bic(value: str, *, field: str = "bic") -> str:
    """A BIC (8 or 11 characters)."""
    value = value.strip().upper().replace(" ", "")
    if not value:
        return ""
    try:
        return str(BIC(value, allow_invalid=False).compact)
    except SchwiftyException as exc:
        raise ValidationError(
            "Die BIC „{value}“ ist ungültig – 8 oder 11 Zeichen, z. B. COBADEFFXXX.", field=field, value=value
        ) from exc


def email(value: str, *, field: str = "email") -> str:
    """A plausible e-mail address."""
    value = value.strip()
    if value and not _EMAIL.match(value):
        raise ValidationError("Die E-Mail-Adresse „{value}“ ist ungültig.", field=field, value=value)
    return value


def phone(value: str, *, field: str = "phone") -> str:
    """A phone number: digits, spaces, + ( ) / -."""
    value = value.strip()
    if value and not _PHONE.match(value):
        raise ValidationError(
            "Die Telefonnummer „{value}“ ist ungültig – nur Ziffern, Leerzeichen und + ( ) / -.",
            field=field,
            value=value,
        )
    return value


def required(value: str, *, field: str, label: str) -> str:
    """A mandatory text field."""
    value = value.strip()
    if not value:
        raise ValidationError("Bitte „{label}“ ausfüllen.", field=field, label=label)
    return value


# Bundesland code (ISO 3166-2:DE suffix, as used by `holidays`) → stdnum region name.
_STNR_REGION = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}
BUNDESLAENDER = dict(_STNR_REGION)
