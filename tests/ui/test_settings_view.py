"""The "Einstellungen" tab against a real database: loading, inline validation, saving, AW price,
bays and mechanics, catalogue search, CSV import/export and the language preference."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMessageBox

from app.changes import Changes
from app.services.registry import Services
from ui import prefs
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.settings.catalog_model import COL_AW, COL_CODE, COL_PRICE, COL_RULE
from ui.views.settings.catalog_page import ImportProblemsDialog
from ui.views.settings.view import SettingsView

CATALOG_CSV = (
    "Nr;Kategorie;Bezeichnung;AW;Teile;Preisregel;Preis netto\n"
    "OE-1;Ölservice;Ölwechsel mit Filter;4,5;Motoröl|Ölfilter;aw;\n"
    "BR-1;Bremsen;Bremsbeläge vorne erneuern;9;Bremsbeläge;ab;89,00\n"
    "HU-1;Prüfung;HU/AU-Vorführung;3;;Festpreis;139,00\n"
)


@pytest.fixture
def services(db) -> Services:  # type: ignore[no-untyped-def]
    return Services.for_database(db)


@pytest.fixture
def ctx(services: Services, tmp_path: Path) -> UiContext:
    return UiContext(services, TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "ui.ini"))


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """No modal message box may block the test run; calls are recorded instead."""
    calls: list[tuple[str, str]] = []
    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, lambda _p, title, text, *_a, n=name, **_k: calls.append((n, text)))

    def exec_(box: QMessageBox) -> int:
        calls.append(("exec", box.text()))
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return calls


@pytest.fixture
def view(qtbot, ctx: UiContext) -> SettingsView:  # type: ignore[no-untyped-def]
    widget = SettingsView(ctx)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    return widget


def _fill_valid(services: Services) -> None:
    services.settings.update(
        name="Kfz Huber",
        owner_name="Georg Huber",
        street="Landsberger Straße 312",
        postcode="80687",
        city="München",
        bundesland="BY",
        tax_number="181/815/08155",
        vat_id="DE136695976",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        bank_name="Commerzbank",
        labour_rate_net="118.50",
        aw_per_hour=12,
        slot_minutes=30,
    )


def _plain(text: object) -> str:
    """Babel puts a no-break space before "€"; compare with ordinary spaces."""
    return str(text).replace("\xa0", " ")


# --- Werkstatt -----------------------------------------------------------------------------------------


def test_loading_shows_the_current_values(qtbot, services: Services, ctx: UiContext) -> None:  # type: ignore[no-untyped-def]
    _fill_valid(services)
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    form = view.workshop.form
    assert form.edits["name"].text() == "Kfz Huber"
    assert form.edits["city"].text() == "München"
    assert form.edits["iban"].text() == "DE89 3704 0044 0532 0130 00"
    assert form.edits["vat_id"].text() == "DE136695976"
    assert form.labour_rate.text() == "118,50"
    assert form.aw_per_hour.currentData() == 12
    assert form.bundesland.currentText() == "Bayern"
    assert form.slot_minutes.currentData() == 30
    assert _plain(form.aw_price.text()) == "9,88 € netto je AW"  # 118,50 € ÷ 12, rounded half-up
    # Default opening hours: Mon–Fri two windows, Saturday morning, Sunday closed.
    monday, saturday, sunday = form.hours.rows[0], form.hours.rows[5], form.hours.rows[6]
    assert monday.intervals() == [["07:30", "12:00"], ["13:00", "17:30"]]
    assert saturday.intervals() == [["08:00", "12:00"]]
    assert sunday.closed.isChecked() and sunday.intervals() == []
    assert "Mo–Fr 07:30–12:00, 13:00–17:30" in form.hours_summary.text()
    assert not view.workshop.dirty


def test_bad_iban_and_vat_id_show_both_inline_and_save_nothing(view: SettingsView, services: Services) -> None:
    _fill_valid(services)
    view.workshop.load()
    form = view.workshop.form
    form.edits["name"].setText("Neuer Name")
    form.edits["iban"].setText("DE89370400440532013001")  # wrong check digits
    form.edits["vat_id"].setText("DE123456789")  # wrong checksum
    view.workshop.save_button.click()

    problems = view.workshop.problems()
    assert set(problems) == {"iban", "vat_id"}
    assert "IBAN" in problems["iban"]
    assert "USt-IdNr." in problems["vat_id"]
    for name in ("iban", "vat_id"):
        assert not form.fields[name].error.isHidden()
    assert "Nichts gespeichert" in view.workshop.status.text()
    stored = services.settings.get()
    assert stored.name == "Kfz Huber"  # not even the valid field was stored
    assert stored.iban == "DE89370400440532013000"


def test_typing_into_a_field_clears_its_message(qtbot, view: SettingsView) -> None:  # type: ignore[no-untyped-def]
    form = view.workshop.form
    form.edits["email"].setText("info@")
    view.workshop.save()
    assert "email" in view.workshop.problems()
    qtbot.keyClicks(form.edits["email"], "werkstatt.de")
    assert "email" not in view.workshop.problems()


def test_valid_values_are_saved(qtbot, view: SettingsView, services: Services, ctx: UiContext) -> None:  # type: ignore[no-untyped-def]
    form = view.workshop.form
    form.edits["name"].setText("Kfz-Meisterbetrieb Huber")
    form.edits["postcode"].setText("80687")
    form.edits["city"].setText("München")
    form.edits["iban"].setText("DE89 3704 0044 0532 0130 00")
    form.edits["vat_id"].setText("DE136695976")
    form.labour_rate.setText("120,00")
    form.aw_per_hour.setCurrentIndex(form.aw_per_hour.findData(12))
    form.bundesland.setCurrentIndex(form.bundesland.findData("NW"))
    form.slot_minutes.setCurrentIndex(form.slot_minutes.findData(20))
    form.hours.rows[5].closed.setChecked(True)  # Saturday closed
    form.hours.rows[2].second.setChecked(False)  # Wednesday only in the morning

    with qtbot.waitSignal(ctx.bus.operation_did_execute) as blocker:
        view.workshop.save_button.click()

    assert blocker.args[0] == Changes(settings=True)
    assert view.workshop.problems() == {}
    assert view.workshop.status.text() == "Gespeichert."
    stored = services.settings.get()
    assert stored.name == "Kfz-Meisterbetrieb Huber"
    assert stored.iban == "DE89370400440532013000"
    assert stored.labour_rate_net == Decimal("120.00")
    assert stored.aw_per_hour == 12
    assert stored.bundesland == "NW"
    assert stored.slot_minutes == 20
    hours = json.loads(stored.opening_hours)
    assert "5" not in hours
    assert hours["2"] == [["07:30", "12:00"]]
    assert hours["0"] == [["07:30", "12:00"], ["13:00", "17:30"]]


def test_reversed_opening_hours_are_reported_live_and_on_save(view: SettingsView, services: Services) -> None:
    form = view.workshop.form
    form.edits["name"].setText("Kfz Huber")
    tuesday = form.hours.rows[1]
    tuesday.edits[1].setTime(tuesday.edits[0].time().addSecs(-3600))  # ends before it starts
    assert "Dienstag" in form.fields["opening_hours"].error.text()
    view.workshop.save()
    assert "Dienstag" in view.workshop.problems()["opening_hours"]
    assert services.settings.get().name == ""


def test_aw_price_updates_live(qtbot, view: SettingsView) -> None:  # type: ignore[no-untyped-def]
    form = view.workshop.form
    form.labour_rate.clear()
    assert form.aw_price.text() == "–"
    qtbot.keyClicks(form.labour_rate, "120")
    assert _plain(form.aw_price.text()) == "12,00 € netto je AW"  # default 10 AW per hour
    form.aw_per_hour.setCurrentIndex(form.aw_per_hour.findData(12))
    assert _plain(form.aw_price.text()) == "10,00 € netto je AW"
    form.aw_per_hour.setCurrentIndex(form.aw_per_hour.findData(100))
    assert _plain(form.aw_price.text()) == "1,20 € netto je AW"
    form.labour_rate.setText("abc")
    assert form.aw_price.text() == "–"


def test_ctrl_s_saves(qtbot, view: SettingsView, services: Services) -> None:  # type: ignore[no-untyped-def]
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    form = view.workshop.form
    form.edits["name"].setFocus()
    form.edits["name"].setText("Kfz Tastatur")
    qtbot.keyClick(form.edits["name"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert services.settings.get().name == "Kfz Tastatur"


# --- Bühnen & Monteure ---------------------------------------------------------------------------------


def test_adding_and_deactivating_a_bay(qtbot, view: SettingsView, services: Services) -> None:  # type: ignore[no-untyped-def]
    view.show_page(view.PAGE_RESOURCES)
    bays = view.resources.bays
    bays.name.setText("Bühne 5")
    assert bays.kind is not None
    bays.kind.setCurrentText("Grube")
    bays.add_button.click()

    stored = services.settings.bays(include_inactive=True)
    assert [(b.name, b.kind, b.active) for b in stored] == [("Bühne 5", "Grube", True)]
    assert bays.list.count() == 1
    assert bays.list.item(0).text() == "Bühne 5 · Grube"
    assert bays.name.text() == ""

    bays.list.setCurrentRow(0)
    assert bays.toggle_button.text() == "Deaktivieren"
    bays.toggle_button.click()
    assert services.settings.bays() == []
    assert "(inaktiv)" in bays.list.item(0).text()
    assert bays.list.item(0).foreground().color().name() == "#9e9e9e"
    assert bays.toggle_button.text() == "Aktivieren"
    bays.toggle_button.click()
    assert [b.name for b in services.settings.bays()] == ["Bühne 5"]


def test_duplicate_bay_and_empty_mechanic_are_shown_inline(qtbot, view: SettingsView, services: Services) -> None:  # type: ignore[no-untyped-def]
    services.settings.add_bay("Bühne 1")
    view.show_page(view.PAGE_RESOURCES)
    bays, mechanics = view.resources.bays, view.resources.mechanics
    bays.name.setText("Bühne 1")
    bays.add_button.click()
    assert "gibt es schon" in bays.name_field.error.text()
    assert len(services.settings.bays()) == 1

    mechanics.add_button.click()
    assert "Name des Monteurs" in mechanics.name_field.error.text()
    qtbot.keyClicks(mechanics.name, "Piotr Nowak")  # typing clears the message
    assert mechanics.name_field.error.text() == ""
    mechanics.add_button.click()
    assert [m.name for m in services.settings.mechanics()] == ["Piotr Nowak"]


# --- Leistungskatalog ----------------------------------------------------------------------------------


def test_catalogue_search_filters_the_table(qtbot, view: SettingsView, services: Services) -> None:  # type: ignore[no-untyped-def]
    services.catalog.import_csv(CATALOG_CSV.encode())
    services.settings.update(labour_rate_net="100", aw_per_hour=10)
    view.show_page(view.PAGE_CATALOG)
    page = view.catalog
    assert page.model.rowCount() == 3
    assert page.count_label.text() == "3 von 3 Leistungen"

    qtbot.keyClicks(page.search, "oel")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    model = page.model
    assert model.index(0, COL_CODE).data() == "OE-1"
    assert model.index(0, COL_AW).data() == "4,5"
    assert model.index(0, COL_RULE).data() == "AW"
    assert _plain(model.index(0, COL_PRICE).data()) == "45,00 €"  # 4,5 AW × 10,00 €

    page.search.clear()
    page.category.setCurrentIndex(page.category.findData("Bremsen"))
    page.category.activated.emit(page.category.currentIndex())
    assert [model.index(r, COL_CODE).data() for r in range(model.rowCount())] == ["BR-1"]
    assert model.index(0, COL_RULE).data() == "ab-Preis"
    assert _plain(model.index(0, COL_PRICE).data()) == "ab 90,00 €"  # 9 AW × 10 € beats the 89 € minimum


def test_import_with_errors_lists_every_problem_and_imports_nothing(  # type: ignore[no-untyped-def]
    qtbot, view: SettingsView, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "katalog.csv"
    bad.write_text(
        "Nr;Bezeichnung;AW\nA-1;Ölwechsel;4\nA-2;Bremsen;viel\nA-3;;2\nA-4;Zündkerzen;-1\n", encoding="utf-8"
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(bad), ""))
    shown: list[ImportProblemsDialog] = []

    def exec_(dialog: ImportProblemsDialog) -> int:
        shown.append(dialog)
        return 0

    monkeypatch.setattr(ImportProblemsDialog, "exec", exec_)
    view.show_page(view.PAGE_CATALOG)

    view.catalog.import_button.click()

    assert len(shown) == 1
    lines = shown[0].text.toPlainText().splitlines()
    assert lines[0].startswith("Zeile 3, Spalte „AW“:")
    assert any(line.startswith("Zeile 4, Spalte „Bezeichnung“:") for line in lines)
    assert any(line.startswith("Zeile 5, Spalte „AW“:") for line in lines)
    assert len(lines) == 3
    assert "nichts importiert" in shown[0].summary.text()
    assert services.catalog.count() == 0
    assert view.catalog.import_button.isEnabled()


def test_valid_import_and_export(  # type: ignore[no-untyped-def]
    qtbot, view: SettingsView, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, boxes
) -> None:
    source = tmp_path / "katalog.csv"
    source.write_text(CATALOG_CSV, encoding="utf-8")
    target = tmp_path / "export.csv"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(source), ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    view.show_page(view.PAGE_CATALOG)
    assert "Katalog ist leer" in view.catalog.count_label.text()

    view.catalog.import_button.click()
    assert services.catalog.count() == 3
    assert view.catalog.model.rowCount() == 3
    assert ("information", "Import abgeschlossen: 3 neu, 0 geändert, 0 unverändert.") in boxes

    view.catalog.export_button.click()
    assert target.read_bytes().decode("utf-8-sig").splitlines()[0].startswith("code;category;name;aw")
    assert view.catalog.count_label.text().startswith("3 Leistungen nach")


def _prices(view: SettingsView) -> dict[str, str]:
    model = view.catalog.model
    return {model.index(r, COL_CODE).data(): _plain(model.index(r, COL_PRICE).data()) for r in range(model.rowCount())}


def test_catalogue_prices_follow_a_saved_hourly_rate(view: SettingsView, services: Services) -> None:
    services.catalog.import_csv(CATALOG_CSV.encode())
    view.show_page(view.PAGE_CATALOG)
    # No hourly rate yet: AW prices are unknown, fixed and minimum prices still stand.
    assert _prices(view) == {"OE-1": "–", "BR-1": "ab 89,00 €", "HU-1": "139,00 €"}
    view.show_page(view.PAGE_WORKSHOP)
    form = view.workshop.form
    form.edits["name"].setText("Kfz Huber")
    form.labour_rate.setText("100")
    view.workshop.save()
    view.show_page(view.PAGE_CATALOG)
    assert _prices(view) == {"OE-1": "45,00 €", "BR-1": "ab 90,00 €", "HU-1": "139,00 €"}


# --- Sprache -------------------------------------------------------------------------------------------


def test_language_is_stored_in_the_preferences(view: SettingsView, ctx: UiContext, tmp_path: Path) -> None:
    view.show_page(view.PAGE_LANGUAGE)
    page = view.language
    assert page.language() == "de"
    page.buttons["en"].setChecked(True)
    assert ctx.prefs.get(prefs.LANGUAGE) == "en"
    assert Prefs(tmp_path / "ui.ini").get(prefs.LANGUAGE) == "en"  # written to disk, read at next start
    note = page.findChild(QLabel, "languageNote")
    assert note is not None
    assert note.text() == "Wird beim nächsten Start wirksam."


def test_stored_language_is_preselected(qtbot, ctx: UiContext) -> None:  # type: ignore[no-untyped-def]
    ctx.prefs.set(prefs.LANGUAGE, "en")
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    assert view.language.buttons["en"].isChecked()
    assert view.language.language() == "en"


# --- refreshing and background work --------------------------------------------------------------------


def test_changes_elsewhere_reload_the_form_unless_the_user_is_typing(  # type: ignore[no-untyped-def]
    qtbot, view: SettingsView, services: Services, ctx: UiContext
) -> None:
    services.settings.update(name="Von der Kasse geändert")
    ctx.bus.operation_did_execute.emit(Changes(settings=True), None)
    assert view.workshop.form.edits["name"].text() == "Von der Kasse geändert"

    qtbot.keyClicks(view.workshop.form.edits["owner_name"], "Georg")
    assert view.workshop.dirty
    services.settings.update(name="Noch einmal geändert")
    ctx.bus.operation_did_execute.emit(Changes(settings=True), None)
    assert view.workshop.form.edits["owner_name"].text() == "Georg"  # the typing survives
    assert view.workshop.form.edits["name"].text() == "Von der Kasse geändert"


def test_saving_with_the_background_runner(qtbot, services: Services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    ctx = UiContext(services, runner, Bus(), Prefs(tmp_path / "ui.ini"))
    try:
        view = SettingsView(ctx)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.workshop.settings is not None)
        view.workshop.form.edits["name"].setText("Kfz im Hintergrund")
        view.workshop.form.edits["iban"].setText("DE00 1234")
        view.workshop.save()
        assert not view.workshop.save_button.isEnabled()  # a second Ctrl+S cannot start another save
        qtbot.waitUntil(lambda: "iban" in view.workshop.problems())
        assert view.workshop.save_button.isEnabled()
        view.workshop.form.edits["iban"].clear()
        view.workshop.save()
        qtbot.waitUntil(lambda: view.workshop.status.text() == "Gespeichert.")
        assert services.settings.get().name == "Kfz im Hintergrund"
    finally:
        runner.shutdown()
