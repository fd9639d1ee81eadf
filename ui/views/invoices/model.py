"""The invoice list's Qt models: a table over InvoiceRow DTOs and a filter proxy fast enough for 100,000 rows.

Filtering and sorting never call back into Qt per row for the decision: the proxy computes a list of
booleans with one Python comprehension over the DTOs (status and a pre-folded search text), then
``invalidate()`` lets Qt rebuild its mapping, asking ``filterAcceptsRow`` – a list lookup – per row.
Sorting sorts the DTO list itself (``list.sort`` with a key) instead of letting the proxy compare cells
through ``data()``, which would cost millions of Python calls. Goal: ≤ 100 ms per filter change
(bench/bench_invoice_list.py).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont

from app import formatting
from app.i18n import N_, _, language
from app.services.catalog import fold
from app.services.dunning import LEVEL_NAMES
from app.services.invoice_queries import InvoiceRow

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

COLUMNS: Final = (
    ("number", N_("Rechnungsnr.")),
    ("date", N_("Datum")),
    ("customer", N_("Kunde")),
    ("plate", N_("Kennzeichen")),
    ("gross", N_("Brutto")),
    ("paid", N_("Bezahlt")),
    ("open", N_("Offen")),
    ("due", N_("Fällig")),
    ("status", N_("Status")),
)
COL: Final = {key: index for index, (key, _title) in enumerate(COLUMNS)}
# Invoice status → (text colour, light background of the status cell).
STATUS_COLOURS: Final = {
    "open": ("#0d47a1", "#e3f2fd"),
    "overdue": ("#b71c1c", "#ffebee"),
    "paid": ("#1b5e20", "#e8f5e9"),
    "cancelled": ("#607d8b", "#eceff1"),
    "storno": ("#607d8b", "#eceff1"),
}
# Filter name → the statuses it shows ("Offen" includes the overdue ones: they are open, too).
FILTERS: Final = {
    "all": None,
    "open": frozenset({"open", "overdue"}),
    "overdue": frozenset({"overdue"}),
    "cancelled": frozenset({"cancelled", "storno"}),
}
# Single values: the sort is stable, so rows with equal keys keep their previous order.
_SORT_KEYS: Final[dict[str, Callable[[InvoiceRow], Any]]] = {
    "number": lambda r: r.number,
    "date": lambda r: r.issue_date or dt.date.min,
    "customer": lambda r: r.customer_name.casefold(),
    "plate": lambda r: r.plate,
    "gross": lambda r: r.gross,
    "paid": lambda r: r.paid,
    "open": lambda r: r.open,
    "due": lambda r: r.due_date or dt.date.min,
    "status": lambda r: r.status,
}


@functools.lru_cache(maxsize=65536)
def _money(value: Decimal, _language: str) -> str:
    return formatting.money(value)


@functools.lru_cache(maxsize=8192)
def _date(value: dt.date | None, _language: str) -> str:
    return formatting.date(value)


_PLAIN: Final = {"number": "number", "customer": "customer_name", "plate": "plate"}


def search_texts(rows: Sequence[InvoiceRow]) -> list[str]:
    """The search texts of ``rows`` (pure Python: may run in a worker thread while the list loads)."""
    return [search_text(row) for row in rows]


def search_text(row: InvoiceRow) -> str:
    """What the search box matches: number, customer, plate and order number, folded (case, umlauts)."""
    plate = row.plate.replace("-", "").replace(" ", "")
    return fold(f"{row.number} {row.customer_name} {row.plate} {plate} {row.order_number} {row.related_number}")


class InvoiceTableModel(QAbstractTableModel):
    """Rows of the invoice list; replaced as a whole after each query."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[InvoiceRow] = []
        self.haystacks: list[str] = []
        self.statuses: list[str] = []  # row.status again, as a flat list: the status filter's fast path
        # Called after the rows changed but before the views hear of it, so a proxy can rebuild its mask
        # first (Qt asks the proxy per row as soon as the reset or layout change is announced).
        self.before_announce: list[Callable[[], None]] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: Sequence[InvoiceRow], haystacks: Sequence[str] | None = None) -> None:
        """Replace all rows; ``haystacks`` (from :func:`search_texts`) may be prepared off the GUI thread."""
        self.beginResetModel()
        self.rows = list(rows)
        self.haystacks = list(haystacks) if haystacks is not None else search_texts(self.rows)
        self.statuses = [row.status for row in self.rows]
        for hook in self.before_announce:
            hook()
        self.endResetModel()

    def row_dto(self, row: int) -> InvoiceRow | None:
        """The DTO in source row ``row``."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt override
        """Number of invoices."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt override
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """German column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section][1])
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if COLUMNS[section][0] in ("gross", "paid", "open") else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Formatted text, alignment, status colours, and the DTO by ROW_ROLE."""
        row = self.row_dto(index.row()) if index.isValid() else None
        if row is None:
            return None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, key)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        return self._style(row, key, role)

    def _style(self, row: InvoiceRow, key: str, role: int) -> Any:
        """Alignment, colours and bold face (overdue amounts and dates red, the status cell tinted)."""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if key in ("gross", "paid", "open") else None
        colours = STATUS_COLOURS.get(row.status, ("#37474f", "#ffffff"))
        if role == Qt.ItemDataRole.ForegroundRole and (
            key == "status" or (row.status == "overdue" and key in ("open", "due"))
        ):
            return QColor(colours[0])
        if role == Qt.ItemDataRole.BackgroundRole and key == "status":
            return QColor(colours[1])
        if role == Qt.ItemDataRole.FontRole and (key == "number" or (key == "open" and row.open > 0)):
            return self._bold
        return None

    @staticmethod
    def _text(row: InvoiceRow, key: str) -> str:
        # Babel formatting costs ~50 µs a call; the same amounts and dates repeat across thousands of rows.
        storno, lang = row.kind == "storno", language()
        if key in ("gross", "paid", "open"):
            value: Decimal = getattr(row, key)
            if key != "gross" and storno:
                return ""
            return "–" if key == "paid" and not value else _money(value, lang)
        if key == "status":
            if row.status != "overdue":
                return row.status_label
            text = _("überfällig ({days} Tage)").format(days=row.days_overdue)
            if row.reminder_level is not None:
                text += " · " + _(LEVEL_NAMES[min(row.reminder_level, len(LEVEL_NAMES) - 1)])
            return text
        if key in ("date", "due"):
            return "" if key == "due" and storno else _date(row.issue_date if key == "date" else row.due_date, lang)
        return str(getattr(row, _PLAIN[key]))

    @staticmethod
    def _tooltip(row: InvoiceRow) -> str:
        lines = [row.number, row.customer_name]
        if row.order_number:
            lines.append(_("Auftrag {number}").format(number=row.order_number))
        if row.status == "cancelled":
            lines.append(_("storniert durch {number}").format(number=row.related_number))
        elif row.kind == "storno":
            lines.append(_("Storno zu {number}").format(number=row.related_number))
        return "\n".join(p for p in lines if p)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the DTO list (one ``list.sort`` – no per-cell comparisons through Qt)."""
        key = _SORT_KEYS[COLUMNS[column][0]]
        keys = [key(row) for row in self.rows]
        permutation = sorted(range(len(keys)), key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutAboutToBeChanged.emit()
        self.rows = [self.rows[i] for i in permutation]
        self.haystacks = [self.haystacks[i] for i in permutation]
        self.statuses = [self.statuses[i] for i in permutation]
        for hook in self.before_announce:
            hook()
        self.layoutChanged.emit()


class InvoiceFilterProxy(QSortFilterProxyModel):
    """Status filter ("all", "open", "overdue", "cancelled") and search text, decided per row by a mask."""

    def __init__(self, source: InvoiceTableModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.source = source
        self.status_filter = "all"
        self.search = ""
        self._mask: list[bool] = []
        source.before_announce.append(self._rebuild_mask)
        self.setSourceModel(source)

    def set_filter(self, status_filter: str | None = None, search: str | None = None) -> None:
        """Change the status filter and/or the search text and re-filter once."""
        if status_filter is not None:
            self.status_filter = status_filter
        if search is not None:
            self.search = fold(search.strip())
        self._rebuild_mask()
        self.invalidate()

    def _rebuild_mask(self) -> None:
        self._mask = self._compute_mask()

    def _compute_mask(self) -> list[bool]:
        statuses = FILTERS[self.status_filter]
        hays = self.source.haystacks
        mask = [True] * len(hays) if statuses is None else [s in statuses for s in self.source.statuses]
        # One flat comprehension per word (every word must occur): faster than all() per row.
        for word in self.search.split():
            mask = [keep and word in hay for keep, hay in zip(mask, hays, strict=True)]
        return mask

    def filterAcceptsRow(self, source_row: int, _source_parent: _Index) -> bool:  # noqa: N802 - Qt override
        """Whether the source row passes: the mask is rebuilt whenever the filter or the rows change."""
        # Called once per row (100,000 times per change): a bare list lookup, nothing else.
        return self._mask[source_row]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting happens in the source list (fast); the proxy keeps the source order."""
        self.source.sort(column, order)

    def row_dto(self, proxy_row: int) -> InvoiceRow | None:
        """The DTO shown in ``proxy_row``."""
        index = self.mapToSource(self.index(proxy_row, 0))
        return self.source.row_dto(index.row()) if index.isValid() else None
