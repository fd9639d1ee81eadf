"""The connection panel: adapter port and protocol, Verbinden/Trennen, the link status and what the adapter
and the car told us (adapter id, protocol, battery voltage, VIN, MIL and code count, live values per second,
whether PIDs are batched). Display only: the view wires the buttons to the OBD worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.i18n import _
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.style import PROTOCOLS, STATE_COLOURS, chip_css, protocol_text, voltage_text
from ui.views.orders.style import PRIMARY_BUTTON
from ui.workers.obd_messages import LinkState, LinkStatus, VehicleFacts

if TYPE_CHECKING:
    from drivers.obd.results import ConnectionInfo


class ConnectionPanel(QGroupBox):
    """Port, protocol and the facts of the current link."""

    connect_clicked = Signal()
    disconnect_clicked = Signal()
    port_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Verbindung"), parent)
        self.setObjectName("connectionPanel")
        self.state = LinkState.DISCONNECTED
        self.port = QComboBox()
        self.port.setObjectName("portCombo")
        self.port.setEditable(True)  # socket://192.168.0.10:35000 and COM ports typed by hand
        self.port.setToolTip(_("USB-, Bluetooth- oder WLAN-Adapter; WLAN als socket://Adresse:Port eingeben"))
        # Chosen from the list or typed and confirmed – not on every keystroke (each asks the database).
        self.port.activated.connect(lambda _index: self.port_changed.emit(self.url()))
        line = self.port.lineEdit()
        assert line is not None  # the combo is editable
        line.editingFinished.connect(lambda: self.port_changed.emit(self.url()))
        self.protocol = QComboBox()
        self.protocol.setObjectName("protocolCombo")
        self.protocol.addItem(_("automatisch (Adapter sucht)"), None)
        for number, _name in PROTOCOLS:
            self.protocol.addItem(protocol_text(number), number)
        self.protocol.setToolTip(_("Das zuletzt für dieses Fahrzeug benutzte Protokoll ist vorausgewählt"))
        self.connect_button = QPushButton(_("Verbinden"))
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setStyleSheet(PRIMARY_BUTTON)
        self.connect_button.clicked.connect(self.connect_clicked)
        self.disconnect_button = QPushButton(_("Trennen"))
        self.disconnect_button.setObjectName("disconnectButton")
        self.disconnect_button.clicked.connect(self.disconnect_clicked)
        self.chip = QLabel()
        self.chip.setObjectName("linkChip")
        self.status_text = QLabel()
        self.status_text.setObjectName("linkStatus")
        self.status_text.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("linkDetail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet(f"color: {SECONDARY_TEXT};")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(_("Anschluss"), self.port)
        form.addRow(_("Protokoll"), self.protocol)
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button, 1)
        buttons.addWidget(self.disconnect_button)
        # The chip above its text: "Verbindung verloren – neuer Versuch in 2 s" needs the full width.
        chip_row = QVBoxLayout()
        chip_row.setSpacing(4)
        chip_row.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignLeft)
        chip_row.addWidget(self.status_text)

        facts = self._build_facts()

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addSpacing(4)
        layout.addLayout(chip_row)
        layout.addWidget(self.detail)
        layout.addSpacing(4)
        layout.addLayout(facts)
        layout.addWidget(self.vin_warning)
        layout.addWidget(self.adapter_warning)
        layout.addStretch(1)
        self.show_status(LinkStatus(LinkState.DISCONNECTED, _("Adapter einstecken, Zündung an, dann „Verbinden“.")))

    def _build_facts(self) -> QFormLayout:
        """The facts list plus the VIN and adapter warnings under it."""
        self.facts: dict[str, QLabel] = {}
        facts = QFormLayout()
        facts.setHorizontalSpacing(14)
        facts.setVerticalSpacing(6)
        for key, label in (
            ("adapter", _("Adapter")),
            ("protocol", _("Protokoll")),
            ("voltage", _("Spannung")),
            ("vin", _("FIN")),
            ("mil", _("MIL")),
            ("rate", _("Werte/s")),
            ("batched", _("Sammelabfrage")),
        ):
            value = QLabel("–")
            value.setObjectName(f"fact_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts[key] = value
            facts.addRow(label, value)
        self.facts["vin"].setStyleSheet("font-family: monospace; font-size: 11pt;")
        self.vin_warning = QLabel()
        self.vin_warning.setObjectName("vinWarning")
        self.vin_warning.setWordWrap(True)
        self.vin_warning.setStyleSheet("color: #b71c1c; font-weight: 600;")
        self.vin_warning.hide()
        self.adapter_warning = QLabel()
        self.adapter_warning.setObjectName("adapterWarning")
        self.adapter_warning.setWordWrap(True)
        self.adapter_warning.setStyleSheet("color: #5d4037;")
        self.adapter_warning.hide()
        return facts

    # --- inputs --------------------------------------------------------------------------------------

    def set_ports(self, ports: list[tuple[str, str]], selected: str = "") -> None:
        """Fill the port combo with (url, description); ``selected`` (the last one used) is chosen."""
        current = selected or self.port.currentText().strip()
        self.port.blockSignals(True)
        self.port.clear()
        for url, description in ports:
            self.port.addItem(url, url)
            self.port.setItemData(self.port.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        if current:
            index = self.port.findText(current)
            if index < 0:
                self.port.insertItem(0, current, current)
                index = 0
            self.port.setCurrentIndex(index)
        self.port.blockSignals(False)
        self.port_changed.emit(self.url())

    def url(self) -> str:
        """The adapter URL as selected or typed."""
        return self.port.currentText().strip()

    def selected_protocol(self) -> str | None:
        """The ELM protocol number, or None for the adapter's automatic search."""
        data = self.protocol.currentData()
        return str(data) if data else None

    def set_protocol(self, number: str | None) -> None:
        """Preselect a remembered protocol (None = automatisch)."""
        index = self.protocol.findData(number) if number else 0
        self.protocol.setCurrentIndex(max(0, index))

    # --- state ---------------------------------------------------------------------------------------

    def show_status(self, status: LinkStatus) -> None:
        """Show the link state; buttons follow it."""
        self.state = status.state
        background, foreground = STATE_COLOURS[status.state]
        self.chip.setText(status.label)
        self.chip.setStyleSheet(chip_css(background, foreground))
        self.status_text.setText(status.text)
        self.detail.setText(status.detail)
        self.detail.setVisible(bool(status.detail))
        busy = status.state in (LinkState.CONNECTING,)
        linked = status.state in (LinkState.CONNECTED, LinkState.LOST, LinkState.IGNITION_OFF)
        self.connect_button.setEnabled(not busy and status.state is not LinkState.CONNECTED)
        retry = linked and status.state is not LinkState.CONNECTED
        self.connect_button.setText(_("Erneut verbinden") if retry else _("Verbinden"))
        self.disconnect_button.setEnabled(status.state is not LinkState.DISCONNECTED)
        self.port.setEnabled(not busy and status.state is not LinkState.CONNECTED)
        self.protocol.setEnabled(self.port.isEnabled())
        if status.adapter is not None:
            self.show_info(status.adapter)
        if status.state is LinkState.DISCONNECTED:
            self.facts["rate"].setText("–")
            self.facts["batched"].setText("–")

    def show_info(self, info: ConnectionInfo) -> None:
        """Adapter id, protocol and voltage from the connect sequence."""
        self.facts["adapter"].setText(info.adapter_id or info.elm_version or "–")
        self.facts["protocol"].setText(protocol_text(info.protocol) if info.protocol else "–")
        self.facts["voltage"].setText(voltage_text(info.voltage))
        low = info.voltage is not None and info.voltage < 11.8
        self.facts["voltage"].setStyleSheet("color: #b71c1c; font-weight: 600;" if low else "")
        clone = "v2.1" in (info.elm_version or "") and not info.adapter_id.upper().startswith(("STN", "OBDLINK"))
        self.adapter_warning.setText(
            _("Hinweis: „{adapter}“ ist oft ein Nachbau – bei Aussetzern einen Markenadapter verwenden.").format(
                adapter=info.elm_version
            )
        )
        self.adapter_warning.setVisible(clone)

    def show_vehicle_facts(self, facts: VehicleFacts, expected_vin: str) -> None:
        """VIN (with a warning when it is not the selected vehicle's), MIL and the number of stored codes."""
        vin = facts.vin.vin if facts.vin.state == "ok" else None  # ReplyState is a StrEnum
        self.facts["vin"].setText(vin or facts.vin.text or "–")
        mismatch = bool(vin and expected_vin and vin != expected_vin)
        self.vin_warning.setText(
            _(
                "Achtung: Das Steuergerät meldet eine andere FIN als das gewählte Fahrzeug ({vin}). Richtiges Auto?"
            ).format(vin=expected_vin)
        )
        self.vin_warning.setVisible(mismatch)
        status = facts.status
        if status.state != "ok":
            self.facts["mil"].setText(status.text or "–")
            self.facts["mil"].setStyleSheet("")
            return
        count = _("{n} Fehler gespeichert").format(n=status.dtc_count) if status.dtc_count else _("keine Fehler")
        lamp = _("an") if status.mil else _("aus")
        self.facts["mil"].setText(f"● {lamp} – {count}")
        colour = "#c62828" if status.mil else "#2e7d32"
        self.facts["mil"].setStyleSheet(f"color: {colour}; font-weight: 600;")

    def show_rate(self, values_per_second: float | None, batched: bool | None) -> None:
        """Live throughput and whether the adapter answers batched requests."""
        self.facts["rate"].setText("–" if values_per_second is None else formatting.number(values_per_second, 0))
        self.facts["batched"].setText("–" if batched is None else (_("ja") if batched else _("nein")))
