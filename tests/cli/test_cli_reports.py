"""`carbot report kpis|pdf|csv`, called in-process through main(argv) on the demo workshop with one invoice
issued today through the CLI (tests/data/order_private.json: net 1,234.25, VAT 252.31, gross 1,486.56)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import main
from app.demo import setup_workshop
from app.services.registry import Services

DATA = Path(__file__).resolve().parent.parent / "data"
TODAY = dt.date.today()  # the CLI issues invoices and reports on the real date


def run(capsys: pytest.CaptureFixture[str], db_path: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shop(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    services = Services.open(db_path)
    setup_workshop(services)
    services.close()
    code, out, _err = run(capsys, db_path, "orders", "import", str(DATA / "order_private.json"))
    assert code == 0
    order_id = json.loads(out)["order_ids"][0]
    assert run(capsys, db_path, "invoice", "finalize", str(order_id))[0] == 0
    return db_path


def today_args() -> list[str]:
    return ["--from", TODAY.isoformat(), "--to", TODAY.strftime("%d.%m.%Y")]


def test_kpis_as_json(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, out, err = run(capsys, shop, "report", "kpis", *today_args(), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["period"] == {"from": TODAY.isoformat(), "to": TODAY.isoformat()}
    widgets = {k["id"]: k for k in report["kpis"]}
    assert len(widgets) >= 12
    assert (widgets["revenue_net"]["value"], widgets["revenue_gross"]["value"]) == ("1234.25", "1486.56")
    assert widgets["revenue_net"]["previous"] == "0.00"
    assert widgets["invoice_count"]["value"] == 1
    assert widgets["receivables_open"]["value"] == "1486.56"  # not paid yet
    assert widgets["chat_leads"] == widgets["chat_leads"] | {"available": True, "value": None}
    assert widgets["revenue_net"]["detail"]["rows"][-1] == ["Summe", "1234.25", "252.31", "1486.56"]


def test_kpis_for_people_and_with_a_preset(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, out, _err = run(capsys, shop, "report", "kpis", "--preset", "this_month", "--no-compare")
    assert code == 0
    assert "Umsatz netto: 1.234,25 €" in out.replace("\u00a0", " ")
    assert "Chats, Leads und Terminquote: – – 0 Chats · 0 Leads · 0 mit Termin" in out


def test_pdf_and_csv_files(capsys: pytest.CaptureFixture[str], shop: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "bericht.pdf"
    code, out, _err = run(capsys, shop, "report", "pdf", *today_args(), "-o", str(pdf))
    assert code == 0 and "Managementbericht geschrieben" in out
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\u00a0", " ")
    assert "1.234,25 €" in text and "Umsatz netto nach Kategorie" in text
    csv_file = tmp_path / "umsatz.csv"
    code, _out, _err = run(capsys, shop, "report", "csv", *today_args(), "--kpi", "revenue_net", "-o", str(csv_file))
    assert code == 0
    content = csv_file.read_bytes().decode("utf-8-sig")
    assert "Umsatz netto;1234,25;EUR;0,00;1234,25;;ja;" in content


def test_bad_input_gives_a_german_message_and_exit_code_1(capsys: pytest.CaptureFixture[str], shop: Path) -> None:
    code, _out, err = run(capsys, shop, "report", "kpis", "--from", "31.02.2026", "--to", "2026-03-01")
    assert code == 1 and "„31.02.2026“ ist kein Datum" in err
    code, _out, err = run(capsys, shop, "report", "kpis", "--from", "2026-03-01")
    assert code == 1 and "--from und --to" in err
    code, _out, err = run(capsys, shop, "report", "kpis", "--from", "2026-03-02", "--to", "2026-03-01")
    assert code == 1 and "vor seinem Beginn" in err
    code, _out, err = run(capsys, shop, "report", "csv", *today_args(), "--kpi", "umsatz", "-o", "x.csv")
    assert code == 1 and "Kennzahl „umsatz“ gibt es nicht" in err
