"""The Diagnose tab in the real main window against the real ELM327 emulator (TCP, in-process) and a real
database: connect from the vehicle card, read injected codes with German texts, clear behind the
confirmation (history entry), suggestions as proposed order lines, live data for six PIDs at ≥ 10 Hz with a
responsive GUI, recording and CSV export, ignition off, and the adapter lost and found again."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import elm.obd_message as emulated
import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from app.db import Database
from app.demo import setup_workshop
from app.services.customers import CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from app.services.work_orders import Intake
from tests.drivers import emulator
from tests.ui.test_counter import TODAY, make_ctx
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.views.diagnosis.view import DiagnosisView
from ui.workers.obd_messages import LinkState

VIN = "WP0ZZZ99ZTS390000"  # the first VIN the emulated car reports
DELAY = 0.02  # seconds per emulated answer, like a CAN car
SIX = ["RPM", "SPEED", "COOLANT_TEMP", "ENGINE_LOAD", "THROTTLE_POS", "INTAKE_TEMP"]


@pytest.fixture(scope="module")
def emu_tcp() -> Iterator[tuple[Any, str]]:
    """One emulator for the module, on TCP like a Wi-Fi adapter."""
    port = emulator.free_port()
    with emulator.running_emulator(net_port=port, delay=DELAY) as emu:
        yield emu, f"socket://127.0.0.1:{port}"


def reset(emu: Any) -> None:
    """Undo what a test changed in the emulator (as tests/drivers/conftest.py does)."""
    emu.answer.clear()
    emu.delay = DELAY
    emulated.DTC_STORED[:] = []
    emulated.DTC_PENDING[:] = []
    emulated.DTC_PERMANENT[:] = []
    emu.counters["cmd_dtc_cleared"] = 0
    emu.counters["VIN"] = 0  # the emulated VIN cycles through three cars per request


@pytest.fixture
def car(emu_tcp: tuple[Any, str]) -> Iterator[tuple[Any, str]]:
    """The shared emulator, reset before and after the test."""
    emu, url = emu_tcp
    reset(emu)
    yield emu, url
    reset(emu)


@pytest.fixture
def shop(db: Database) -> dict[str, Any]:
    """A workshop with the default catalogue, Anna's Porsche (VIN of the emulated car) and an open order."""
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)  # current user "Theke"
    services.catalog.load_defaults()
    customer, _ = services.customers.create(CustomerInput(first_name="Anna", last_name="Schneider"))
    vehicle, _ = services.vehicles.create(
        VehicleInput(customer_id=customer.id, plate="M-AB 123", vin=VIN, make="Porsche", model="911")
    )
    order = services.work_orders.create(customer.id, vehicle.id, intake=Intake()).order
    return {"services": services, "vehicle": vehicle.id, "order": order.id, "order_number": order.number}


@pytest.fixture
def window(qtbot: Any, shop: dict[str, Any], tmp_path: Path) -> Iterator[MainWindow]:
    """The main window over the shop's database, shown; closing it stops the OBD thread."""
    main = MainWindow(prefs=Prefs(tmp_path / "ui.ini"))
    qtbot.addWidget(main)
    main.attach(make_ctx(shop["services"], tmp_path))
    main.resize(1366, 820)
    main.show()
    yield main
    view = main.diagnosis.view() if main.diagnosis.loaded else None
    if view is not None and view.dialog is not None:
        view.dialog.done(0)
    main.close()  # closeEvent → DiagnosisPage.shutdown → thread.quit(); thread.wait(2000)
    if view is not None:
        assert view.link is None


def open_diagnosis(qtbot: Any, window: MainWindow, vehicle_id: int) -> DiagnosisView:
    """Theke → vehicle card → "Diagnose": the Diagnose tab opens with that vehicle."""
    window.counter.open_vehicle(vehicle_id)
    qtbot.waitUntil(lambda: window.counter.vehicle_card.vehicle is not None)
    window.counter.vehicle_card.diagnosis_button.click()
    assert window.tabs.currentIndex() == MainWindow.TAB_DIAGNOSIS
    view = window.diagnosis.view()
    qtbot.waitUntil(lambda: view.vehicle is not None and view.vehicle.id == vehicle_id)
    return view


