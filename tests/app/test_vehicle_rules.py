"""Vehicle rules (DOM-01, DOM-02): VIN check and decoding, plates, HSN/TSN, HU/AU, mileage, first registration."""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources

import pytest
from babel import Locale

from app import vehicle_rules as vr
from app.errors import ValidationError
from app.i18n import set_language
from app.vehicle_rules import HuStatus

D = dt.date
TODAY = D(2026, 11, 27)

# ---------------------------------------------------------------------------------------------- VIN


def test_normalize_vin_uppercases_and_drops_spaces() -> None:
    assert vr.normalize_vin(" wvw zzz1jz xw000001\t") == "WVWZZZ1JZXW000001"


def test_validate_vin_accepts_lowercase_and_empty() -> None:
    assert vr.validate_vin("wvwzzz1jzxw000001") == "WVWZZZ1JZXW000001"
    assert vr.validate_vin("") == ""
    assert vr.validate_vin("   ") == ""


@pytest.mark.parametrize(
    ("vin", "position", "char", "suggestion"),
    [
        ("WVWZZZ1JZXW00000I", 17, "I", "1"),
        ("WVWZZZ1JZXWO00001", 12, "O", "0"),
        ("QVWZZZ1JZXW000001", 1, "Q", "0"),
    ],
)
def test_validate_vin_names_forbidden_letter_and_position(vin: str, position: int, char: str, suggestion: str) -> None:
    with pytest.raises(ValidationError) as err:
        vr.validate_vin(vin, field="fin")
    assert err.value.field == "fin"
    assert err.value.params == {"position": position, "char": char, "suggestion": suggestion}
    assert f"an Stelle {position} den Buchstaben „{char}“" in str(err.value)
    assert "I, O und Q" in str(err.value)


def test_validate_vin_rejects_other_characters_with_position() -> None:
    with pytest.raises(ValidationError) as err:
        vr.validate_vin("WVW-ZZ1JZXW000001")
    assert err.value.field == "vin"
    assert "an Stelle 4 das unzulässige Zeichen „-“" in str(err.value)
    with pytest.raises(ValidationError, match="Stelle 2 .*„Ä“"):
        vr.validate_vin("wäWZZZ1JZXW000001")


@pytest.mark.parametrize("vin", ["WVWZZZ1JZXW00000", "WVWZZZ1JZXW0000011"])
def test_validate_vin_requires_17_characters(vin: str) -> None:
    with pytest.raises(ValidationError) as err:
        vr.validate_vin(vin)
    assert err.value.params == {"count": len(vin)}
    assert f"genau 17 Zeichen lang sein – eingegeben wurden {len(vin)}" in str(err.value)


def test_check_digit_north_america() -> None:
    assert vr.vin_check_digit_ok("1HGCM82633A004352") is True
    assert vr.vin_check_digit_ok("1hgcm82633a004352") is True
    assert vr.vin_check_digit_ok("1HGCM82643A004352") is False
    assert vr.vin_check_digit_ok("1M8GDM9AXKP042788") is True  # remainder 10 → "X"
    # The Tesla sample VIN of the brief has a made-up serial: its check digit would be 2, not 7.
    assert vr.vin_check_digit_ok("5YJ3E1EA7KF317000") is False
    assert vr.vin_check_digit_ok("5YJ3E1EA2KF317000") is True


def test_check_digit_not_required_outside_north_america() -> None:
    assert vr.vin_check_digit_ok("WVWZZZ1JZXW000001") is None
    assert vr.vin_check_digit_ok("") is None
    with pytest.raises(ValidationError):
        vr.vin_check_digit_ok("1HGCM8263IA004352")


def test_decode_volkswagen() -> None:
    info = vr.decode_vin("wvwzzz1jzxw000001", today=TODAY)
    assert info == vr.VinInfo("WVW", "Volkswagen", "DE", 1999, None)
    assert info.country_name == "Deutschland"


