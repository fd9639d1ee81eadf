"""Catalogue CSV files as German users really have them: read, validate, write.

Accepted input: UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode-Text"), otherwise cp1252
(Excel's "CSV (Trennzeichen-getrennt)"); separator ``;``, ``,`` or tab, sniffed from the header line;
decimal comma ("1.234,50") or decimal point; German or English column names in any case. Every bad
cell is collected as an :class:`ImportProblem`, then the whole file is rejected – nothing half-imported.

Export writes UTF-8 with BOM, ``;`` and decimal comma, so Excel opens it directly and a re-import
round-trips.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.errors import ImportProblem, ImportRejected
from app.i18n import N_, _
from app.money import CENT, parse_decimal

PRICE_RULES = ("aw", "fixed", "from")
VAT_RATES = (Decimal("19"), Decimal("7"), Decimal("0"))
DEFAULT_CATEGORY = "Sonstiges"
DEFAULT_VAT = Decimal("19.00")
MAX_CODE, MAX_CATEGORY, MAX_NAME = 20, 60, 160
MAX_AW = Decimal("1000")
MAX_PRICE = Decimal("9999999999.99")
COLUMNS = ("code", "category", "name", "aw", "parts", "price_rule", "price_net", "vat_rate", "active")
REQUIRED = ("code", "name", "aw")
PARTS_SEPARATOR = "|"

# Header aliases after normalisation (lower case, only letters and digits): what German price lists,
# DMS exports and hand-made Excel sheets call the columns.
_ALIASES: dict[str, list[str]] = {
    "code": "code nr nummer artikelnummer artikelnr artnr leistungsnummer leistungsnr leistungscode kennung".split(),
    "category": "category kategorie gruppe warengruppe leistungsgruppe bereich rubrik".split(),
    "name": "name bezeichnung leistung leistungsbezeichnung beschreibung artikelbezeichnung text".split(),
    "aw": "aw arbeitswerte arbeitswert awanzahl anzahlaw zeitaw".split(),
    "parts": "parts teile ersatzteile material typischeteile teileliste".split(),
    "price_rule": "pricerule preisregel preisart preistyp abrechnung abrechnungsart".split(),
    "price_net": (
        "pricenet price preisnetto preis nettopreis netto vknetto vkpreis vkpreisnetto verkaufspreis "
        "verkaufspreisnetto preiseur preisnettoeur"
    ).split(),
    "vat_rate": "vatrate vat mwst mwstsatz ust ustsatz steuersatz steuer mehrwertsteuer umsatzsteuer".split(),
    "active": "active aktiv".split(),
}
_HEADER_KEYS = {alias: key for key, aliases in _ALIASES.items() for alias in aliases}
# Shown in "missing column" messages, so users know what to call the column.
_EXPECTED = {
    "code": "„Nr“, „Code“ oder „Artikelnummer“",
    "name": "„Bezeichnung“, „Name“ oder „Leistung“",
    "aw": "„AW“ oder „Arbeitswerte“",
}
_RULE_WORDS = {
    **dict.fromkeys("aw arbeitswerte nachaw stundensatz".split(), "aw"),
    **dict.fromkeys("fixed fix fest festpreis pauschal pauschale pauschalpreis".split(), "fixed"),
    **dict.fromkeys("from ab abpreis mindestpreis".split(), "from"),
}
_YES = {"1", "ja", "j", "x", "true", "wahr", "yes", "aktiv"}
_NO = {"0", "nein", "n", "false", "falsch", "no", "inaktiv"}
_NON_ALNUM = re.compile(r"[\W_]+")
_GERMAN_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_NUMERIC = ("aw", "price_net", "vat_rate")
_AMBIGUOUS = N_("„{value}“ ist nicht eindeutig – bitte ohne Tausenderpunkt ({whole}) oder mit Dezimalkomma schreiben.")
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ServiceRow:
    """One catalogue service as data (a file row, or the input of create/update).

    ``active`` None means "not given": new services become active, existing ones keep their flag.
    """

    code: str
    category: str
    name: str
    aw: Decimal
    parts: tuple[str, ...] = ()
    price_rule: str = "aw"
    price_net: Decimal | None = None
    vat_rate: Decimal = DEFAULT_VAT
    active: bool | None = None


# (field, German message id, named parameters) – the same rules serve the CSV import and the service.
Issue = tuple[str, str, dict[str, Any]]


def check_row(row: ServiceRow) -> list[Issue]:
    """Every rule a catalogue service must satisfy; an empty list when the row is valid."""
    issues: list[Issue] = []
    if not row.code:
        issues.append(("code", N_("Die Nummer fehlt."), {}))
    elif len(row.code) > MAX_CODE:
        issues.append(
            (
                "code",
                N_("Die Nummer „{value}“ ist zu lang – höchstens {max} Zeichen."),
                {"value": row.code, "max": MAX_CODE},
            )
        )
    if not row.name:
        issues.append(("name", N_("Die Bezeichnung fehlt."), {}))
    elif len(row.name) > MAX_NAME:
        issues.append(("name", N_("Die Bezeichnung ist zu lang – höchstens {max} Zeichen."), {"max": MAX_NAME}))
    if len(row.category) > MAX_CATEGORY:
        issues.append(("category", N_("Die Kategorie ist zu lang – höchstens {max} Zeichen."), {"max": MAX_CATEGORY}))
    issues += _check_aw(row.aw)
    if row.price_rule not in PRICE_RULES:
        issues.append(
            (
                "price_rule",
                N_(
                    "Unbekannte Preisregel „{value}“ – erlaubt sind „aw“ (nach AW), "
                    "„fixed“ (Festpreis) und „from“ (ab-Preis)."
                ),
                {"value": row.price_rule},
            )
        )
    if row.price_net is not None:
        issues += _check_price(row.price_net)
    elif row.price_rule in ("fixed", "from"):
        issues.append(("price_net", N_("Für die Preisregel „{rule}“ fehlt der Preis netto."), {"rule": row.price_rule}))
    if row.vat_rate not in VAT_RATES:
        issues.append(
            (
                "vat_rate",
                N_("Unbekannter Steuersatz „{value}“ – erlaubt sind 19, 7 oder 0 %."),
                {"value": _plain(row.vat_rate)},
            )
        )
    return issues


def _check_aw(aw: Decimal) -> list[Issue]:
    if aw < 0:
        return [("aw", N_("Die Arbeitswerte dürfen nicht negativ sein ({value})."), {"value": _plain(aw)})]
    if aw > MAX_AW:
        return [
            ("aw", N_("{value} AW sind unrealistisch viel – höchstens {max} AW."), {"value": _plain(aw), "max": MAX_AW})
        ]
    if aw != aw.quantize(CENT):
        return [
            ("aw", N_("Arbeitswerte bitte mit höchstens 2 Nachkommastellen angeben ({value})."), {"value": _plain(aw)})
        ]
    return []


def _check_price(price: Decimal) -> list[Issue]:
    if price < 0:
        return [("price_net", N_("Der Preis darf nicht negativ sein ({value})."), {"value": _plain(price)})]
    if price > MAX_PRICE:
        return [("price_net", N_("Der Preis {value} ist zu hoch."), {"value": _plain(price)})]
    if price != price.quantize(CENT):
        return [("price_net", N_("Der Preis „{value}“ hat mehr als 2 Nachkommastellen."), {"value": _plain(price)})]
    return []


def _plain(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


def normalise_row(row: ServiceRow) -> ServiceRow:
    """Trim text, drop empty parts, fill the default category, lower-case the price rule."""
    parts = tuple(p.strip() for p in row.parts if p.strip())
    return ServiceRow(
        code=row.code.strip(),
        category=row.category.strip() or DEFAULT_CATEGORY,
        name=" ".join(row.name.split()),
        aw=row.aw,
        parts=parts,
        price_rule=row.price_rule.strip().lower(),
        price_net=row.price_net,
        vat_rate=row.vat_rate,
        active=row.active,
    )


# ---------------------------------------------------------------------------------------------- reading


def decode_bytes(data: bytes) -> str:
    """Text of a CSV file: BOM-marked UTF-8/UTF-16, plain UTF-8, else cp1252 (Excel's ANSI export)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte, and its umlauts are the same.
        return data.decode("latin-1")


def sniff_separator(header_line: str) -> str:
    """``;``, tab or ``,`` – whichever occurs most often in the header line (``;`` wins ties)."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ";"


def _header_key(cell: str) -> str | None:
    norm = _NON_ALNUM.sub("", cell.replace("\ufeff", "").casefold())
    return _HEADER_KEYS.get(norm)


def _map_header(header: list[str]) -> tuple[dict[str, int], list[ImportProblem]]:
    """Column index per field key; problems for duplicate and missing required columns."""
    columns: dict[str, int] = {}
    problems: list[ImportProblem] = []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        if key is None:
            continue  # unknown columns (e.g. "Preis brutto", "Bemerkung") are ignored on purpose
        if key in columns:
            problems.append(
                ImportProblem(
                    1,
                    cell.strip(),
                    _("Die Spalte ist doppelt vorhanden (auch „{other}“).").format(other=header[columns[key]].strip()),
                )
            )
            continue
        columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            problems.append(
                ImportProblem(
                    1, key, _("Die Pflichtspalte fehlt – erwartet z. B. {names}.").format(names=_EXPECTED[key])
                )
            )
    return columns, problems


class _RowParser:
    """Turns the cells of one data row into a ServiceRow, collecting problems with file column names."""

    def __init__(self, header: list[str], columns: dict[str, int], records: list[list[str]]) -> None:
        self.columns = columns
        # A column with a decimal comma anywhere is German: there "2.490" is 2490, not 2.49.
        self.german = {key: any("," in self.cell(cells, key) for cells in records) for key in _NUMERIC}
        self.labels = {key: header[index].strip() for key, index in columns.items()}
        # A missing price column is reported at the price-rule column, where the user can fix it.
        self.labels.setdefault("price_net", self.labels.get("price_rule", "price_net"))

    def cell(self, cells: list[str], key: str) -> str:
        index = self.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def parse(self, row_no: int, cells: list[str], problems: list[ImportProblem]) -> ServiceRow | None:
        """The row, or None when it had problems (appended to ``problems``)."""
        bad: dict[str, ImportProblem] = {}

        def number(key: str, default: Decimal | None) -> Decimal | None:
            raw = self.cell(cells, key)
            if key == "vat_rate":
                raw = raw.replace("%", "")
            if not raw:
                return default
            compact = raw.replace("€", "").replace(" ", "").replace("\u00a0", "")
            if _GERMAN_GROUPED.match(compact):
                if not self.german[key]:
                    # "2.490" in a file without decimal commas: 2490 or 2.49? Guessing could misprice by 1000×.
                    bad[key] = self.problem(row_no, key, _AMBIGUOUS, {"value": raw, "whole": compact.replace(".", "")})
                    return default
                compact = compact.replace(".", "")
            try:
                return parse_decimal(compact)
            except ValueError:
                bad[key] = self.problem(row_no, key, N_("„{value}“ ist keine gültige Zahl."), {"value": raw})
                return default

        aw = number("aw", Decimal("0"))
        price = number("price_net", None)
        vat = number("vat_rate", DEFAULT_VAT)
        rule_raw = self.cell(cells, "price_rule")
        rule = _RULE_WORDS.get(_NON_ALNUM.sub("", rule_raw.casefold()), rule_raw)
        if not rule_raw:
            # A file without price rules: a given price is meant as a fixed price (Festpreis).
            rule = "fixed" if price is not None else "aw"
        active_raw = self.cell(cells, "active").casefold()
        active = True if active_raw in _YES else False if active_raw in _NO else None
        if active_raw and active is None:
            bad["active"] = self.problem(
                row_no,
                "active",
                N_("„{value}“ ist kein gültiger Wert für „aktiv“ – bitte „ja“ oder „nein“."),
                {"value": self.cell(cells, "active")},
            )
        row = normalise_row(
            ServiceRow(
                code=self.cell(cells, "code"),
                category=self.cell(cells, "category"),
                name=self.cell(cells, "name"),
                aw=aw if aw is not None else Decimal("0"),
                parts=tuple(self.cell(cells, "parts").split(PARTS_SEPARATOR)),
                price_rule=rule,
                price_net=price,
                vat_rate=vat if vat is not None else DEFAULT_VAT,
                active=active,
            )
        )
        for key, message, params in check_row(row):
            # A cell that could not be parsed is reported once, not again as "missing".
            bad.setdefault(key, self.problem(row_no, key, message, params))
        problems.extend(bad.values())
        return None if bad else row

    def problem(self, row_no: int, key: str, message: str, params: dict[str, Any]) -> ImportProblem:
        return ImportProblem(row_no, self.labels.get(key, key), _(message).format(**params))


def read_catalog_csv(data: bytes) -> list[ServiceRow]:
    """Parse and validate a whole catalogue file; raise ImportRejected listing every problem."""
    if data.startswith(_XLSX_MAGIC):
        raise ImportRejected(
            [
                ImportProblem(
                    1,
                    "",
                    _(
                        "Das ist eine Excel-Arbeitsmappe, keine CSV-Datei – bitte in Excel „Speichern unter“ → "
                        "„CSV UTF-8 (durch Trennzeichen getrennt)“ wählen."
                    ),
                )
            ]
        )
    text = decode_bytes(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise ImportRejected([ImportProblem(1, "", _("Die Datei ist leer."))])
    separator = sniff_separator(first)
    if first.lower().startswith("sep=") and len(first.strip()) <= 6:
        # Excel's "sep=;" hint line: honour it and drop it.
        separator = first.strip()[4:5] or separator
        text = text[text.index(first) + len(first) :].lstrip("\r\n")
    records = [cells for cells in csv.reader(io.StringIO(text), delimiter=separator)]
    header_index = next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), None)
    if header_index is None:
        raise ImportRejected([ImportProblem(1, "", _("Die Datei ist leer."))])
    header = records[header_index]
    columns, problems = _map_header(header)
    if problems:
        raise ImportRejected(problems)
    parser = _RowParser(header, columns, records[header_index + 1 :])
    rows: list[ServiceRow] = []
    first_seen: dict[str, int] = {}
    # Row numbers as Excel shows them: the header is row 1.
    for row_no, cells in enumerate(records[header_index + 1 :], start=2):
        if not any(c.strip() for c in cells):
            continue  # Excel leaves ";;;;" lines behind
        row = parser.parse(row_no, cells, problems)
        code = parser.cell(cells, "code")
        if code and code in first_seen:
            problems.append(
                parser.problem(
                    row_no,
                    "code",
                    N_("Die Nummer „{value}“ kommt in der Datei mehrfach vor (zuerst in Zeile {first})."),
                    {"value": code, "first": first_seen[code]},
                )
            )
            continue
        if code:
            first_seen[code] = row_no
        if row is not None:
            rows.append(row)
    if not problems and not rows:
        problems.append(ImportProblem(2, "", _("Die Datei enthält keine Leistungen.")))
    if problems:
        raise ImportRejected(problems)
    return rows


# ---------------------------------------------------------------------------------------------- writing


def _decimal_comma(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f").replace(".", ",")


def write_catalog_csv(rows: Iterable[ServiceRow]) -> bytes:
    """The catalogue as Excel-friendly CSV bytes: UTF-8 with BOM, ``;``, decimal comma, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.code,
                row.category,
                row.name,
                _decimal_comma(row.aw),
                PARTS_SEPARATOR.join(row.parts),
                row.price_rule,
                _decimal_comma(row.price_net),
                _decimal_comma(row.vat_rate),
                "" if row.active is None else ("ja" if row.active else "nein"),
            ]
        )
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