def connect(qtbot: Any, view: DiagnosisView, url: str, protocol: str | None = "6") -> None:
    """Type the adapter address, pick the protocol, press "Verbinden" and wait for the VIN."""
    view.connection.port.setEditText(url)
    view.connection.set_protocol(protocol)
    view.connection.connect_button.click()
    qtbot.waitUntil(lambda: view.link_state is LinkState.CONNECTED, timeout=10_000)
    qtbot.waitUntil(lambda: view.connection.facts["vin"].text() != "–", timeout=5_000)


def inject_codes() -> None:
    emulated.DTC_STORED[:] = ["0143", "0300"]
    emulated.DTC_PENDING[:] = ["0420"]
    emulated.DTC_PERMANENT[:] = ["0171"]


def scan(qtbot: Any, view: DiagnosisView) -> None:
    """Press "Fehlerspeicher auslesen" and wait until the scan is stored."""
    before = view.scan_id
    view.dtc.scan_button.click()
    qtbot.waitUntil(lambda: view.scan_id is not None and view.scan_id != before, timeout=8_000)


# --- connect ---------------------------------------------------------------------------------------


def test_connect_from_the_vehicle_card_shows_the_adapter_and_the_vin(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    _emu, url = car
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    assert view.vehicle_bar.plate.text() == "M-AB 123"
    assert view.vehicle_bar.order_id() == shop["order"]
    assert view.connection.chip.text() == "getrennt"
    assert not view.dtc.scan_button.isEnabled()

    connect(qtbot, view, url)

    assert view.connection.chip.text() == "verbunden"
    assert view.connection.status_text.text().startswith("Verbunden in")
    facts = {key: label.text() for key, label in view.connection.facts.items()}
    assert facts["vin"] == VIN and view.connection.vin_warning.isHidden()
    assert facts["adapter"] == "STN1100 v1.2.3"
    assert facts["protocol"] == "6 – CAN 11 Bit, 500 kBaud"
    assert re.fullmatch(r"1[0-9],[0-9] V", facts["voltage"])  # the emulator varies the battery voltage
    assert facts["mil"] == "● aus – keine Fehler"
    assert view.dtc.scan_button.isEnabled() and not view.dtc.clear_button.isEnabled()  # clearing needs a scan
    # The protocol that worked is remembered for this car and adapter, and preselected next time.
    diagnostics = shop["services"].diagnostics
    assert diagnostics.remembered_protocol(vin=VIN, vehicle_id=shop["vehicle"], adapter_key=url) == "6"
    view.connection.disconnect_button.click()
    qtbot.waitUntil(lambda: view.link_state is LinkState.DISCONNECTED)
    view.connection.set_protocol(None)
    view.connection.port.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: view.connection.selected_protocol() == "6")