def test_decode_us_honda_uses_position_7_for_the_cycle() -> None:
    info = vr.decode_vin("1HGCM82633A004352", today=TODAY)
    assert (info.manufacturer, info.country, info.model_year, info.check_digit_ok) == ("Honda", "US", 2003, True)


def test_decode_tesla_letter_at_position_7_means_2010_or_later() -> None:
    info = vr.decode_vin("5YJ3E1EA7KF317000", today=TODAY)
    assert (info.manufacturer, info.country, info.model_year) == ("Tesla", "US", 2019)
    assert info.check_digit_ok is False


def test_north_american_cycle_boundaries() -> None:
    assert vr.decode_vin("1HGCM8A23AA004352", today=TODAY).model_year == 2010
    assert vr.decode_vin("1HGCM8253AA004352", today=TODAY).model_year == 1980
    # A pre-2010 VIN with a letter at position 7 must not land in 2033.
    assert vr.decode_vin("1HGCM8A633A004352", today=TODAY).model_year == 2003


def test_european_year_is_latest_not_after_next_year() -> None:
    assert vr.decode_vin("WVWZZZ1KZAW000001", today=TODAY).model_year == 2010
    assert vr.decode_vin("WVWZZZ1KZVW000001", today=TODAY).model_year == 2027  # next year's models
    assert vr.decode_vin("WVWZZZ1KZVW000001", today=D(2025, 6, 1)).model_year == 1997
    assert vr.decode_vin("WVWZZZ1KZ8W000001", today=TODAY).model_year == 2008
    assert vr.decode_vin("WVWZZZ1KZZW000001", today=TODAY).model_year is None  # Z is no year code


def test_no_year_where_maker_does_not_encode_it() -> None:
    info = vr.decode_vin("WDD2040021A123456", today=TODAY)
    assert (info.manufacturer, info.country, info.model_year) == ("Mercedes-Benz", "DE", None)
    assert vr.decode_vin("VF1BM0G0H12345678", today=TODAY).model_year is None


@pytest.mark.parametrize(
    ("vin", "manufacturer", "country"),
    [
        ("TMBJJ7NE8J0123456", "Škoda", "CZ"),
        ("XP7YGCEK8PB000001", "Tesla", "DE"),
        ("LRWYGCEK1PC000001", "Tesla", "CN"),
        ("U5YHN816AJL012345", "Kia", "SK"),
        ("SAJAA06E76FN12345", "Jaguar", "GB"),
        ("WZZZZZZZZZZ000001", None, "DE"),  # region fallback W
        ("VSXZZZZZZZZ000001", None, "ES"),
        ("ZGZZZZZZZZZ000001", None, "IT"),
        ("KLZZZZZZZZZ000001", None, "KR"),
        ("3XZZZZZZZZZ000001", None, None),  # Costa Rica is not in the table
        ("0AAAAAAAAAAAAAAAA", None, None),
    ],
)
def test_decode_manufacturer_and_country(vin: str, manufacturer: str | None, country: str | None) -> None:
    info = vr.decode_vin(vin, today=TODAY)
    assert (info.wmi, info.manufacturer, info.country) == (vin[:3], manufacturer, country)


def test_decode_rejects_empty_and_invalid() -> None:
    with pytest.raises(ValidationError, match="Bitte eine FIN eingeben"):
        vr.decode_vin(" ")
    with pytest.raises(ValidationError, match="17 Zeichen"):
        vr.decode_vin("WVWZZZ1JZXW")


def test_country_name_follows_language() -> None:
    info = vr.decode_vin("WVWZZZ1JZXW000001", today=TODAY)
    set_language("en")
    try:
        assert info.country_name == "Germany"
    finally:
        set_language("de")
    assert vr.VinInfo("ZZZ", None, None, None, None).country_name is None


def test_wmi_table_is_loaded_once() -> None:
    assert vr._wmi_table() is vr._wmi_table()


