"""The OBD worker: one QThread owns the adapter; the window talks to it only through queued signals.

Architecture §5 (QThread worker-object pattern, Spyder ``update.py``): ``ObdWorker`` is moved to its own
``QThread`` by ``ObdThread``, creates the ``drivers.obd`` ``ObdReader`` *inside* that thread (the reader
refuses calls from any other) and keeps the port for its whole life. Requests arrive as queued signals
(``connect_requested(url, protocol)``, ``scan_requested``, ``clear_requested``, ``live_start_requested``,
``live_stop_requested``, ``disconnect_requested``); results leave as past-tense signals carrying frozen
objects (ui/workers/obd_messages.py). Every driver call is bounded, so the worker's event loop gets
control back quickly and requests never queue up behind an endless loop.

Live data is polled by a zero-interval QTimer in the worker thread, one ``LiveSampler.sample()`` round per
tick, so a scan or a stop request runs between two rounds. Samples are coalesced (``LiveCoalescer``): one
``live_batch`` about every 65 ms with the newest value of each PID and the rows since the last batch.

When the link breaks (cable pulled, Wi-Fi adapter gone, adapter hung) the worker closes the port, says
"Verbindung verloren – neuer Versuch in N s" and lets a ``Reconnector`` (back-off 0.5 s … 5 s) try the
same URL again with the protocol it just used; once back, it reads VIN and status again and resumes live
data. Closing: ``ObdThread.stop()`` sets a stop flag, quits the thread's event loop and waits (2 s).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from app import formatting
from app.errors import WorkshopError
from app.i18n import _
from ui.workers.obd_live import LiveCoalescer
from ui.workers.obd_messages import LinkState, LinkStatus, ScanResult, VehicleFacts, lost_text

if TYPE_CHECKING:
    from drivers.obd.reader import ObdReader
    from drivers.obd.reconnect import Reconnector
    from drivers.obd.results import ConnectionInfo, VinResult

log = logging.getLogger(__name__)

EMIT_INTERVAL = 0.065  # s between live batches: ~15 a second at CAN speed, above the 10 Hz the graphs need
RECONNECT_TICK_MS = 200  # how often a lost link checks whether the next attempt is due
QUEUED = Qt.ConnectionType.QueuedConnection


class ObdWorker(QObject):
    """Lives in the OBD thread; owns the ``ObdReader``. Construct in the GUI thread, then ``ObdThread``."""

    # Requests (emitted by the window; queued into the worker thread).
    connect_requested = Signal(str, object)  # pyserial URL, protocol "1"…"A" or None (automatic)
    scan_requested = Signal()
    clear_requested = Signal()
    live_start_requested = Signal(object)  # list of PID names ("RPM", …)
    live_stop_requested = Signal()
    disconnect_requested = Signal()

    # Results (emitted in the worker thread; queued to the window).
    status_changed = Signal(object)  # LinkStatus
    connected = Signal(object)  # ConnectionInfo
    vehicle_read = Signal(object)  # VehicleFacts (VIN, MIL, readiness) after connecting and clearing
    scan_finished = Signal(object)  # ScanResult
    cleared = Signal(object)  # ClearResult
    live_started = Signal(object)  # LiveStarted
    live_batch = Signal(object)  # LiveBatch
    live_stopped = Signal()
    busy_changed = Signal(str)  # German text of the running request, "" when idle
    error_occurred = Signal(str)  # German message

    def __init__(
        self,
        *,
        command_timeout: float = 2.5,
        connect_deadline: float = 8.0,
        emit_interval: float = EMIT_INTERVAL,
        reconnect_first: float = 0.5,
        reconnect_max: float = 5.0,
        reader_factory: Callable[[], ObdReader] | None = None,
    ) -> None:
        super().__init__()  # no parent: the object is moved to its own thread
        self.command_timeout = command_timeout
        self.connect_deadline = connect_deadline
        self.emit_interval = emit_interval
        self._reconnect_args = (reconnect_first, reconnect_max)
        self._reader_factory = reader_factory
        self.stopping = threading.Event()  # set from the GUI thread: finish the current call, then stop
        self._reader: ObdReader | None = None
        self._reconnector: Reconnector | None = None
        self._poll: QTimer | None = None
        self._retry: QTimer | None = None
        self._url = ""
        self._protocol: str | None = None
        self._state = LinkState.DISCONNECTED
        self._last_status: LinkStatus | None = None
        self._vin: VinResult | None = None  # read once per connection: costs a multi-frame reply
        self._live: LiveCoalescer | None = None
        self._live_names: tuple[str, ...] = ()  # kept while the link is lost, to resume after reconnecting
        for request, slot in (
            (self.connect_requested, self._connect),
            (self.scan_requested, self._scan),
            (self.clear_requested, self._clear),
            (self.live_start_requested, self._live_start),
            (self.live_stop_requested, self._live_stop),
            (self.disconnect_requested, self._disconnect),
        ):
            request.connect(slot, QUEUED)

    # --- life cycle (worker thread) ----------------------------------------------------------------

    @Slot()
    def setup(self) -> None:
        """Create the reader and the timers in the worker thread (connected to ``QThread.started``)."""
        if self._reader is not None:
            return
        # Imported here, in the worker thread: python-OBD and pint cost ~0.4 s the window need not wait for.
        from drivers.obd.reader import ObdReader
        from drivers.obd.reconnect import Reconnector

        factory = self._reader_factory or (lambda: ObdReader(command_timeout=self.command_timeout))
        self._reader = factory()
        first, maximum = self._reconnect_args
        self._reconnector = Reconnector(first=first, maximum=maximum)
        self._poll = QTimer(self)
        self._poll.setInterval(0)  # one sampling round per event-loop pass: requests still get through
        self._poll.timeout.connect(self._poll_tick)
        self._retry = QTimer(self)
        self._retry.setInterval(RECONNECT_TICK_MS)
        self._retry.timeout.connect(self._retry_tick)

    @Slot()
    def teardown(self) -> None:
        """Stop the timers and close the port (runs in the worker thread as the thread finishes)."""
        for timer in (self._poll, self._retry):
            if timer is not None:
                timer.stop()
        if self._reader is not None:
            self._reader.close()

    def _require_reader(self) -> ObdReader:
        self.setup()
        assert self._reader is not None
        return self._reader

    # --- status ------------------------------------------------------------------------------------

    def _set_status(self, status: LinkStatus) -> None:
        self._state = status.state
        if status != self._last_status:
            self._last_status = status
            self.status_changed.emit(status)

    def _guarded(self, busy: str, action: Callable[[], None]) -> None:
        """Run one request; driver errors become a status or a German message, never an exception in Qt."""
        from drivers.obd.errors import LinkLost

        if busy:
            self.busy_changed.emit(busy)
        try:
            action()
        except LinkLost as exc:
            self._lost(exc)
        except WorkshopError as exc:
            self.error_occurred.emit(exc.message)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the adapter thread
            log.exception("OBD worker request failed")
            text = _("Unerwarteter Fehler in der Diagnose: {error}").format(error=type(exc).__name__)
            self.error_occurred.emit(text)
        finally:
            if busy:
                self.busy_changed.emit("")

    def _connected_or_complain(self) -> bool:
        if self._state is LinkState.CONNECTED and self._reader is not None and self._reader.connected:
            return True
        if self._state is LinkState.LOST:
            self.error_occurred.emit(_("Die Verbindung ist unterbrochen – der Adapter wird gerade neu verbunden."))
        else:
            self.error_occurred.emit(_("Nicht verbunden – bitte zuerst mit dem Adapter verbinden."))
        return False

    # --- connect / disconnect ----------------------------------------------------------------------

    @Slot(str, object)
    def _connect(self, url: str, protocol: str | None) -> None:
        reader = self._require_reader()
        self._stop_live()
        assert self._retry is not None and self._reconnector is not None
        self._retry.stop()
        self._reconnector.succeeded()
        reader.close()
        self._url, self._protocol, self._vin = url.strip(), protocol or None, None
        self._set_status(LinkStatus(LinkState.CONNECTING, _("Verbinde mit {url} …").format(url=self._url)))

        def attempt() -> None:
            from drivers.obd.errors import NotConnected

            try:
                info = reader.connect(self._url, protocol=self._protocol, deadline=self.connect_deadline)
            except NotConnected as exc:
                text = _("Zündung aus – das Fahrzeug antwortet nicht")
                self._set_status(LinkStatus(LinkState.IGNITION_OFF, text, exc.message, adapter=exc.adapter))
                return
            except WorkshopError as exc:  # adapter not found, link lost, no ELM327, unknown protocol number
                self._set_status(LinkStatus(LinkState.DISCONNECTED, _("Nicht verbunden"), exc.message))
                self.error_occurred.emit(exc.message)
                return
            self._on_connected(info)

        self._guarded(_("Verbinde …"), attempt)

    def _on_connected(self, info: ConnectionInfo) -> None:
        reader = self._require_reader()
        self._protocol = info.protocol  # a reconnect goes straight to the protocol that worked
        text = _("Verbunden in {seconds} s").format(seconds=formatting.number(info.seconds, 1))
        self._set_status(LinkStatus(LinkState.CONNECTED, text, adapter=info))
        self.connected.emit(info)
        self._vin = reader.read_vin()
        self.vehicle_read.emit(VehicleFacts(self._vin, reader.read_status()))

    @Slot()
    def _disconnect(self) -> None:
        self._stop_live()
        if self._retry is not None:
            self._retry.stop()
        if self._reader is not None:
            self._reader.close()
        self._url = ""
        self._set_status(LinkStatus(LinkState.DISCONNECTED, _("Getrennt")))

    # --- lost link and reconnect -------------------------------------------------------------------

    def _lost(self, error: Exception) -> None:
        """The adapter vanished mid-request: close, keep the live PIDs, retry with back-off."""
        from drivers.obd.errors import ObdError

        if self._reader is not None:
            self._reader.close()
        if self._poll is not None:
            self._poll.stop()
        self._emit_rest()
        self._live = None
        assert self._reconnector is not None and self._retry is not None
        self._reconnector.failed(error if isinstance(error, ObdError) else None)
        self._report_lost()
        log.info("OBD link lost: %s", error)
        if not self.stopping.is_set():
            self._retry.start()

    def _report_lost(self) -> None:
        assert self._reconnector is not None
        seconds = math.ceil(self._reconnector.wait_time())
        error = self._reconnector.last_error
        reason = error.message if error is not None else _("Verbindung zum Adapter verloren – Stecker prüfen.")
        self._set_status(LinkStatus(LinkState.LOST, lost_text(seconds), reason, seconds))

    @Slot()
    def _retry_tick(self) -> None:
        assert self._reconnector is not None and self._reader is not None and self._retry is not None
        if self.stopping.is_set() or self._state is not LinkState.LOST or not self._url:
            self._retry.stop()
            return
        if not self._reconnector.due():
            self._report_lost()
            return
        detail = self._last_status.detail if self._last_status is not None else ""
        self._set_status(LinkStatus(LinkState.LOST, lost_text(None), detail, 0))
        reader, url, protocol = self._reader, self._url, self._protocol
        deadline = min(self.connect_deadline, 5.0)
        info = self._reconnector.attempt(lambda: reader.connect(url, protocol=protocol, deadline=deadline))
        if info is None:
            self._report_lost()
            return
        self._retry.stop()
        names = self._live_names

        def resume() -> None:
            self._on_connected(info)
            if names:
                self._start_live(names)

        self._guarded("", resume)

    # --- scan and clear ----------------------------------------------------------------------------

    @Slot()
    def _scan(self) -> None:
        if not self._connected_or_complain():
            return

        def scan() -> None:
            reader = self._require_reader()
            assert reader.info is not None
            vin = self._vin if self._vin is not None and self._vin.state == "ok" else reader.read_vin()
            status, dtcs = reader.read_status(), reader.read_dtcs()
            frame = reader.freeze_frame()
            self.scan_finished.emit(ScanResult(reader.info, vin, status, dtcs, frame))

        self._guarded(_("Fehlerspeicher wird gelesen …"), scan)

    @Slot()
    def _clear(self) -> None:
        if not self._connected_or_complain():
            return

        def clear() -> None:
            reader = self._require_reader()
            result = reader.clear_dtcs()
            self.cleared.emit(result)
            vin = self._vin if self._vin is not None else reader.read_vin()
            self.vehicle_read.emit(VehicleFacts(vin, reader.read_status()))

        self._guarded(_("Fehlerspeicher wird gelöscht …"), clear)

    # --- live data ---------------------------------------------------------------------------------

    @Slot(object)
    def _live_start(self, names: Any) -> None:
        if not self._connected_or_complain():
            return
        chosen = tuple(dict.fromkeys(str(n).strip().upper() for n in names if str(n).strip()))
        if not chosen:
            self.error_occurred.emit(_("Bitte mindestens einen Messwert auswählen."))
            return
        self._stop_live()
        self._guarded(_("Live-Daten werden vorbereitet …"), lambda: self._start_live(chosen))

    def _start_live(self, names: tuple[str, ...]) -> None:
        live = LiveCoalescer(self._require_reader(), names, emit_interval=self.emit_interval)
        self._live, self._live_names = live, names
        self.live_started.emit(live.started)
        assert self._poll is not None
        self._poll.start()

    @Slot()
    def _poll_tick(self) -> None:
        live = self._live
        if live is None or self.stopping.is_set():
            if self._poll is not None:
                self._poll.stop()
            return

        def sample() -> None:
            batch = live.sample()
            if batch is not None:
                self.live_batch.emit(batch)

        self._guarded("", sample)

    def _emit_rest(self) -> None:
        batch = self._live.flush() if self._live is not None else None
        if batch is not None:
            self.live_batch.emit(batch)

    def _stop_live(self) -> None:
        if self._poll is not None:
            self._poll.stop()
        running = self._live is not None or bool(self._live_names)
        self._emit_rest()
        self._live, self._live_names = None, ()
        if running:
            self.live_stopped.emit()

    @Slot()
    def _live_stop(self) -> None:
        self._stop_live()


class ObdThread:
    """Starts an ``ObdWorker`` in its own QThread (GUI side) and stops it cleanly on close."""

    def __init__(self, worker: ObdWorker) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("carbot-obd")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.setup)
        # finished is emitted in the worker thread just before it ends: the port is closed there.
        self.thread.finished.connect(worker.teardown, Qt.ConnectionType.DirectConnection)
        self.thread.start()

    @property
    def running(self) -> bool:
        """True until stop() returned."""
        return bool(self.thread.isRunning())

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Stop polling, quit the thread's event loop and wait; False if a request outlived the timeout."""
        self.worker.stopping.set()
        self.thread.quit()
        if self.thread.wait(timeout_ms):
            return True
        # A connect can take up to its deadline; never destroy a running QThread (that aborts the process).
        log.warning("OBD thread still busy after %d ms; waiting for the current request", timeout_ms)
        return bool(self.thread.wait(int(self.worker.connect_deadline * 1000) + 1000))
