"""The Diagnose tab: vehicle strip, connection panel, and the pages Fehlerspeicher, Bereitschaft &
Freeze-Frame and Live-Daten.

Exactly one thread talks to the adapter: the view sends requests to the ``ObdWorker`` by queued signals and
shows what comes back (workflows §4). Database work goes through ``ctx.query``/``ctx.mutate``: every scan is
stored with the vehicle and its open order, clearing is written into the vehicle history with the workshop's
current user, suggestions become proposed order lines, recordings are stored and exported as CSV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from app import formatting
from app.calendar_rules import WORKSHOP_TZ
from app.changes import Changes
from app.i18n import _
from app.services.diagnostics_types import RecordingDTO, ScanDTO, Suggestion
from app.services.vehicles import VehicleDTO
from app.services.work_orders import WorkOrderDTO
from ui.context import UiContext
from ui.prefs import Pref
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.connection_panel import ConnectionPanel
from ui.views.diagnosis.dtc_panel import DtcPanel
from ui.views.diagnosis.live_controller import LiveController
from ui.views.diagnosis.live_panel import LivePanel
from ui.views.diagnosis.readiness_panel import ReadinessPanel
from ui.views.diagnosis.recording import scan_data
from ui.views.diagnosis.style import BANNER_CSS
from ui.views.diagnosis.vehicle_bar import VehicleBar
from ui.views.orders.dialogs import confirm
from ui.workers.obd_messages import LinkState, LinkStatus, LiveBatch, LiveStarted, ScanResult, VehicleFacts
from ui.workers.obd_worker import ObdThread, ObdWorker

if TYPE_CHECKING:
    from drivers.obd.results import ClearResult, ConnectionInfo

LAST_PORT = Pref("diagnosis/last_port", "")
VehicleData = tuple[VehicleDTO, list[WorkOrderDTO], list[RecordingDTO]]


class DiagnosisView(QWidget):
    """The mechanic's diagnostics screen for one vehicle at a time."""

    PAGE_DTC, PAGE_READINESS, PAGE_LIVE = range(3)

    def __init__(
        self, ctx: UiContext, parent: QWidget | None = None, *, worker_options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog: QWidget | None = None
        self.vehicle: VehicleDTO | None = None
        self.scan: ScanResult | None = None
        self.scan_id: int | None = None
        self.worker: ObdWorker | None = None
        self.link: ObdThread | None = None
        self.link_state = LinkState.DISCONNECTED
        self._worker_options = worker_options or {}

        self.vehicle_bar = VehicleBar(ctx)
        self.banner = QLabel()
        self.banner.setObjectName("diagBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.busy = QLabel()
        self.busy.setObjectName("diagBusy")
        self.busy.setStyleSheet(f"color: {SECONDARY_TEXT}; font-style: italic;")
        self.connection = ConnectionPanel()
        self.connection.setFixedWidth(340)
        self.dtc = DtcPanel()
        self.readiness = ReadinessPanel()
        self.live_panel = LivePanel()
        self.pages = QTabWidget()
        self.pages.setObjectName("diagPages")
        self.pages.addTab(self.dtc, _("Fehlerspeicher"))
        self.pages.addTab(self.readiness, _("Bereitschaft && Freeze-Frame"))  # && = a literal & in a tab
        self.pages.addTab(self.live_panel, _("Live-Daten"))

        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(self.busy)
        right.addWidget(self.pages, 1)
        body = QHBoxLayout()
        body.setContentsMargins(12, 4, 12, 12)
        body.setSpacing(12)
        body.addWidget(self.connection)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.vehicle_bar)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(12, 0, 12, 0)
        banner_row.addWidget(self.banner)
        layout.addLayout(banner_row)
        layout.addLayout(body, 1)

        self.vehicle_bar.vehicle_chosen.connect(self.open_vehicle)
        self.vehicle_bar.order_changed.connect(self._order_changed)
        self.connection.connect_clicked.connect(self.connect_adapter)
        self.connection.disconnect_clicked.connect(self.disconnect_adapter)
        self.connection.port_changed.connect(self._port_changed)
        self.dtc.scan_clicked.connect(self.read_fault_memory)
        self.dtc.clear_clicked.connect(self.ask_clear)
        self.dtc.suggestions.add_clicked.connect(self.add_suggestions)
        self.live_panel.start_clicked.connect(self.start_live)
        self.live_panel.stop_clicked.connect(self.stop_live)
        self.live_control = LiveController(self)
        scan_key = QShortcut(QKeySequence("Ctrl+L"), self, self.read_fault_memory)
        scan_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        ctx.bus.operation_did_execute.connect(self._on_changes)
        self.refresh_ports()

    # --- API (main window, tests) ------------------------------------------------------------------

    def open_vehicle(self, vehicle_id: int) -> None:
        """Show ``vehicle_id``: its data, open orders and recordings; results from now on go to it."""
        services = self.ctx.services

        def fetch() -> VehicleData:
            return (
                services.vehicles.get(vehicle_id),
                services.work_orders.open_for_vehicle(vehicle_id),
                services.diagnostics.recordings(vehicle_id),
            )

        self.ctx.query(fetch, self._vehicle_loaded, parent=self)

    def suggest_vehicle(self, vehicle_id: int | None) -> None:
        """The counter's current vehicle, taken only while none is chosen here."""
        if vehicle_id is not None and self.vehicle is None:
            self.open_vehicle(vehicle_id)

    def refresh_ports(self) -> None:
        """The serial/USB/Bluetooth ports of this PC plus the usual Wi-Fi address (nothing is opened)."""
        from drivers.obd.ports import list_ports  # pyserial only: cheap, no python-OBD

        ports = [(p.url, f"{p.kind_text}: {p.description}") for p in list_ports()]
        self.connection.set_ports(ports, str(self.ctx.prefs.get(LAST_PORT) or ""))

    def connect_adapter(self) -> None:
        """Verbinden: the worker opens the port in its own thread."""
        url = self.connection.url()
        if not url:
            self.show_banner(_("Bitte einen Anschluss wählen oder eine Adresse eingeben (z. B. COM3)."), "warn")
            return
        self.hide_banner()
        self._ensure_worker().connect_requested.emit(url, self.connection.selected_protocol())

    def disconnect_adapter(self) -> None:
        """Trennen."""
        if self.worker is not None:
            self.worker.disconnect_requested.emit()

    def read_fault_memory(self) -> None:
        """Fehlerspeicher auslesen (all three kinds, readiness, freeze frame)."""
        if self.worker is not None and self.link_state is LinkState.CONNECTED:
            self.worker.scan_requested.emit()

    def start_live(self, names: list[str]) -> None:
        """Start live data for ``names`` (python-OBD command names)."""
        if self.worker is not None and names:
            self.worker.live_start_requested.emit(list(names))

    def stop_live(self) -> None:
        """Stop live data (a running recording ends and is saved)."""
        if self.worker is not None:
            self.worker.live_stop_requested.emit()

    def shutdown(self) -> None:
        """On close: save a running recording, then stop the OBD thread (quit, wait 2 s)."""
        if self.live_control.recorder is not None:
            self.live_control.save_recording()
        if self.link is not None:
            self.link.stop()
            self.link = None
            self.worker = None

    # --- banner ------------------------------------------------------------------------------------

    def show_banner(self, text: str, kind: str = "info") -> None:
        """A message under the vehicle strip (errors in plain German, next to what was tried)."""
        self.banner.setText(text)
        self.banner.setStyleSheet(BANNER_CSS[kind])
        self.banner.setProperty("kind", kind)
        self.banner.show()

    def hide_banner(self) -> None:
        """Remove the message."""
        self.banner.hide()

    # --- vehicle and orders ------------------------------------------------------------------------

    def _vehicle_loaded(self, data: VehicleData) -> None:
        vehicle, orders, recordings = data
        changed = self.vehicle is None or self.vehicle.id != vehicle.id
        self.vehicle = vehicle
        self.vehicle_bar.show_vehicle(vehicle)
        self.vehicle_bar.set_orders(orders)
        self.live_panel.show_recordings(recordings)
        if changed:
            self.scan, self.scan_id = None, None
            self.dtc.clear()
            self.readiness.clear()
            self.hide_banner()
            self._update_buttons()
            self._port_changed(self.connection.url())

    def _order_changed(self) -> None:
        self.dtc.suggestions.set_order(self.vehicle_bar.order_label())

    def _port_changed(self, url: str) -> None:
        """Preselect the protocol that worked last time for this vehicle on this adapter."""
        if self.vehicle is None or not url or self.link_state is LinkState.CONNECTED:
            return
        diagnostics, vehicle = self.ctx.services.diagnostics, self.vehicle

        def fetch() -> str | None:
            return diagnostics.remembered_protocol(vin=vehicle.data.vin or None, vehicle_id=vehicle.id, adapter_key=url)

        self.ctx.query(fetch, self.connection.set_protocol, parent=self)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if self.vehicle is not None and (changes.orders or changes.vehicles) and initiator is not self:
            self.open_vehicle(self.vehicle.id)

    # --- worker ------------------------------------------------------------------------------------

    def _ensure_worker(self) -> ObdWorker:
        if self.worker is None:
            worker = ObdWorker(**self._worker_options)
            # Slots of this QObject (GUI thread): Qt queues every call from the worker thread into it.
            worker.status_changed.connect(self._on_status)
            worker.connected.connect(self._on_connected)
            worker.vehicle_read.connect(self._on_vehicle_read)
            worker.scan_finished.connect(self._on_scan)
            worker.cleared.connect(self._on_cleared)
            worker.live_started.connect(self._on_live_started)
            worker.live_batch.connect(self._on_batch)
            worker.live_stopped.connect(self._on_live_stopped)
            worker.busy_changed.connect(self.busy.setText)
            worker.error_occurred.connect(self._on_error)
            self.worker, self.link = worker, ObdThread(worker)
        return self.worker

    @Slot(object)
    def _on_status(self, status: LinkStatus) -> None:
        self.link_state = status.state
        self.connection.show_status(status)
        if status.state is LinkState.DISCONNECTED and self.live_control.live is not None:
            self._on_live_stopped()
        self._update_buttons()

    def _update_buttons(self) -> None:
        connected = self.link_state is LinkState.CONNECTED
        self.dtc.set_enabled(connected=connected, scanned=self.scan is not None)
        self.live_panel.set_state(connected=connected, running=self.live_control.live is not None)

    @Slot(object)
    def _on_connected(self, info: ConnectionInfo) -> None:
        self.ctx.prefs.set(LAST_PORT, info.url)
        self.connection.show_info(info)
        if self.vehicle is None:
            return
        diagnostics, vehicle = self.ctx.services.diagnostics, self.vehicle

        def remember() -> None:
            diagnostics.remember_protocol(
                vin=vehicle.data.vin or None,
                vehicle_id=vehicle.id,
                adapter_key=info.url,
                protocol=info.protocol,
            )

        self.ctx.mutate(remember, parent=self)

    @Slot(object)
    def _on_vehicle_read(self, facts: VehicleFacts) -> None:
        self.connection.show_vehicle_facts(facts, self.vehicle.data.vin if self.vehicle else "")

    @Slot(str)
    def _on_error(self, text: str) -> None:
        self.show_banner(text, "error")

    # --- scan, clear, suggestions ------------------------------------------------------------------

    @Slot(object)
    def _on_scan(self, result: ScanResult) -> None:
        self.scan, self.scan_id = result, None
        self.dtc.show_report(result.dtcs)
        self.readiness.show_status(result.status)
        self.readiness.show_freeze_frame(result.freeze_frame)
        self.connection.show_vehicle_facts(VehicleFacts(result.vin, result.status), self._vehicle_vin())
        self.dtc.suggestions.clear()
        self._update_buttons()
        when = formatting.datetime(result.at.astimezone(WORKSHOP_TZ).replace(tzinfo=None), "short")
        if self.vehicle is None:
            self.dtc.scan_info.setText(_("Ausgelesen {when} – nicht gespeichert").format(when=when))
            self.show_banner(
                _("Kein Fahrzeug gewählt – die Diagnose wird nicht gespeichert. Fahrzeug oben wählen."),
                "warn",
            )
            return
        diagnostics, vehicle_id, order_id = (
            self.ctx.services.diagnostics,
            self.vehicle.id,
            self.vehicle_bar.order_id(),
        )
        settings, data = self.ctx.services.settings, scan_data(result)

        def save() -> tuple[ScanDTO, list[Suggestion], Changes]:
            dto = diagnostics.save_scan(data, vehicle_id=vehicle_id, work_order_id=order_id,
                                        user=settings.get().current_user)  # fmt: skip
            return dto, diagnostics.suggestions(dto.id), dto.changes

        def saved(outcome: tuple[ScanDTO, list[Suggestion], Changes]) -> None:
            dto, suggestions, _changes = outcome
            self.scan_id = dto.id  # a VIN mismatch is flagged in the connection panel and the history entry
            self.dtc.scan_info.setText(_("Ausgelesen {when} – beim Fahrzeug gespeichert").format(when=when))
            self.dtc.suggestions.show_suggestions(suggestions)

        self.ctx.mutate(save, saved, parent=self, initiator=self)

    def _vehicle_vin(self) -> str:
        return self.vehicle.data.vin if self.vehicle is not None else ""

    def ask_clear(self) -> QMessageBox | None:
        """Fehler löschen: only after a confirmation that names what else is erased."""
        if self.scan is None or self.worker is None:
            return None
        codes = self.scan.clearable_codes
        box = confirm(
            self,
            self,
            _("Fehlerspeicher löschen?"),
            _(
                "Gelöscht werden {codes}.\n\nDabei gehen auch der Freeze-Frame, die Mode-06-Testergebnisse "
                "und alle Bereitschaftstests (Readiness) verloren – die AU ist erst nach erneuten Fahrzyklen "
                "wieder möglich. Das Löschen wird im Fahrzeugverlauf eingetragen."
            ).format(codes=", ".join(codes) if codes else _("keine gespeicherten Fehler")),
            _("Ja, Fehler löschen"),
            self._clear_confirmed,
        )
        box.setIcon(QMessageBox.Icon.Warning)
        return box

    def _clear_confirmed(self) -> None:
        if self.worker is not None:
            self.worker.clear_requested.emit()

    @Slot(object)
    def _on_cleared(self, result: ClearResult) -> None:
        if not result.ok:
            self.show_banner(_("Löschen fehlgeschlagen: {reason}").format(reason=result.text), "error")
            return
        codes = list(self.scan.clearable_codes) if self.scan is not None else []
        if self.vehicle is not None:
            diagnostics, settings = self.ctx.services.diagnostics, self.ctx.services.settings
            vehicle_id, order_id = self.vehicle.id, self.vehicle_bar.order_id()

            def record() -> Changes:
                return diagnostics.record_clear(vehicle_id, codes=codes, user=settings.get().current_user,
                                                work_order_id=order_id)  # fmt: skip

            self.ctx.mutate(record, parent=self, initiator=self)
        self.show_banner(_("Fehlerspeicher gelöscht und im Fahrzeugverlauf eingetragen – wird neu ausgelesen …"), "ok")
        self.read_fault_memory()  # show what is left (permanent codes stay)

    def add_suggestions(self, service_ids: list[int]) -> None:
        """Zum Auftrag hinzufügen: the checked services become proposed lines of the chosen order."""
        order_id, order_label = self.vehicle_bar.order_id(), self.vehicle_bar.order_label()
        if self.scan_id is None or order_id is None or not service_ids:
            return
        diagnostics, scan_id = self.ctx.services.diagnostics, self.scan_id

        def add() -> Changes:
            return diagnostics.add_suggestions(scan_id, service_ids, order_id=order_id)

        def added(_changes: Changes) -> None:
            self.show_banner(
                _(
                    "{n} Leistung(en) als Vorschlag in Auftrag {order} eingetragen – der Kunde muss noch zustimmen."
                ).format(n=len(service_ids), order=order_label),
                "ok",
            )

        self.ctx.mutate(add, added, parent=self)

    # --- live data (the LiveController does the work) ----------------------------------------------

    @Slot(object)
    def _on_live_started(self, started: LiveStarted) -> None:
        self.live_control.on_started(started)
        self._update_buttons()

    @Slot(object)
    def _on_batch(self, batch: LiveBatch) -> None:
        self.live_control.on_batch(batch)

    @Slot()
    def _on_live_stopped(self) -> None:
        self.live_control.on_stopped()
        self._update_buttons()