def test_wmi_csv_content() -> None:
    text = resources.files("resources").joinpath("data", "wmi.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader([ln for ln in text.splitlines() if ln and not ln.startswith("#")], delimiter=";"))
    keys = [r["wmi"] for r in rows]
    assert len(keys) == len(set(keys))
    makers = {r["wmi"]: r for r in rows if len(r["wmi"]) == 3}
    assert len(makers) >= 150
    assert all(r["manufacturer"] for r in makers.values())
    territories = Locale.parse("de_DE").territories
    assert all(r["country"] in territories and r["year_at_10"] in {"0", "1"} for r in rows)
    for wmi, row in makers.items():
        if vr._is_north_american(wmi + "Z"):
            assert row["year_at_10"] == "1", wmi
    required = (
        "WVW WV1 WV2 WAU WUA WBA WBS WBY WDB WDD WDC W1K W1N WP0 WP1 W0L W0V WF0 TMB VSS VF1 VF3 VF7 ZFA SB1 "
        "KMH TMA KNA U5Y YV1 5YJ LRW XP7 UU1 WMW WME SJN JN1 JMZ SHH JHM TSM SAL SAJ ZAR ZLA LSJ LGX ZCF WMA"
    ).split()
    assert [w for w in required if w not in makers] == []
    assert {k: makers[k]["year_at_10"] for k in ("WVW", "WAU", "WDD", "5YJ")} == {
        "WVW": "1",
        "WAU": "1",
        "WDD": "0",
        "5YJ": "1",
    }


# -------------------------------------------------------------------------------------------- plates


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("M AB 123", "M-AB 123"),
        ("m-ab123", "M-AB 123"),
        ("M-AB-123", "M-AB 123"),
        ("  m  ab  123 ", "M-AB 123"),
        ("M–AB 123", "M-AB 123"),
        ("kön-ab 12", "KÖN-AB 12"),
        ("KÖN-AB 12H", "KÖN-AB 12H"),  # 8 characters including the H
        ("b-e 1 e", "B-E 1E"),
        ("HH AB 123E", "HH-AB 123E"),
        ("MÜ-A 9999", "MÜ-A 9999"),
        ("Y 123456", "Y-123 456"),
        ("y-123 456", "Y-123 456"),
        ("Y123456", "Y-123 456"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_plate(typed: str, canonical: str) -> None:
    assert vr.normalize_plate(typed) == canonical


def test_plate_without_separator_is_ambiguous() -> None:
    with pytest.raises(ValidationError) as err:
        vr.normalize_plate("MAB123", field="kennzeichen")
    assert err.value.field == "kennzeichen"
    assert "Bindestrich oder ein Leerzeichen" in str(err.value)
    assert "„MAB123“" in str(err.value)


def test_plate_digits_must_not_start_with_zero() -> None:
    with pytest.raises(ValidationError, match="nicht mit 0 beginnen"):
        vr.normalize_plate("M-AB 0123")
    with pytest.raises(ValidationError, match="nicht mit 0 beginnen"):
        vr.normalize_plate("M-AB 0")


@pytest.mark.parametrize(("typed", "count"), [("KÖN-AB 1234", 9), ("KÖN-AB 123E", 9), ("HH-AB 1234H", 9)])
def test_plate_too_long(typed: str, count: int) -> None:
    with pytest.raises(ValidationError) as err:
        vr.normalize_plate(typed)
    assert err.value.params["count"] == count
    assert f"hat {count} Zeichen – erlaubt sind höchstens 8" in str(err.value)


@pytest.mark.parametrize(
    "typed", ["M-ÄB 12", "M-ABC 12", "ABCD-A 1", "M-AB 12345", "M A B 12", "12-AB 3", "M-AB", "M-AB 12X"]
)
def test_plate_invalid_format_gives_example(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        vr.normalize_plate(typed)
    assert err.value.field == "plate"
    assert "z. B. „M-AB 123“" in str(err.value)


def test_civilian_y_plate_is_rejected() -> None:
    with pytest.raises(ValidationError, match="„Y-123 456“"):
        vr.normalize_plate("Y-AB 12")


def test_plate_search_key() -> None:
    assert vr.plate_search_key("M-AB 123") == "MAB123"
    assert vr.plate_search_key(" m ab-12 ") == "MAB12"
    assert vr.plate_search_key(vr.normalize_plate("kön ab 12")) == "KÖNAB12"


# ------------------------------------------------------------------------------------------- HSN/TSN


def test_hsn() -> None:
    assert vr.validate_hsn(" 0603 ") == "0603"
    assert vr.validate_hsn("") == ""
    for bad in ("603", "06031", "06O3"):
        with pytest.raises(ValidationError) as err:
            vr.validate_hsn(bad)
        assert err.value.field == "hsn"
        assert "genau 4 Ziffern" in str(err.value)


def test_tsn() -> None:
    assert vr.validate_tsn("bqm") == "BQM"
    assert vr.validate_tsn(" 5 3 1 ") == "531"
    assert vr.validate_tsn("") == ""
    for bad in ("AXK000123", "AX", "A-1", "ÄBC"):
        with pytest.raises(ValidationError) as err:
            vr.validate_tsn(bad, field="typ")
        assert err.value.field == "typ"
        assert "genau 3 Buchstaben oder Ziffern" in str(err.value)


# ------------------------------------------------------------------------------------------------ HU


@pytest.mark.parametrize(
    ("first_registration", "due"),
    [
        (D(2023, 3, 15), D(2026, 3, 1)),
        (D(2024, 2, 29), D(2027, 2, 1)),
        (D(2024, 12, 31), D(2027, 12, 1)),
        (D(2023, 1, 1), D(2026, 1, 1)),
    ],
)
def test_first_hu_due(first_registration: dt.date, due: dt.date) -> None:
    assert vr.first_hu_due(first_registration) == due


def test_next_hu_due_counts_from_inspection_month() -> None:
    assert vr.next_hu_due(D(2026, 11, 20)) == D(2028, 11, 1)
    assert vr.next_hu_due(D(2025, 1, 31)) == D(2027, 1, 1)
    assert vr.next_hu_due(D(2024, 2, 29)) == D(2026, 2, 1)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2025, 12, 30), HuStatus.OK),  # 61 days before 01.03.2026
        (D(2025, 12, 31), HuStatus.DUE_SOON),  # exactly 60 days
        (D(2026, 2, 28), HuStatus.DUE_SOON),
        (D(2026, 3, 1), HuStatus.DUE),
        (D(2026, 3, 31), HuStatus.DUE),  # last day of the due month is still fine
        (D(2026, 4, 1), HuStatus.OVERDUE),
        (D(2026, 5, 31), HuStatus.OVERDUE),  # two full months after the due month
        (D(2026, 6, 1), HuStatus.OVERDUE_2M),
        (D(2030, 1, 1), HuStatus.OVERDUE_2M),
    ],
)
def test_hu_status_month_boundaries(today: dt.date, status: HuStatus) -> None:
    due = vr.first_hu_due(D(2023, 3, 15))
    assert vr.hu_status(due, today) is status
    assert vr.hu_status(D(2026, 3, 17), today) is status  # any day of the due month means the month


