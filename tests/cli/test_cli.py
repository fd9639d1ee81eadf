"""The carbot command, called in-process through main(argv)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from icalendar import Calendar

from app import __version__
from app.cli import main
from app.services.appointments import AppointmentInput
from app.services.customers import CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_settings_set_and_show(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(db_path)
    assert run(capsys, "--db", db, "settings", "set", "labour_rate_net", "120,00")[0] == 0
    assert run(capsys, "--db", db, "settings", "set", "aw_per_hour", "12")[0] == 0
    assert run(capsys, "--db", db, "settings", "set", "iban", "DE89 3704 0044 0532 0130 00")[0] == 0
    code, out, _ = run(capsys, "--db", db, "settings", "show", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["labour_rate_net"] == "120.00"
    assert data["aw_per_hour"] == 12
    assert data["aw_price"] == "10.0000"
    assert data["iban"] == "DE89370400440532013000"


def test_bad_setting_is_a_german_error_with_exit_1(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(db_path), "settings", "set", "vat_id", "DE000")
    assert code == 1
    assert "USt-IdNr." in err and "ungültig" in err
    code, _, err = run(capsys, "--lang", "en", "--db", str(db_path), "settings", "set", "aw_per_hour", "7")
    assert code == 1


def test_customers_search_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services.open(db_path)
    customer, _ = services.customers.create(CustomerInput(last_name="Müller", first_name="Anna"))
    services.vehicles.create(VehicleInput(customer_id=customer.id, plate="M-AB 123", vin="WVWZZZ1KZAW123456"))
    services.close()
    code, out, _ = run(capsys, "--db", str(db_path), "customers", "search", "M AB", "--json")
    hits = json.loads(out)
    assert code == 0
    assert hits[0]["kind"] == "vehicle" and hits[0]["title"].startswith("M-AB 123")
    code, out, _ = run(capsys, "--db", str(db_path), "customers", "search", "Müller")
    assert "Müller, Anna" in out


def test_appointments_export_ics(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services.open(db_path)
    bay = services.settings.add_bay("Bühne 1")
    services.appointments.book(
        AppointmentInput(
            start=dt.datetime(2026, 11, 30, 9, 0),
            end=dt.datetime(2026, 11, 30, 10, 0),
            bay_id=bay.id,
            title="Ölwechsel",
        )
    )
    services.close()
    ics = tmp_path / "termine.ics"
    code, _, _ = run(
        capsys,
        "--db",
        str(db_path),
        "appointments",
        "export",
        "--ics",
        str(ics),
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
    )
    assert code == 0
    events = [c for c in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")]
    assert len(events) == 1 and "Ölwechsel" in str(events[0]["SUMMARY"])


def test_db_check_and_backup(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--db", str(db_path), "db", "check")[0] == 0
    code, out, _ = run(capsys, "--db", str(db_path), "db", "backup", "-o", str(tmp_path / "copy.db"))
    assert code == 0 and (tmp_path / "copy.db").exists()


def test_corrupt_database_exit_1_with_german_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("kein SQLite")
    code, _, err = run(capsys, "--db", str(bad), "settings", "show")
    assert code == 1
    assert "beschädigt" in err or "keine CarBot-Datenbank" in err


def test_privacy_export_and_erase(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services.open(db_path)
    customer, _ = services.customers.create(CustomerInput(last_name="Weber"))
    services.close()
    zip_path = tmp_path / "auskunft.zip"
    assert run(capsys, "--db", str(db_path), "privacy", "export", customer.number, "-o", str(zip_path))[0] == 0
    assert zip_path.exists()
    code, _, err = run(capsys, "--db", str(db_path), "privacy", "erase", customer.number)
    assert code == 1 and "--yes" in err
    code, out, _ = run(capsys, "--db", str(db_path), "privacy", "erase", customer.number, "--yes", "--json")
    assert code == 0 and json.loads(out)["deleted"] is True


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
