"""Editing lines, shared by the order editor and the KVA editor: which document the lines belong to
(``LineTarget`` – the service calls for a work order or a Kostenvoranschlag) and the block both editors
show: the catalogue search and the kind buttons above the line table, "Position entfernen" below.

The block only announces what the user wants (by signal); the editor runs the service call in the
background and shows the document the service returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.i18n import N_, _
from app.services.order_lines import LineDTO, LineInput
from app.services.registry import Services
from ui.context import UiContext
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.catalog_search import ServiceSearch
from ui.views.orders.lines_table import OrderLinesTable

LINE_BUTTONS = (
    ("labour", N_("Ar&beit"), N_("Freie Arbeitsposition in AW (Alt+B)")),
    ("part", N_("&Teil"), N_("Ersatzteil mit Menge und Preis (Alt+T)")),
    ("exchange_part", N_("&Austauschteil"), N_("Austauschteil – das Altteil geht zurück, Altteilsteuer (Alt+A)")),
    ("fee", N_("&Gebühr"), N_("Gebühr, z. B. Entsorgung oder HU-Vorstellung (Alt+G)")),
    ("discount", N_("&Rabatt"), N_("Rabatt in Prozent oder Euro auf die Positionen davor (Alt+R)")),
)


@dataclass(frozen=True)
class LineTarget:
    """The document whose lines are edited: the service calls (each returns the document's DTO and the
    Changes) and whether labour lines get a Monteur (work orders only; a KVA plans no mechanics)."""

    add_line: Callable[[LineInput], Any]
    update_line: Callable[[int, LineInput], Any]
    add_service: Callable[[int], Any]
    remove_line: Callable[[int], Any]
    with_mechanics: bool


def order_target(services: Services, order_id: int) -> LineTarget:
    """The lines of work order ``order_id``."""
    orders = services.work_orders
    return LineTarget(
        add_line=lambda line: orders.add_line(order_id, line),
        update_line=orders.update_line,
        add_service=lambda service_id: orders.add_service(order_id, service_id),
        remove_line=orders.remove_line,
        with_mechanics=True,
    )


def estimate_target(services: Services, estimate_id: int) -> LineTarget:
    """The lines of Kostenvoranschlag ``estimate_id``."""
    estimates = services.estimates
    return LineTarget(
        add_line=lambda line: estimates.add_line(estimate_id, line),
        update_line=estimates.update_line,
        add_service=lambda service_id: estimates.add_service(estimate_id, service_id),
        remove_line=estimates.remove_line,
        with_mechanics=False,
    )


class LinesSection(QWidget):
    """Search, kind buttons, table and "Position entfernen"; ``work_columns`` shows Monteur and AW ist."""

    service_chosen = Signal(object)  # ServiceDTO to add
    kind_requested = Signal(str)  # open the line dialog for a new line of this kind
    line_activated = Signal(object)  # LineDTO to change
    remove_requested = Signal(object)  # LineDTO to remove
    selection_changed = Signal()

    def __init__(
        self, ctx: UiContext, overlay_parent: QWidget, *, work_columns: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.editable = False
        self.search = ServiceSearch(ctx, overlay_parent)
        self.search.service_chosen.connect(self.service_chosen)
        self.line_buttons: dict[str, QPushButton] = {}
        toolbar = QHBoxLayout()
        toolbar.setSpacing(6)
        toolbar.addWidget(self.search, 1)
        for kind, text, tip in LINE_BUTTONS:
            button = QPushButton(_(text))
            button.setObjectName(f"add_{kind}")
            button.setToolTip(_(tip))
            button.clicked.connect(lambda _checked=False, k=kind: self.kind_requested.emit(k))
            self.line_buttons[kind] = button
            toolbar.addWidget(button)
        self.table = OrderLinesTable(work_columns=work_columns)
        self.table.line_activated.connect(self.line_activated)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.remove_button = QPushButton(_("Position entfernen"))
        self.remove_button.setObjectName("removeLine")
        self.remove_button.setToolTip(_("Markierte Position entfernen (Entf)"))
        self.remove_button.clicked.connect(self.request_remove)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.request_remove).setContext(
            Qt.ShortcutContext.WidgetShortcut
        )
        self.empty = QLabel(_("Noch keine Positionen – Leistung suchen (Strg+L) oder Teil hinzufügen."))
        self.empty.setStyleSheet(f"color: {SECONDARY_TEXT}; padding: 6px;")
        self.below = QHBoxLayout()
        self.below.addWidget(self.empty)
        self.below.addStretch(1)
        self.below.addWidget(self.remove_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addLayout(toolbar)
        column.addWidget(self.table, 1)
        column.addLayout(self.below)

    def add_button(self, button: QPushButton) -> None:
        """Another button left of "Position entfernen" (the order's "Vorschlag übernehmen")."""
        self.below.insertWidget(self.below.indexOf(self.remove_button), button)

    def set_lines(self, lines: tuple[LineDTO, ...], *, editable: bool) -> None:
        """Show ``lines``; search, kind buttons and removing only while the document may change."""
        self.editable = editable
        self.table.set_lines(lines, editable=editable)
        self.empty.setVisible(not lines)
        self.search.setEnabled(editable)
        for button in self.line_buttons.values():
            button.setEnabled(editable)
        self._selection_changed()

    def request_remove(self) -> None:
        """Ask to remove the selected line (button or Entf)."""
        line = self.table.current_line()
        if line is not None and self.editable:
            self.remove_requested.emit(line)

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.editable and self.table.current_line() is not None)
        self.selection_changed.emit()
