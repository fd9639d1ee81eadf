"""The fault memory page: "Fehlerspeicher auslesen" / "Fehler löschen …", three code tables (Gespeichert,
Ausstehend, Permanent: code, German text, system, severity in colour, ECU) and the repair suggestions with
check boxes and "Zum Auftrag hinzufügen". Display only; the view runs the requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import dtc as dtc_texts
from app import formatting
from app.i18n import _
from app.services.diagnostics_types import Suggestion
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.diagnosis.style import DANGER_BUTTON, DTC_KIND_HINTS, DTC_KIND_TITLES, SEVERITY_COLOURS
from ui.views.orders.style import PRIMARY_BUTTON

if TYPE_CHECKING:
    from drivers.obd.results import DtcGroup, DtcReport

KINDS = ("stored", "pending", "permanent")
COLUMNS = ("code", "text", "system", "severity", "ecu")


class DtcTable(QGroupBox):
    """The codes of one kind; an empty list says so in words."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(_(DTC_KIND_TITLES[kind]), parent)
        self.kind = kind
        self.setObjectName(f"dtcBox_{kind}")
        self.setToolTip(_(DTC_KIND_HINTS[kind]))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName(f"dtcTable_{kind}")
        self.table.setHorizontalHeaderLabels(
            [_("Code"), _("Beschreibung"), _("System"), _("Schwere"), _("Steuergerät")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        head = self.table.horizontalHeader()
        for column in (0, 2, 3, 4):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(_("Noch nicht ausgelesen."))
        self.empty.setObjectName(f"dtcEmpty_{kind}")
        self.empty.setStyleSheet(f"color: {SECONDARY_TEXT}; padding: 4px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        self.table.hide()

    def show_group(self, group: DtcGroup) -> None:
        """Fill the table (or say why there is nothing)."""
        title = _(DTC_KIND_TITLES[self.kind])
        codes = list(group.codes)
        self.setTitle(f"{title} ({len(codes)})" if group.state == "ok" else title)
        self.table.setRowCount(len(codes))
        bold = QFont()
        bold.setBold(True)
        bold.setPointSizeF(11.5)
        for row, code in enumerate(codes):
            info = dtc_texts.describe(code.code, "de")
            severity = code.severity or info.severity
            background, foreground = SEVERITY_COLOURS.get(severity, ("#eceff1", "#263238"))
            cells = (
                QTableWidgetItem(code.code),
                QTableWidgetItem(code.text_de or info.text),
                QTableWidgetItem(info.system),
                QTableWidgetItem(dtc_texts.severity_label(severity) if severity in SEVERITY_COLOURS else severity),
                QTableWidgetItem(f"{code.ecu_name} ({code.ecu})" if code.ecu_name != code.ecu else code.ecu),
            )
            cells[0].setFont(bold)
            cells[1].setToolTip(f"{code.text_de or info.text}\n({code.text_en})")
            cells[3].setBackground(QColor(background))
            cells[3].setForeground(QColor(foreground))
            cells[3].setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self._fit()
        self.table.setVisible(bool(codes))
        if group.state != "ok":
            self.empty.setText(_("Nicht lesbar: {reason}").format(reason=group.text))
        else:
            self.empty.setText(_("Keine Fehler."))
        self.empty.setVisible(not codes)

    def _fit(self) -> None:
        """Rows as high as their wrapped text, the table as high as its rows (at most ~5 codes)."""
        self.table.resizeRowsToContents()
        rows_height = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + min(rows_height, 220) + 6)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """The text column's width changed: wrap again, so no description ends in "…"."""
        super().resizeEvent(event)
        if self.table.rowCount():
            self._fit()

    def clear(self) -> None:
        """Back to "not read yet"."""
        self.setTitle(_(DTC_KIND_TITLES[self.kind]))
        self.table.setRowCount(0)
        self.table.hide()
        self.empty.setText(_("Noch nicht ausgelesen."))
        self.empty.show()

    def codes(self) -> list[str]:
        """The codes shown (for tests and the history entry)."""
        items = (self.table.item(row, 0) for row in range(self.table.rowCount()))
        return [item.text() for item in items if item is not None]


class SuggestionList(QGroupBox):
    """Catalogue services suggested for the codes, with check boxes; one click adds them to the order."""

    add_clicked = Signal(list)  # service ids

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Leistungsvorschläge"), parent)
        self.setObjectName("suggestionBox")
        self.list = QListWidget()
        self.list.setObjectName("suggestionList")
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.hint = QLabel(_("Nach dem Auslesen schlägt CarBot passende Katalogleistungen vor."))
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.add_button = QPushButton(_("Zum Auftrag hinzufügen"))
        self.add_button.setObjectName("addSuggestions")
        self.add_button.setStyleSheet(PRIMARY_BUTTON)
        self.add_button.setToolTip(_("Die angehakten Leistungen als Vorschlag (vom Kunden noch freizugeben) eintragen"))
        self.add_button.clicked.connect(lambda: self.add_clicked.emit(self.checked_ids()))
        self.list.itemChanged.connect(lambda _item: self._update_button())
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.add_button)
        self.order_label = ""
        self._update_button()

    def show_suggestions(self, suggestions: list[Suggestion]) -> None:
        """One checkable line per service; the first (most specific) one per code is checked."""
        self.list.blockSignals(True)
        self.list.clear()
        seen_codes: set[str] = set()
        for suggestion in suggestions:
            aw = formatting.number(suggestion.aw, 1)
            item = QListWidgetItem(
                f"{suggestion.service_name}\n{suggestion.service_code} · {aw} AW · "
                + _("wegen {code}").format(code=suggestion.code)
            )
            item.setData(Qt.ItemDataRole.UserRole, suggestion.service_id)
            item.setToolTip(f"{suggestion.code}: {suggestion.dtc_text}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            first = suggestion.code not in seen_codes
            seen_codes.add(suggestion.code)
            item.setCheckState(Qt.CheckState.Checked if first else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.hint.setText(
            _("Vorschläge zu den ausgelesenen Fehlern – angehakte kommen als Vorschlag in den Auftrag.")
            if suggestions
            else _("Keine Vorschläge – keine Fehler oder keine passende Katalogleistung.")
        )
        self._update_button()

    def clear(self) -> None:
        """No scan yet."""
        self.list.clear()
        self.hint.setText(_("Nach dem Auslesen schlägt CarBot passende Katalogleistungen vor."))
        self._update_button()

    def checked_ids(self) -> list[int]:
        """Service ids of the checked lines, in list order."""
        return [
            int(self.list.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.list.count())
            if self.list.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_order(self, label: str) -> None:
        """The order the suggestions go to ("" = none open)."""
        self.order_label = label
        self._update_button()

    def _update_button(self) -> None:
        has_order = bool(self.order_label)
        self.add_button.setEnabled(has_order and bool(self.checked_ids()))
        self.add_button.setText(
            _("Zum Auftrag {order} hinzufügen").format(order=self.order_label)
            if has_order
            else _("Zum Auftrag hinzufügen")
        )
        if not has_order:
            self.add_button.setToolTip(
                _("Kein offener Auftrag für dieses Fahrzeug – zuerst einen Auftrag anlegen (F2)")
            )


class DtcPanel(QWidget):
    """Buttons, the three tables and the suggestions side by side."""

    scan_clicked = Signal()
    clear_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scan_button = QPushButton(_("Fehlerspeicher auslesen"))
        self.scan_button.setObjectName("scanButton")
        self.scan_button.setStyleSheet(PRIMARY_BUTTON)
        self.scan_button.setToolTip(
            _("Fehler, Bereitschaft und Freeze-Frame lesen und zum Fahrzeug speichern (Strg+L)")
        )
        self.scan_button.clicked.connect(self.scan_clicked)
        self.clear_button = QPushButton(_("Fehler löschen …"))
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setStyleSheet(DANGER_BUTTON)
        self.clear_button.setToolTip(_("Löscht auch Freeze-Frame und Bereitschaftstests – fragt vorher nach"))
        self.clear_button.clicked.connect(self.clear_clicked)
        self.scan_info = QLabel("")
        self.scan_info.setObjectName("scanInfo")
        self.scan_info.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.tables = {kind: DtcTable(kind) for kind in KINDS}
        self.suggestions = SuggestionList()
        bar = QHBoxLayout()
        bar.addWidget(self.scan_button)
        bar.addWidget(self.clear_button)
        bar.addSpacing(12)
        bar.addWidget(self.scan_info, 1)
        codes = QVBoxLayout()
        codes.setSpacing(8)
        for table in self.tables.values():
            codes.addWidget(table)
        codes.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addLayout(codes, 5)
        body.addWidget(self.suggestions, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        self.set_enabled(connected=False, scanned=False)

    def set_enabled(self, *, connected: bool, scanned: bool) -> None:
        """Reading needs a link; clearing also needs a scan first (the mechanic sees what he deletes)."""
        self.scan_button.setEnabled(connected)
        self.clear_button.setEnabled(connected and scanned)

    def show_report(self, report: DtcReport) -> None:
        """All three lists."""
        for group in report.groups:
            self.tables[group.kind].show_group(group)

    def clear(self) -> None:
        """Nothing read yet (another vehicle)."""
        for table in self.tables.values():
            table.clear()
        self.suggestions.clear()
        self.scan_info.setText("")