def test_hu_status_leap_day_registration() -> None:
    due = vr.first_hu_due(D(2024, 2, 29))
    assert vr.hu_status(due, D(2027, 2, 28)) is HuStatus.DUE
    assert vr.hu_status(due, D(2027, 3, 1)) is HuStatus.OVERDUE
    assert vr.hu_status(due, D(2027, 4, 30)) is HuStatus.OVERDUE
    assert vr.hu_status(due, D(2027, 5, 1)) is HuStatus.OVERDUE_2M


def test_hu_status_december_due_crosses_year() -> None:
    due = D(2026, 12, 1)
    assert vr.hu_status(due, D(2026, 12, 31)) is HuStatus.DUE
    assert vr.hu_status(due, D(2027, 1, 1)) is HuStatus.OVERDUE
    assert vr.hu_status(due, D(2027, 2, 28)) is HuStatus.OVERDUE
    assert vr.hu_status(due, D(2027, 3, 1)) is HuStatus.OVERDUE_2M


def test_hu_status_unknown_and_soon_days() -> None:
    assert vr.hu_status(None, TODAY) is HuStatus.UNKNOWN
    due = D(2027, 1, 1)  # 35 days after TODAY
    assert vr.hu_status(due, TODAY, soon_days=30) is HuStatus.OK
    assert vr.hu_status(due, TODAY, soon_days=35) is HuStatus.DUE_SOON


