"""The small dialog for one line of a work order or a KVA: a part, an Austauschteil, a fee, a discount or
free labour.

It only collects text; the service of the document (``LineTarget``) validates and answers with a German
message that appears under the field it concerns ("Position 3: „abc“ ist keine Zahl." under Einzelpreis).
"""

from __future__ import annotations

import re
from decimal import Decimal

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from app import formatting
from app.errors import ValidationError, WorkshopError
from app.i18n import _
from app.services.order_lines import UNITS, VAT_RATES, LineDTO, LineInput
from app.services.settings import MechanicDTO
from ui.context import UiContext
from ui.views.counter.editor_base import EditorDialog
from ui.views.orders.line_editing import LineTarget
from ui.views.orders.style import kind_label, percent

_FIELD = re.compile(r"^lines\[\d+\]\.")


def line_field(exc: ValidationError) -> str:
    """ "lines[3].unit_price_net" → "unit_price_net" (the service numbers the fields by position)."""
    return _FIELD.sub("", exc.field or "")


def _number(value: Decimal | None, digits: int = 3) -> str:
    return "" if value is None else formatting.number(value, digits)


class LineDialog(EditorDialog):
    """Add (``line`` None) or change one line of ``target``; ``saved`` carries the document as stored."""

    def __init__(
        self,
        ctx: UiContext,
        target: LineTarget,
        kind: str,
        line: LineDTO | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = _("{kind} hinzufügen") if line is None else _("{kind} ändern (Position {position})")
        super().__init__(ctx, title.format(kind=kind_label(kind), position=line.position if line else ""), parent)
        self.setMinimumWidth(520)
        self.target, self.kind, self.line = target, kind, line
        self.text = QLineEdit()
        self.part_no = QLineEdit()
        self.quantity = QLineEdit("1")
        self.unit = QComboBox()
        for code, label in UNITS.items():
            self.unit.addItem(label, code)
        self.price = QLineEdit()
        self.price.setPlaceholderText(_("z. B. 49,90"))
        self.vat = QComboBox()
        for rate in VAT_RATES:
            self.vat.addItem(percent(rate), rate)
        self.aw = QLineEdit()
        self.aw.setPlaceholderText(_("z. B. 12 oder 1,5"))
        self.mechanic = QComboBox()
        self.mechanic.addItem(_("– niemand –"), None)
        self.discount_value = QLineEdit()
        self.discount_value.setPlaceholderText(_("z. B. 10"))
        self.discount_mode = QComboBox()
        self.discount_mode.addItem(_("% auf alles davor"), "percent")
        self.discount_mode.addItem(_("€ netto"), "amount")
        self._build_rows()
        if line is not None:
            self._fill(line)
        self.clear_errors_on_edit()
        self.text.setFocus()

    def _build_rows(self) -> None:
        kind = self.kind
        self.text.setPlaceholderText(_("leer: „Rabatt 10 %“") if kind == "discount" else _("z. B. Bremsscheibe vorn"))
        self.form.add("text", _("Bezeichnung"), self.text)
        if kind in ("part", "exchange_part"):
            self.form.add("part_no", _("Art.-Nr."), self.part_no)
        if kind == "labour":
            self.form.add("aw", _("AW"), self.aw)
            if self.target.with_mechanics:
                self.form.add("mechanic_id", _("Monteur"), self.mechanic)
                self._load_mechanics()
        elif kind == "discount":
            self.form.add("discount_percent", _("Rabatt"), self.discount_value)
            self.form.addRow("", self.discount_mode)
        else:
            self.form.add("quantity", _("Menge"), self.quantity)
            if kind != "fee":
                self.form.add("unit_code", _("Einheit"), self.unit)
            self.form.add("unit_price_net", _("Einzelpreis netto (€)"), self.price)
        if kind != "discount":
            self.form.add("vat_rate", _("USt"), self.vat)

    def _fill(self, line: LineDTO) -> None:
        self.text.setText(line.text)
        self.part_no.setText(line.part_no)
        self.quantity.setText(_number(line.quantity))
        self.unit.setCurrentIndex(max(0, self.unit.findData(line.unit_code)))
        self.price.setText(_number(line.unit_price_net, 2))
        self.vat.setCurrentIndex(max(0, self.vat.findData(line.vat_rate)))
        self.aw.setText(_number(line.aw, 2))
        if line.discount_amount_net is not None:
            self.discount_value.setText(_number(line.discount_amount_net, 2))
            self.discount_mode.setCurrentIndex(1)
        else:
            self.discount_value.setText(_number(line.discount_percent, 2))

    def _load_mechanics(self) -> None:
        settings = self.ctx.services.settings
        self.ctx.query(settings.mechanics, self._mechanics_loaded, parent=self)

    def _mechanics_loaded(self, mechanics: list[MechanicDTO]) -> None:
        for mechanic in mechanics:
            self.mechanic.addItem(mechanic.name, mechanic.id)
        if self.line is not None and self.line.mechanic_id is not None:
            self.mechanic.setCurrentIndex(max(0, self.mechanic.findData(self.line.mechanic_id)))

    # --- saving ------------------------------------------------------------------------------------------

    def line_input(self) -> LineInput:
        """The typed line as the service's input (numbers stay text; the service parses German numbers)."""
        base = self.line.as_input() if self.line is not None else LineInput(kind=self.kind)
        vat = self.vat.currentData()
        if self.kind == "labour":
            return LineInput(
                kind="labour",
                text=self.text.text(),
                part_no=base.part_no,
                aw=self.aw.text(),
                vat_rate=vat,
                service_id=base.service_id,
                mechanic_id=self.mechanic.currentData() if self.target.with_mechanics else base.mechanic_id,
                proposed=base.proposed,
            )
        if self.kind == "discount":
            value = self.discount_value.text()
            by_percent = self.discount_mode.currentData() == "percent"
            return LineInput(
                kind="discount",
                text=self.text.text(),
                discount_percent=value if by_percent else None,
                discount_amount_net=None if by_percent else value,
                proposed=base.proposed,
            )
        unit = self.unit.currentData() if self.kind != "fee" else "C62"
        return LineInput(
            kind=self.kind,
            text=self.text.text(),
            part_no=self.part_no.text() if self.kind != "fee" else base.part_no,
            quantity=self.quantity.text(),
            unit_code=unit,
            unit_label=UNITS.get(unit, ""),
            unit_price_net=self.price.text(),
            vat_rate=vat,
            service_id=base.service_id,
            proposed=base.proposed,
        )

    def save(self) -> None:
        """Add or update the line in the background; errors come back under their fields."""
        self.clear_problems()
        target, line = self.target, self.line_input()
        if self.line is None:
            self.store(lambda: target.add_line(line))
        else:
            line_id = self.line.id
            self.store(lambda: target.update_line(line_id, line))

    def field_for(self, exc: WorkshopError) -> str | None:
        """Map the service's ``lines[n].field`` to this form's rows (discount amount → the discount row)."""
        if not isinstance(exc, ValidationError):
            return None
        field = line_field(exc)
        if field == "discount_amount_net":
            return "discount_percent"
        return field if field in self.form.fields else None
