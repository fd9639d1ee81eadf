"""Table model of the service catalogue page: rows are ServiceDTOs, replaced after each search."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app import formatting
from app.i18n import N_, _
from app.services.catalog import ServiceDTO, labour_price, price_for

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
DTO_ROLE = Qt.ItemDataRole.UserRole + 1

COLUMNS = (
    N_("Nr."),
    N_("Kategorie"),
    N_("Bezeichnung"),
    N_("AW"),
    N_("Preisregel"),
    N_("Preis netto"),
    N_("Typische Teile"),
)
COL_CODE, COL_CATEGORY, COL_NAME, COL_AW, COL_RULE, COL_PRICE, COL_PARTS = range(len(COLUMNS))
PRICE_RULES = {"aw": N_("AW"), "fixed": N_("Festpreis"), "from": N_("ab-Preis")}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ServiceTableModel(QAbstractTableModel):
    """Read-only catalogue rows; prices are computed with the workshop's hourly rate and AW per hour."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ServiceDTO] = []
        self._rate = Decimal("0")
        self._aw_per_hour = 10

    def set_rows(self, rows: Sequence[ServiceDTO], labour_rate: Decimal, aw_per_hour: int) -> None:
        """Replace all rows and the rate the price column is computed with."""
        self.beginResetModel()
        self._rows = list(rows)
        self._rate = labour_rate
        self._aw_per_hour = aw_per_hour
        self.endResetModel()

    def service(self, row: int) -> ServiceDTO | None:
        """The DTO in ``row`` or None."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt override
        """Number of services shown."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:  # noqa: N802 - Qt override
        """Seven columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802 - Qt override
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """German column titles; numbers are right-aligned."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and section in (COL_AW, COL_PRICE):
            return int(_RIGHT)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, alignment, tooltip and the DTO itself by role."""
        service = self.service(index.row()) if index.isValid() else None
        if service is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(service, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_AW, COL_PRICE):
            return int(_RIGHT)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(service, column)
        if role == DTO_ROLE:
            return service
        return None

    def _text(self, service: ServiceDTO, column: int) -> str:
        cells = {
            COL_CODE: lambda: service.code,
            COL_CATEGORY: lambda: service.category,
            COL_NAME: lambda: service.name,
            COL_AW: lambda: formatting.number(service.aw),
            COL_RULE: lambda: _(PRICE_RULES.get(service.price_rule, service.price_rule)),
            COL_PRICE: lambda: self._price(service),
            COL_PARTS: lambda: ", ".join(service.parts),
        }
        cell = cells.get(column)
        return cell() if cell else ""

    def _price(self, service: ServiceDTO) -> str:
        if service.price_rule == "aw" and not self._rate:
            return "–"  # no hourly rate yet: an AW price of 0,00 € would be misleading
        price = formatting.money(price_for(service, self._rate, self._aw_per_hour))
        return _("ab {price}").format(price=price) if service.price_rule == "from" else price

    def _tooltip(self, service: ServiceDTO, column: int) -> str:
        if column == COL_PRICE:
            labour = formatting.money(labour_price(service.aw, self._rate, self._aw_per_hour))
            if service.price_rule == "aw" and not self._rate:
                return _("Bitte zuerst den Stundenverrechnungssatz unter „Werkstatt“ eintragen.")
            if service.price_rule == "fixed":
                return _("Festpreis netto, unabhängig von den AW")
            if service.price_rule == "from":
                return _("Mindestens {price}, nach AW {labour}").format(
                    price=formatting.money(service.price_net or Decimal(0)), labour=labour
                )
            return _("{aw} AW nach Stundenverrechnungssatz, Teile extra").format(aw=formatting.number(service.aw))
        if column == COL_PARTS and service.parts:
            return "\n".join(service.parts)
        return f"{service.code} · {service.name}"