def test_hu_labels() -> None:
    assert vr.hu_badge(D(2026, 11, 1), TODAY) == "HU fällig 11/2026"
    assert vr.hu_badge(D(2026, 12, 1), TODAY) == "HU bald fällig: 12/2026"
    assert vr.hu_badge(D(2028, 11, 1), TODAY) == "HU gültig bis 11/2028"
    assert vr.hu_badge(D(2026, 10, 1), TODAY) == "HU überfällig (fällig war 10/2026)"
    assert vr.hu_badge(D(2026, 8, 1), TODAY) == "HU > 2 Monate überfällig (fällig war 08/2026)"
    assert vr.hu_badge(None, TODAY) == "HU-Termin unbekannt"
    assert HuStatus.OVERDUE_2M.label == "HU > 2 Monate überfällig"
    assert HuStatus.DUE.label == "HU fällig"


# ------------------------------------------------------------------------- mileage, first registration


@pytest.mark.parametrize(
    ("km", "value"), [(0, 0), (2_000_000, 2_000_000), ("123.456 km", 123_456), (" 98765 ", 98_765), ("12 345", 12_345)]
)
def test_validate_mileage_accepts(km: int | str, value: int) -> None:
    assert vr.validate_mileage(km) == value


@pytest.mark.parametrize("km", [-1, 2_000_001, "-5", "2.000.001"])
def test_validate_mileage_range(km: int | str) -> None:
    with pytest.raises(ValidationError) as err:
        vr.validate_mileage(km, field="km")
    assert err.value.field == "km"
    assert "zwischen 0 und 2.000.000 km" in str(err.value)


@pytest.mark.parametrize("km", ["12,5", "abc", "", True])
def test_validate_mileage_rejects_non_integers(km: int | str) -> None:
    with pytest.raises(ValidationError, match="keine ganze Zahl"):
        vr.validate_mileage(km)


def test_mileage_may_not_go_down_without_tacho_exchange() -> None:
    with pytest.raises(ValidationError) as err:
        vr.check_mileage_sequence(120_000, 119_999)
    assert err.value.field == "mileage"
    assert "119.999 km ist niedriger als der letzte erfasste (120.000 km)" in str(err.value)
    assert "Tachotausch" in str(err.value)
    assert vr.check_mileage_sequence(120_000, 12_000, allow_lower=True) == 12_000
    assert vr.check_mileage_sequence(120_000, 120_000) == 120_000
    assert vr.check_mileage_sequence(None, 5) == 5
    with pytest.raises(ValidationError, match="2.000.000"):
        vr.check_mileage_sequence(None, 3_000_000, allow_lower=True)


def test_first_registration() -> None:
    assert vr.validate_first_registration(None, TODAY) is None
    assert vr.validate_first_registration(TODAY, TODAY) == TODAY
    assert vr.validate_first_registration(D(1886, 1, 1), TODAY) == D(1886, 1, 1)
    with pytest.raises(ValidationError) as err:
        vr.validate_first_registration(D(2026, 11, 28), TODAY)
    assert err.value.field == "first_registration"
    assert "28.11.2026 liegt in der Zukunft" in str(err.value)
    with pytest.raises(ValidationError, match="31.12.1885 liegt vor 1886"):
        vr.validate_first_registration(D(1885, 12, 31), TODAY, field="ez")
