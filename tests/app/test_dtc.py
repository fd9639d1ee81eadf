"""Trouble codes (issue 4 items 3 and 5): own German/English texts, J2012 rules, service suggestions."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from importlib import resources

import pytest

from app import dtc
from app.errors import ValidationError
from app.i18n import set_language


def _rows(*path: str) -> list[dict[str, str]]:
    """A resources CSV read independently of app.dtc (so the tests check the file, not the loader)."""
    raw = resources.files("resources").joinpath(*path).read_bytes()
    text = raw.decode("utf-8")  # must be valid UTF-8
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter=";"))


TEXT_ROWS = _rows("data", "dtc_texts.csv")
SERVICE_ROWS = _rows("data", "dtc_services.csv")
CATALOGUE = {row["code"] for row in _rows("catalog", "services.csv")}


@pytest.fixture
def english_ui() -> Iterator[None]:
    set_language("en")
    yield
    set_language("de")


# ------------------------------------------------------------------------------------------ the table


def test_table_has_at_least_320_unique_valid_codes() -> None:
    codes = [row["code"] for row in TEXT_ROWS]
    assert len(codes) >= 320
    assert len(set(codes)) == len(codes)
    assert all(dtc.CODE_PATTERN.match(code) for code in codes), [c for c in codes if not dtc.CODE_PATTERN.match(c)]
    assert list(TEXT_ROWS[0]) == ["code", "de", "en", "severity"]
    assert set(dtc.table()) == set(codes)


def test_every_row_has_german_and_english_text_and_a_severity() -> None:
    for row in TEXT_ROWS:
        assert row["de"].strip() and row["en"].strip(), row
        assert row["de"] != row["en"], row
        assert row["severity"] in dtc.SEVERITIES, row
    assert {row["severity"] for row in TEXT_ROWS} == set(dtc.SEVERITIES)


def test_german_texts_use_real_umlauts_and_english_texts_none() -> None:
    german = [row["de"] for row in TEXT_ROWS]
    with_umlaut = [text for text in german if re.search("[äöüÄÖÜß]", text)]
    assert len(with_umlaut) >= 100
    for text in german:
        assert "Ã" not in text and "\ufffd" not in text, text  # no mojibake
        assert not re.search(r"Zuend|Kuehl|Oeldruck|\bOel|Ueber|Fuell|Abgasrueck", text), text
    for row in TEXT_ROWS:
        assert not re.search("[äöüÄÖÜß]", row["en"]), row
    by_code = {row["code"]: row for row in TEXT_ROWS}
    assert by_code["P0303"]["de"] == "Zündaussetzer Zylinder 3 erkannt"
    assert by_code["P0524"]["de"].startswith("Öldruck zu niedrig")
    assert by_code["P0217"]["de"].startswith("Motor überhitzt")


def test_table_covers_the_codes_workshops_see_most() -> None:
    codes = set(dtc.table())
    wanted = {f"P03{n:02d}" for n in range(13)} | {f"P0{n}" for n in range(440, 457) if n != 454}
    wanted |= {f"P0{n}" for n in (*range(325, 329), *range(335, 346))}
    wanted |= {"P0420", "P0430", "P0171", "P0172", "P0174", "P0175", "P0128", "P0101", "P0135", "P0401"}
    wanted |= {"P0500", "P0505", "P0562", "P0563", "P0606", "P0700", "P0730"}
    wanted |= {"P2002", "P2463", "P2096", "P2097", "P2187", "P2188", "P2279", "P2100", "P2135", "P2138"}
    wanted |= {"U0100", "U0101", "U0121", "U0140", "U0155", "U0001", "U0073"}
    assert wanted <= codes, sorted(wanted - codes)
    assert any(code.startswith("C0") for code in codes)
    assert any(code.startswith("B0") for code in codes)


def test_severity_is_critical_for_misfire_oil_pressure_and_overheating() -> None:
    table = dtc.table()
    for code in ("P0300", "P0301", "P0312", "P0524", "P0217", "B0001"):
        assert table[code].severity == "kritisch", code
    assert table["P0457"].severity == "info"
    assert table["P0420"].severity == "warnung"


def test_no_text_is_copied_from_python_obd() -> None:
    """python-OBD (GPL-2.0) ships obd/codes.py; our texts must be our own wording."""
    from obd.codes import DTC

    def norm(text: str) -> str:
        return re.sub(r"[^0-9a-zäöüß]", "", text.casefold())

    shared = [row for row in TEXT_ROWS if row["code"] in DTC]
    assert len(shared) >= 300  # the comparison really covers the table
    copied = [row["code"] for row in shared if norm(DTC[row["code"]]) in (norm(row["en"]), norm(row["de"]))]
    assert copied == []


def test_broken_table_row_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dtc, "_read_rows", lambda name: [{"code": "P0420", "de": "x", "en": "y", "severity": "hoch"}])
    dtc._table.cache_clear()
    try:
        with pytest.raises(ValueError, match="P0420"):
            dtc.table()
    finally:
        dtc._table.cache_clear()


def test_table_version_is_set() -> None:
    assert re.match(r"^\d{4}\.\d+$", dtc.DTC_TABLE_VERSION)


# ------------------------------------------------------------------------------------------ describe


def test_describe_table_code_in_german_and_english() -> None:
    info = dtc.describe("P0420")
    assert info == dtc.DtcInfo(
        code="P0420",
        text="Katalysator Bank 1 – Wirkungsgrad unter Schwellenwert",
        system="Antrieb",
        group="Zusätzliche Abgasreinigung",
        manufacturer_specific=False,
        severity="warnung",
        source="katalog",
    )
    en = dtc.describe("P0420", lang="en")
    assert en.text == "Catalytic converter bank 1 – efficiency below threshold"
    assert (en.system, en.group) == ("Powertrain", "Auxiliary emission controls")
    with pytest.raises(AttributeError):
        info.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "system", "group"),
    [
        ("P0301", "Antrieb", "Zündsystem/Zündaussetzer"),
        ("P0171", "Antrieb", "Kraftstoff- und Luftzumessung"),
        ("P0500", "Antrieb", "Geschwindigkeit/Leerlauf/Hilfseingänge"),
        ("P0606", "Antrieb", "Steuergerät/Ausgänge"),
        ("P0730", "Antrieb", "Getriebe"),
        ("C0031", "Fahrwerk", "Fahrwerk allgemein (Bremsen, Lenkung, Federung)"),
        ("B0001", "Karosserie", "Rückhaltesysteme (Airbag/Gurtstraffer)"),
        ("U0100", "Netzwerk", "Netzwerk – Kommunikation mit Antriebs-Steuergerät"),
        ("U0121", "Netzwerk", "Netzwerk – Kommunikation mit Fahrwerks-Steuergerät"),
        ("U0155", "Netzwerk", "Netzwerk – Kommunikation mit Karosserie-Steuergerät"),
    ],
)
def test_describe_gives_system_and_j2012_group(code: str, system: str, group: str) -> None:
    info = dtc.describe(code)
    assert (info.system, info.group, info.source) == (system, group, "katalog")


def test_describe_follows_ui_language_when_lang_is_none(english_ui: None) -> None:
    assert dtc.describe("P0303", lang=None).text == "Misfire detected on cylinder 3"
    assert dtc.describe("P0303").text == "Zündaussetzer Zylinder 3 erkannt"  # explicit default "de"


@pytest.mark.parametrize(
    ("code", "group", "group_en"),
    [
        ("P0A80", "Hybrid-/Elektroantrieb", "Hybrid/electric propulsion"),
        ("P2BAD", "Kraftstoff- und Luftzumessung/Abgasreinigung", "Fuel and air metering/emission controls"),
        ("P03FF", "Zündsystem/Zündaussetzer", "Ignition system/misfire"),
        ("P3499", "Zylinderabschaltung", "Cylinder deactivation"),
        ("U0310", "Netzwerk – Software/Konfiguration", "Network – software/configuration"),
        (
            "U0125",
            "Netzwerk – Kommunikation mit Fahrwerks-Steuergerät",
            "Network – communication with a chassis module",
        ),
        ("U0499", "Netzwerk – unplausible Daten empfangen", "Network – implausible data received"),
        ("U3000", "Netzwerk/Kommunikation", "Network/communication"),
        ("B0050", "Rückhaltesysteme (Airbag/Gurtstraffer)", "Restraint systems (airbags/belt tensioners)"),
    ],
)
def test_generic_code_outside_the_table_gets_a_rule_based_text(code: str, group: str, group_en: str) -> None:
    assert code not in dtc.table()
    info = dtc.describe(code)
    assert info.source == "regel"
    assert not info.manufacturer_specific
    assert info.group == group
    assert info.text == f"{group} – genaue Bedeutung siehe Herstellerunterlagen (generischer Code, Gruppe {code[:3]})"
    en = dtc.describe(code, lang="en")
    assert en.text.startswith(f"{group_en} – see the manufacturer's documentation")
    assert en.text.endswith(f"(generic code, group {code[:3]})")


def test_p0a80_reads_like_the_workshop_expects() -> None:
    assert dtc.describe("P0A80").text == (
        "Hybrid-/Elektroantrieb – genaue Bedeutung siehe Herstellerunterlagen (generischer Code, Gruppe P0A)"
    )


@pytest.mark.parametrize(
    ("code", "system", "group"),
    [
        ("P1234", "Antrieb", "Kraftstoff- und Luftzumessung"),
        ("P1300", "Antrieb", "Zündsystem/Zündaussetzer"),
        ("P3000", "Antrieb", "Kraftstoff- und Luftzumessung/Abgasreinigung"),
        ("P3399", "Antrieb", "Zündsystem/Zündaussetzer"),
        ("U1001", "Netzwerk", "Netzwerk/Kommunikation"),
        ("U2100", "Netzwerk", "Netzwerk/Kommunikation"),
        ("B1234", "Karosserie", "Karosserie allgemein"),
        ("B2000", "Karosserie", "Karosserie allgemein"),
        ("C1234", "Fahrwerk", "Fahrwerk allgemein (Bremsen, Lenkung, Federung)"),
        ("C2F00", "Fahrwerk", "Fahrwerk allgemein (Bremsen, Lenkung, Federung)"),
    ],
)
def test_manufacturer_codes_say_so(code: str, system: str, group: str) -> None:
    info = dtc.describe(code)
    assert info.manufacturer_specific and dtc.is_manufacturer_specific(code)
    assert (info.system, info.group, info.source, info.severity) == (system, group, "regel", "warnung")
    assert info.text == f"Herstellerspezifischer Code – Bedeutung laut Herstellerunterlagen (Gruppe: {group})"
    assert dtc.describe(code, "en").text.startswith("Manufacturer-specific code – meaning per the manufacturer's")


@pytest.mark.parametrize("code", ["P0420", "P2002", "P3400", "P3900", "U0100", "U3000", "B0001", "B3000", "C0031"])
def test_sae_codes_are_not_manufacturer_specific(code: str) -> None:
    assert not dtc.is_manufacturer_specific(code)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("P0420", "P0420"),
        ("p0420", "P0420"),
        (" P0420 ", "P0420"),
        ("0420", "P0420"),
        ("04 20", "P0420"),
        ("3400", "P3400"),
        ("4123", "C0123"),
        ("7FFF", "C3FFF"),
        ("8123", "B0123"),
        ("B123", "B3123"),
        ("C123", "U0123"),
        ("c123", "U0123"),
        ("D001", "U1001"),
        ("1234", "P1234"),
    ],
)
def test_normalize_code_accepts_codes_and_raw_two_byte_hex(raw: str, code: str) -> None:
    assert dtc.normalize_code(raw) == code
    assert dtc.describe(raw).code == code


def test_raw_hex_describes_like_the_code() -> None:
    assert dtc.describe("0301") == dtc.describe("P0301")
    assert dtc.describe("C155").text == "Keine Kommunikation mit Kombiinstrument"


@pytest.mark.parametrize("bad", ["P4000", "X0420", "P04200", "P042", "P042G", "0x420", "PP420", "P0-20", "12345"])
def test_invalid_codes_raise_german_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        dtc.describe(bad)
    assert err.value.field == "code"
    assert f"„{bad}“ ist kein gültiger OBD-Fehlercode" in str(err.value)


def test_empty_code_raises() -> None:
    with pytest.raises(ValidationError, match="Bitte einen Fehlercode angeben"):
        dtc.normalize_code("  ")


def test_severity_label() -> None:
    assert [dtc.severity_label(s) for s in dtc.SEVERITIES] == ["Info", "Warnung", "Kritisch"]
    assert [dtc.severity_label(s, "en") for s in dtc.SEVERITIES] == ["Info", "Warning", "Critical"]
    with pytest.raises(ValidationError) as err:
        dtc.severity_label("hoch")
    assert err.value.field == "severity"


# --------------------------------------------------------------------------------------- suggestions


def test_every_suggestion_references_an_existing_catalogue_service() -> None:
    assert len(SERVICE_ROWS) >= 50
    missing = [
        (row["pattern"], svc) for row in SERVICE_ROWS for svc in row["services"].split("|") if svc not in CATALOGUE
    ]
    assert missing == []
    loaded = dtc.suggestion_rules()
    assert set(loaded) == {row["pattern"] for row in SERVICE_ROWS}  # loader keeps every row
    assert all(set(services) <= CATALOGUE for services in loaded.values())


def test_suggestion_patterns_are_valid_and_unique() -> None:
    patterns = [row["pattern"] for row in SERVICE_ROWS]
    assert len(set(patterns)) == len(patterns)
    for pattern in patterns:
        if pattern.endswith("*"):
            assert re.match(r"^([PCBU]([0-3][0-9A-F]{0,2})?)?\*$", pattern), pattern
        else:
            assert dtc.CODE_PATTERN.match(pattern), pattern
    assert "*" in patterns


def test_broken_suggestion_pattern_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dtc, "_read_rows", lambda name: [{"pattern": "P4*", "services": "DI-0003", "note": ""}])
    dtc._rules.cache_clear()
    try:
        with pytest.raises(ValueError, match="P4"):
            dtc.suggest_services("P0420")
    finally:
        dtc._rules.cache_clear()


def test_p0420_suggests_the_catalytic_converter() -> None:
    services = dtc.suggest_services("P0420")
    assert "AB-0005" in services  # Katalysator erneuern
    assert services[:3] == ["DI-0011", "AB-0010", "AB-0005"]  # exact row first, in its order
    assert dtc.suggest_services("P0430") == services


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("P0301", {"MO-0011", "IN-0025", "MO-0036"}),  # Zündspule, Zündkerzen, Kompression
        ("P0308", {"MO-0011", "IN-0025", "MO-0036"}),
        ("P0171", {"DI-0012", "MO-0024"}),  # Falschluft, Luftmassenmesser
        ("P0174", {"DI-0012", "MO-0024"}),
        ("P0128", {"KH-0004"}),  # Thermostat
        ("P0562", {"DI-0014", "EL-0001"}),  # Batterie/Ladesystem
        ("P0563", {"DI-0014", "EL-0015"}),
        ("U0100", {"DI-0005"}),
        ("U0073", {"DI-0005"}),
        ("P0401", {"AB-0017", "AB-0016"}),  # AGR
        ("P0402", {"AB-0017"}),
        ("P2002", {"AB-0008", "AB-0006", "DI-0016"}),  # DPF
        ("P0A80", {"HV-0007"}),
    ],
)
def test_typical_codes_suggest_the_matching_services(code: str, expected: set[str]) -> None:
    assert expected <= set(dtc.suggest_services(code))


def test_unknown_code_falls_back_to_diagnosis() -> None:
    assert dtc.suggest_services("P1234") == ["DI-0004", "DI-0003"]  # Motordiagnose, Fehlersuche
    assert dtc.suggest_services("C1234") == ["DI-0007", "DI-0003"]
    assert dtc.suggest_services("U3000")[-1] == "DI-0003"


def test_every_code_ends_with_the_diagnosis_fallback_without_duplicates() -> None:
    for code in [*dtc.table(), "P0A80", "P2BAD", "B1234", "U1001"]:
        services = dtc.suggest_services(code)
        assert services[-1] == "DI-0003", code
        assert len(services) == len(set(services)), code


def test_suggestions_are_most_specific_first() -> None:
    services = dtc.suggest_services("P0301")  # only P030*, P* and *
    assert services.index("MO-0011") < services.index("DI-0004") < services.index("DI-0003")
    # U0100's own row orders DI-0014 before DI-0005, the U* row the other way round: the exact row wins.
    assert dtc.suggest_services("U0100") == ["DI-0014", "DI-0005", "DI-0003"]
    assert dtc.suggest_services("U0999") == ["DI-0005", "DI-0014", "DI-0003"]
    assert dtc.suggest_services("P0700")[0] == "DI-0001"  # read the transmission module's memory first
    assert dtc.suggest_services("0420") == dtc.suggest_services("P0420")


def test_suggest_for_merges_several_codes() -> None:
    merged = dtc.suggest_for(["P0301", "P0420", "U0100"])
    assert len(merged) == len(set(merged))
    assert {"MO-0011", "AB-0005", "DI-0014"} <= set(merged)
    assert merged.index("AB-0005") < merged.index("MO-0011")  # exact match before prefix match
    assert merged[-1] == "DI-0003"
    assert dtc.suggest_for([]) == []
    with pytest.raises(ValidationError):
        dtc.suggest_for(["P0420", "nonsense"])
