"""The line table of a work order or a KVA: Pos, Art, Bezeichnung, Art.-Nr., Menge/AW, Einheit, Einzelpreis,
USt, Gesamt, and for work orders Monteur and AW ist. Those two are edited in place on labour lines (the
mechanic's everyday entries); double-click or Enter on any other cell opens the line dialog.

Edits are not written anywhere here: the table announces them by signal, the editor sends them to the
service, and the table is filled again from the order the service returns.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.i18n import _
from app.services.order_lines import LineDTO
from app.services.settings import MechanicDTO
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.orders.style import amount, kind_label, money, percent

COLUMNS = (
    ("pos", "Pos"),
    ("kind", "Art"),
    ("text", "Bezeichnung"),
    ("part_no", "Art.-Nr."),
    ("quantity", "Menge/AW"),
    ("unit", "Einheit"),
    ("price", "Einzelpreis"),
    ("vat", "USt"),
    ("net", "Gesamt"),
    ("mechanic", "Monteur"),
    ("aw_actual", "AW ist"),
)
COL = {key: index for index, (key, _title) in enumerate(COLUMNS)}
LINE_ROLE = Qt.ItemDataRole.UserRole + 1
MECHANIC_ROLE = Qt.ItemDataRole.UserRole + 2
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_NUMERIC = ("pos", "quantity", "price", "vat", "net", "aw_actual")
_Index = QModelIndex | QPersistentModelIndex


class MechanicDelegate(QStyledItemDelegate):
    """A combo box of the active mechanics for the Monteur cell."""

    def __init__(self, table: OrderLinesTable) -> None:
        super().__init__(table)
        self.table = table

    def createEditor(self, parent: QWidget, _option: QStyleOptionViewItem, _index: _Index) -> QWidget:  # noqa: N802
        """A combo with "– niemand –" and every mechanic."""
        combo = QComboBox(parent)
        combo.addItem(_("– niemand –"), None)
        for mechanic in self.table.mechanics:
            combo.addItem(mechanic.name, mechanic.id)
        return combo

    def setEditorData(self, editor: QWidget, index: _Index) -> None:  # noqa: N802 - Qt override
        """Select the line's mechanic."""
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(max(0, editor.findData(index.data(MECHANIC_ROLE))))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:  # noqa: N802
        """Write name and id into the cell; the table turns that into a ``mechanic_changed`` signal."""
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), MECHANIC_ROLE)
        model.setData(index, editor.currentText() if editor.currentData() is not None else "", Qt.ItemDataRole.EditRole)