def test_a_vin_of_another_car_is_flagged(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    _emu, url = car
    services = shop["services"]
    other, _ = services.vehicles.create(VehicleInput(plate="M-XY 9", vin="WVWZZZ1KZAW000123", make="VW"))
    view = open_diagnosis(qtbot, window, other.id)
    connect(qtbot, view, url)
    assert view.connection.facts["vin"].text() == VIN
    assert view.connection.vin_warning.isVisible()
    assert "WVWZZZ1KZAW000123" in view.connection.vin_warning.text()


def test_ignition_off_says_so_and_shows_the_adapter(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    emu, url = car
    emu.answer["ELM_PIDS_A"] = "UNABLE TO CONNECT\r"  # the car does not answer 0100
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    view.connection.port.setEditText(url)
    view.connection.set_protocol("6")
    view.connection.connect_button.click()
    qtbot.waitUntil(lambda: view.link_state is LinkState.IGNITION_OFF, timeout=10_000)
    assert view.connection.chip.text() == "Zündung aus"
    assert "Zündung einschalten" in view.connection.detail.text()
    assert re.fullmatch(r"1[0-9],[0-9] V", view.connection.facts["voltage"].text())
    assert view.connection.connect_button.text() == "Erneut verbinden"
    assert view.connection.connect_button.isEnabled() and not view.dtc.scan_button.isEnabled()


# --- fault memory ----------------------------------------------------------------------------------


def test_scan_shows_all_three_kinds_in_german_and_is_stored_with_the_order(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    emu, url = car
    inject_codes()
    frame_by_p0143 = "<header>7E8</header><size>05</size><data>42 02 00 01 43</data>"
    emu.answer["INJ_MF_2"] = frame_by_p0143
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    connect(qtbot, view, url)
    assert view.connection.facts["mil"].text() == "● an – 2 Fehler gespeichert"
    scan(qtbot, view)

    tables = view.dtc.tables
    assert tables["stored"].codes() == ["P0143", "P0300"]
    assert tables["pending"].codes() == ["P0420"]
    assert tables["permanent"].codes() == ["P0171"]
    assert tables["stored"].title() == "Gespeichert (2)"
    stored = tables["stored"].table
    assert "Zündaussetzer mehrerer Zylinder" in stored.item(1, 1).text()
    assert stored.item(1, 2).text() == "Antrieb"
    assert stored.item(1, 3).text() == "Kritisch"
    assert stored.item(1, 3).background().color().name() == "#c62828"
    assert stored.item(1, 4).text() == "Motor (7E8)"
    assert "Katalysator" in tables["pending"].table.item(0, 1).text()
    assert "mager" in tables["permanent"].table.item(0, 1).text()
    assert "unterstützten Tests abgeschlossen" in view.readiness.verdict.text()
    assert view.readiness.monitors.rowCount() > 3
    assert view.readiness.frame_dtc.text().startswith("P0143 – ")
    frame = view.readiness.frame
    assert frame.rowCount() == 9 and frame.item(0, 0).text() == "Motorlast"
    assert frame.item(0, 1).text() == "nicht unterstützt"  # the emulator refuses Mode 02 values (7F 02 12)
    assert view.dtc.clear_button.isEnabled()

    stored_scans = shop["services"].diagnostics.scans(shop["vehicle"])
    assert len(stored_scans) == 1
    saved = stored_scans[0]
    assert saved.id == view.scan_id and saved.work_order_id == shop["order"] and saved.user == "Theke"
    assert saved.dtcs == {"stored": ("P0143", "P0300"), "pending": ("P0420",), "permanent": ("P0171",)}
    assert saved.mil is True and saved.vin == VIN and not saved.vin_mismatch
    history = shop["services"].vehicles.history(shop["vehicle"])
    assert any(e.kind == "obd" and "P0143" in e.text for e in history)


def test_suggestions_go_to_the_open_order_as_proposed_lines(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    _emu, url = car
    inject_codes()
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    connect(qtbot, view, url)
    scan(qtbot, view)
    suggestions = view.dtc.suggestions
    qtbot.waitUntil(lambda: suggestions.list.count() > 0)
    chosen = suggestions.checked_ids()
    assert len(chosen) >= 2  # the first suggestion of each code is preselected
    assert suggestions.add_button.isEnabled()
    assert suggestions.add_button.text() == f"Zum Auftrag {shop['order_number']} hinzufügen"

    suggestions.add_button.click()  # one click

    order = shop["services"].work_orders.get(shop["order"])
    proposed = [line for line in order.lines if line.proposed]
    assert sorted(line.service_id for line in proposed) == sorted(chosen)
    assert len(order.lines) == len(proposed)
    assert "als Vorschlag in Auftrag" in view.banner.text()
    # The order editor at the counter shows them as proposals.
    window.counter.open_order(shop["order"])
    editor_order = window.counter.orders.editor.order
    assert editor_order is not None and sum(line.proposed for line in editor_order.lines) == len(chosen)


def test_clearing_asks_first_then_clears_and_writes_the_history(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    emu, url = car
    inject_codes()
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    connect(qtbot, view, url)
    scan(qtbot, view)

    view.dtc.clear_button.click()
    box = view.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "P0143, P0300, P0420" in box.text()
    assert "Freeze-Frame" in box.text() and "Bereitschaftstests" in box.text()
    assert box.defaultButton().text() == "Abbrechen"
    box.defaultButton().click()  # "Abbrechen": nothing happens
    qtbot.wait(200)
    assert not emu.counters.get("cmd_dtc_cleared")

    view.dtc.clear_button.click()
    yes = view.dialog.findChild(QPushButton, "confirmYes")
    assert yes.text() == "Ja, Fehler löschen"
    first_scan = view.scan_id
    yes.click()

    qtbot.waitUntil(lambda: view.scan_id is not None and view.scan_id != first_scan, timeout=8_000)
    assert emu.counters.get("cmd_dtc_cleared")
    assert view.dtc.tables["stored"].codes() == []
    assert view.dtc.tables["stored"].empty.text() == "Keine Fehler."
    assert view.connection.facts["mil"].text() == "● aus – keine Fehler"
    cleared = [e for e in shop["services"].vehicles.history(shop["vehicle"]) if e.kind == "dtc_cleared"]
    assert len(cleared) == 1
    assert "P0143, P0300, P0420" in cleared[0].text and "Freeze-Frame" in cleared[0].text
    assert cleared[0].user == "Theke"


# --- live data -------------------------------------------------------------------------------------


def start_live(qtbot: Any, view: DiagnosisView) -> None:
    view.pages.setCurrentIndex(DiagnosisView.PAGE_LIVE)
    assert view.live_panel.checked_names() == SIX
    view.live_panel.live_button.click()
    qtbot.waitUntil(lambda: view.live_control.batches_received > 2, timeout=8_000)


def test_six_pids_update_the_graphs_at_10_hz_and_the_gui_stays_responsive(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    _emu, url = car
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    connect(qtbot, view, url)
    start_live(qtbot, view)
    plots = view.live_panel.plots
    assert [s.name for s in plots.series] == SIX and len(plots.plots) == 6

    ticks: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(clock.elapsed()))
    batches, refreshes = view.live_control.batches_received, plots.refresh_count
    probe.start()
    qtbot.wait(2000)
    probe.stop()

    assert view.live_control.batches_received - batches >= 20  # ≥ 10 batches a second
    assert plots.refresh_count - refreshes >= 20  # … and as many redraws
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 60 and max(gaps) < 150, f"GUI event loop blocked for {max(gaps)} ms"
    assert all(len(s.xs) > 40 for s in plots.series)
    texts = plots.label_texts()
    assert "Drehzahl" in texts[0] and "1/min" in texts[0] and "min " in texts[0]
    assert view.connection.facts["batched"].text() == "ja"
    assert int(view.connection.facts["rate"].text().replace(".", "")) > 60
    view.live_panel.live_button.click()
    qtbot.waitUntil(lambda: view.live_control.live is None)
    assert view.live_panel.live_button.text() == "Live starten"


def test_recording_is_stored_with_vehicle_and_order_and_exported_as_csv(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str], tmp_path: Path
) -> None:
    _emu, url = car
    view = open_diagnosis(qtbot, window, shop["vehicle"])
    connect(qtbot, view, url)
    start_live(qtbot, view)
    panel = view.live_panel
    assert panel.record_button.isEnabled() and not panel.export_button.isEnabled()
    panel.record_button.click()
    qtbot.wait(1000)
    assert "Aufzeichnung läuft" in panel.record_info.text()
    panel.record_button.click()

    qtbot.waitUntil(lambda: panel.recordings.count() == 1)
    recordings = shop["services"].diagnostics.recordings(shop["vehicle"])
    assert len(recordings) == 1
    recording = recordings[0]
    assert recording.work_order_id == shop["order"] and recording.user == "Theke"
    assert [pid for pid, _unit in recording.columns][:2] == ["Drehzahl", "Geschwindigkeit"]
    assert dict(recording.columns)["Drehzahl"] == "1/min"
    assert recording.sample_count > 15 and 0.5 < recording.seconds < 3
    assert "Aufzeichnung gespeichert" in panel.record_info.text()

    target = tmp_path / "probefahrt.csv"
    panel.export_button.click()
    dialog = view.dialog
    assert isinstance(dialog, QFileDialog)
    dialog.selectFile(str(target))
    dialog.accept()
    qtbot.waitUntil(target.exists)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Zeit (s)", "Drehzahl (1/min)", "Geschwindigkeit (km/h)"]
    assert len(rows) == recording.sample_count + 1
    assert any("," in cell for cell in rows[5])  # decimal comma
    assert "CSV gespeichert" in view.banner.text()


# --- adapter lost ----------------------------------------------------------------------------------


def test_adapter_lost_says_so_and_reconnects_when_it_is_back(
    qtbot: Any, window: MainWindow, shop: dict[str, Any]
) -> None:
    port = emulator.free_port()
    url = f"socket://127.0.0.1:{port}"
    first = emulator.start(net_port=port, delay=DELAY)
    second = None
    try:
        view = open_diagnosis(qtbot, window, shop["vehicle"])
        connect(qtbot, view, url)
        start_live(qtbot, view)

        emulator.stop(first)  # the Wi-Fi adapter is gone
        qtbot.waitUntil(lambda: view.link_state is LinkState.LOST, timeout=5_000)
        assert view.connection.chip.text() == "Verbindung verloren"
        assert view.connection.status_text.text().startswith("Verbindung verloren")
        assert view.connection.detail.text()  # the reason, in German
        started = time.monotonic()
        qtbot.wait(300)  # the window keeps working while the worker retries
        assert time.monotonic() - started < 1.0
        qtbot.waitUntil(lambda: "neuer Versuch in" in view.connection.status_text.text(), timeout=5_000)

        second = emulator.start(net_port=port, delay=DELAY)  # plugged in again, same address
        qtbot.waitUntil(lambda: view.link_state is LinkState.CONNECTED, timeout=10_000)
        assert view.connection.chip.text() == "verbunden"
        batches = view.live_control.batches_received  # live data resumes by itself:
        qtbot.waitUntil(lambda: view.live_control.batches_received > batches + 3, timeout=5_000)
    finally:
        emulator.stop(first)
        if second is not None:
            emulator.stop(second)


def test_the_tab_takes_the_counters_vehicle_and_finds_others(
    qtbot: Any, window: MainWindow, shop: dict[str, Any]
) -> None:
    services = shop["services"]
    other, _ = services.vehicles.create(VehicleInput(plate="FFB-Q 77", make="Opel", model="Corsa"))
    window.counter.open_vehicle(shop["vehicle"])
    qtbot.waitUntil(lambda: window.counter.vehicle_card.vehicle is not None)
    window.tabs.setCurrentIndex(MainWindow.TAB_DIAGNOSIS)  # the Diagnose tab, not the button
    view = window.diagnosis.view()
    qtbot.waitUntil(lambda: view.vehicle is not None and view.vehicle.id == shop["vehicle"])

    bar = view.vehicle_bar
    bar.search.setText("FFB")
    bar.search_now()
    qtbot.waitUntil(lambda: bar.search.completer().model().rowCount() == 1)
    title = bar.search.completer().model().index(0, 0).data()
    assert title.startswith("FFB-Q 77")
    bar.search.completer().activated.emit(title)
    qtbot.waitUntil(lambda: view.vehicle is not None and view.vehicle.id == other.id)
    assert bar.plate.text() == "FFB-Q 77"
    assert bar.vin.text() == "FIN unbekannt – wird beim Verbinden gelesen"
    assert bar.order_id() is None and not bar.order.isEnabled()  # no open order for the Corsa


def test_scan_without_a_vehicle_is_shown_but_not_stored(
    qtbot: Any, window: MainWindow, shop: dict[str, Any], car: tuple[Any, str]
) -> None:
    _emu, url = car
    window.tabs.setCurrentIndex(MainWindow.TAB_DIAGNOSIS)
    view = window.diagnosis.view()
    connect(qtbot, view, url)
    view.dtc.scan_button.click()
    qtbot.waitUntil(lambda: view.scan is not None, timeout=8_000)
    assert view.scan_id is None
    assert "nicht gespeichert" in view.banner.text()
    assert shop["services"].diagnostics.scans(shop["vehicle"]) == []
    assert isinstance(view.scan.at, dt.datetime)