class OrderLinesTable(QTableWidget):
    """Lines of one order or KVA as LineDTO rows; ``work_columns`` False hides Monteur and AW ist."""

    line_activated = Signal(object)  # LineDTO: open the line dialog
    mechanic_changed = Signal(int, object)  # line id, mechanic id or None
    actual_aw_entered = Signal(int, str)  # line id, the typed AW ("" clears)

    def __init__(self, parent: QWidget | None = None, *, work_columns: bool = True) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("orderLines")
        self.work_columns = work_columns
        self.lines: list[LineDTO] = []
        self.mechanics: list[MechanicDTO] = []
        self.aw_price: Decimal | None = None
        self.editable = False
        self._filling = False
        self.setHorizontalHeaderLabels([_(title) for _key, title in COLUMNS])
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setItemDelegateForColumn(COL["mechanic"], MechanicDelegate(self))
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(COL["text"], QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(44)
        for key in ("mechanic", "aw_actual"):
            self.setColumnHidden(COL[key], not work_columns)
        self.itemChanged.connect(self._item_changed)
        self.doubleClicked.connect(self._double_clicked)

    # --- filling -----------------------------------------------------------------------------------------

    def set_lines(self, lines: tuple[LineDTO, ...], *, editable: bool) -> None:
        """Show ``lines``; Monteur and AW ist are editable on labour lines while the order is."""
        selected = self.current_line()
        self._filling = True
        try:
            self.lines, self.editable = list(lines), editable
            self.setRowCount(len(lines))
            for row, line in enumerate(lines):
                self._fill_row(row, line)
        finally:
            self._filling = False
        if selected is not None:
            for row, line in enumerate(self.lines):
                if line.id == selected.id:
                    self.selectRow(row)

    def _cells(self, line: LineDTO) -> dict[str, str]:
        labour = line.kind == "labour"
        price = self.aw_price if labour else line.unit_price_net
        if line.kind == "discount":
            price = None
            quantity = (
                _("{percent} %").format(percent=amount(line.discount_percent))
                if line.discount_percent is not None
                else ""
            )
        else:
            quantity = amount(line.aw if labour else line.quantity, 2 if labour else 3)
        kind = kind_label(line.kind)
        return {
            "pos": str(line.position),
            "kind": _("Vorschlag: {kind}").format(kind=kind) if line.proposed else kind,
            "text": line.text or kind,
            "part_no": line.part_no,
            "quantity": quantity,
            "unit": "AW" if labour else ("" if line.kind == "discount" else line.unit_label),
            "price": money(price),
            "vat": "" if line.kind == "discount" else percent(line.vat_rate),
            "net": money(line.net),
            "mechanic": line.mechanic_name if labour else "",
            "aw_actual": amount(line.aw_actual) if labour else "",
        }

    def _fill_row(self, row: int, line: LineDTO) -> None:
        cells = self._cells(line)
        for key, column in COL.items():
            item = QTableWidgetItem(cells[key])
            item.setData(LINE_ROLE, line.id)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if self.editable and self.work_columns and line.kind == "labour" and key in ("mechanic", "aw_actual"):
                flags |= Qt.ItemFlag.ItemIsEditable
                item.setToolTip(_("Doppelklick oder tippen zum Eintragen"))
            item.setFlags(flags)
            if key in _NUMERIC:
                item.setTextAlignment(_RIGHT)
            if key == "mechanic":
                item.setData(MECHANIC_ROLE, line.mechanic_id)
            if line.proposed:
                font = QFont(item.font())
                font.setItalic(True)
                item.setFont(font)
                item.setForeground(QColor(SECONDARY_TEXT))
            elif key == "net" and line.net < 0:
                item.setForeground(QColor("#c62828"))
            if key == "net":
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.setItem(row, column, item)

    # --- reading -----------------------------------------------------------------------------------------

    def current_line(self) -> LineDTO | None:
        """The selected line."""
        row = self.currentRow()
        return self.lines[row] if 0 <= row < len(self.lines) and self.selectionModel().hasSelection() else None

    def line_at(self, row: int) -> LineDTO | None:
        """The line in ``row``."""
        return self.lines[row] if 0 <= row < len(self.lines) else None

    # --- edits -------------------------------------------------------------------------------------------

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        line = self.line_at(item.row())
        if line is None:
            return
        column = item.column()
        # Queued: the service answer refills the table, which must not happen inside the editor's commit.
        if column == COL["mechanic"]:
            mechanic_id = item.data(MECHANIC_ROLE)
            if mechanic_id != line.mechanic_id:
                QTimer.singleShot(0, self, lambda: self.mechanic_changed.emit(line.id, mechanic_id))
        elif column == COL["aw_actual"]:
            text = item.text().strip()
            if text != amount(line.aw_actual):
                QTimer.singleShot(0, self, lambda: self.actual_aw_entered.emit(line.id, text))

    def _double_clicked(self, index: QModelIndex) -> None:
        item = self.item(index.row(), index.column())
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEditable:
            return  # Qt opens the in-place editor
        line = self.line_at(index.row())
        if line is not None:
            self.line_activated.emit(line)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Enter opens the selected line (unless a cell is being edited)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state() != self.State.EditingState:
            line = self.current_line()
            if line is not None:
                self.line_activated.emit(line)
                return
        super().keyPressEvent(event)

    def sizeHintForColumn(self, column: int) -> int:  # noqa: N802 - Qt override
        """Room for the header text too (ResizeToContents looks at the cells only)."""
        return max(super().sizeHintForColumn(column), self.horizontalHeader().sectionSizeHint(column))

    def cell_text(self, row: int, key: str) -> str:
        """The text of a cell by column key."""
        item = self.item(row, COL[key])
        return item.text() if item is not None else ""
