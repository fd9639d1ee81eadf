"""The "Bühnen & Monteure" page: two lists with add, activate and deactivate; inactive entries greyed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.changes import Changes
from app.errors import WorkshopError
from app.i18n import N_, _
from app.services.settings import BayDTO, MechanicDTO
from ui.context import UiContext
from ui.errors import show_error
from ui.views.settings.data import ResourcesData, load_resources
from ui.widgets.form import FieldWithError

INACTIVE_COLOUR = "#9e9e9e"
BAY_KINDS = (N_("Hebebühne"), N_("Grube"), N_("Achsvermessung"), N_("Reifenplatz"), N_("Stellplatz"))
# Bays and mechanics feed the calendar's columns and pickers, so changes are announced as settings.
RESOURCES_CHANGED = Changes(settings=True)


class ResourceList(QGroupBox):
    """A titled list with an add row (name, optionally a kind) and an activate/deactivate button."""

    def __init__(
        self, title: str, placeholder: str, max_length: int, *, with_kind: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.setStyleSheet("QListWidget::item { padding: 4px 6px; }")
        self.name = QLineEdit()
        self.name.setPlaceholderText(placeholder)
        self.name.setMaxLength(max_length)
        self.name_field = FieldWithError(self.name)
        self.kind: QComboBox | None = None
        self.add_button = QPushButton(_("Hinzufügen"))
        self.toggle_button = QPushButton(_("Deaktivieren"))
        self.list.currentItemChanged.connect(lambda *_a: self._update_toggle())
        self.list.itemDoubleClicked.connect(lambda _item: self.toggle_button.click())
        self.name.textEdited.connect(lambda _t: self.name_field.set_error(""))
        self.toggle_button.setEnabled(False)
        self.toggle_button.setMinimumWidth(110)
        new_label = QLabel(_("Neu:"))
        new_label.setContentsMargins(0, 4, 0, 0)
        add_row = QHBoxLayout()
        add_row.addWidget(new_label, 0, Qt.AlignmentFlag.AlignTop)
        add_row.addWidget(self.name_field, 2, Qt.AlignmentFlag.AlignTop)
        if with_kind:
            self.kind = QComboBox()
            self.kind.setEditable(True)
            self.kind.addItems([_(k) for k in BAY_KINDS])
            kind_edit = self.kind.lineEdit()
            if kind_edit is not None:
                kind_edit.setMaxLength(30)  # the column's length
            self.kind.setToolTip(_("Art der Bühne – aus der Liste wählen oder frei eingeben"))
            add_row.addWidget(self.kind, 1, Qt.AlignmentFlag.AlignTop)
        add_row.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignTop)
        self.name.returnPressed.connect(self.add_button.click)
        toggle_row = QHBoxLayout()
        toggle_row.addStretch(1)
        toggle_row.addWidget(self.toggle_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(toggle_row)
        layout.addSpacing(6)
        layout.addLayout(add_row)

    def set_items(self, rows: list[tuple[int, str, bool, str]]) -> None:
        """Show (id, text, active, tooltip) rows, keeping the selection where possible."""
        current = self.current_id()
        self.list.clear()
        for row_id, text, active, tip in rows:
            item = QListWidgetItem(text if active else _("{name} (inaktiv)").format(name=text))
            item.setData(Qt.ItemDataRole.UserRole, (row_id, active))
            item.setToolTip(tip)
            if not active:
                item.setForeground(QBrush(QColor(INACTIVE_COLOUR)))
                font = QFont(item.font())
                font.setItalic(True)
                item.setFont(font)
            self.list.addItem(item)
            if row_id == current:
                self.list.setCurrentItem(item)
        self._update_toggle()

    def current_id(self) -> int | None:
        """The selected entry's id."""
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)[0]) if item is not None else None

    def current_active(self) -> bool:
        """Whether the selected entry is active."""
        item = self.list.currentItem()
        return bool(item.data(Qt.ItemDataRole.UserRole)[1]) if item is not None else False

    def select(self, row_id: int) -> None:
        """Select the entry with ``row_id``."""
        for index in range(self.list.count()):
            if self.list.item(index).data(Qt.ItemDataRole.UserRole)[0] == row_id:
                self.list.setCurrentRow(index)
                return

    def _update_toggle(self) -> None:
        selected = self.list.currentItem() is not None
        self.toggle_button.setEnabled(selected)
        self.toggle_button.setText(_("Aktivieren") if selected and not self.current_active() else _("Deaktivieren"))


class ResourcesPage(QWidget):
    """Bays (Bühnen) on the left, mechanics (Monteure) on the right."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bays = ResourceList(_("Bühnen"), _("Name, z. B. Bühne 5"), 60, with_kind=True)
        self.mechanics = ResourceList(_("Monteure"), _("Vor- und Nachname"), 80, with_kind=False)
        self.bays.add_button.clicked.connect(self.add_bay)
        self.mechanics.add_button.clicked.connect(self.add_mechanic)
        self.bays.toggle_button.clicked.connect(self.toggle_bay)
        self.mechanics.toggle_button.clicked.connect(self.toggle_mechanic)
        lists = QHBoxLayout()
        lists.setSpacing(16)
        lists.addWidget(self.bays, 1)
        lists.addWidget(self.mechanics, 1)
        hint = QLabel(
            _(
                "Deaktivierte Bühnen und Monteure (grau) bleiben in vorhandenen Terminen erhalten, werden für neue "
                "Termine aber nicht mehr angeboten. Doppelklick schaltet um."
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #607d8b;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(lists, 1)
        layout.addWidget(hint)

    def load(self) -> None:
        """Read bays and mechanics in the background."""
        service = self.ctx.services.settings
        self.ctx.query(lambda: load_resources(service), self.show_data, parent=self)

    def show_data(self, data: ResourcesData) -> None:
        """Fill both lists."""
        self.bays.set_items([(b.id, f"{b.name} · {b.kind}", b.active, _bay_tip(b)) for b in data.bays])
        self.mechanics.set_items([(m.id, m.name, m.active, _mechanic_tip(m)) for m in data.mechanics])

    # --- actions ---------------------------------------------------------------------------------------

    def add_bay(self) -> None:
        """Add the bay typed into the name field."""
        service = self.ctx.services.settings
        name = self.bays.name.text()
        kind = (self.bays.kind.currentText().strip() if self.bays.kind else "") or _("Hebebühne")
        self._run(self.bays, lambda: service.add_bay(name, kind), added=True)

    def add_mechanic(self) -> None:
        """Add the mechanic typed into the name field."""
        service = self.ctx.services.settings
        name = self.mechanics.name.text()
        self._run(self.mechanics, lambda: service.add_mechanic(name), added=True)

    def toggle_bay(self) -> None:
        """Deactivate the selected bay, or activate it again."""
        bay_id, active = self.bays.current_id(), self.bays.current_active()
        if bay_id is not None:
            service = self.ctx.services.settings
            self._run(self.bays, lambda: service.set_bay_active(bay_id, not active))

    def toggle_mechanic(self) -> None:
        """Deactivate the selected mechanic, or activate them again."""
        mech_id, active = self.mechanics.current_id(), self.mechanics.current_active()
        if mech_id is not None:
            service = self.ctx.services.settings
            self._run(self.mechanics, lambda: service.set_mechanic_active(mech_id, not active))

    def _run(self, target: ResourceList, fn: Callable[[], Any], *, added: bool = False) -> None:
        service = self.ctx.services.settings

        def work() -> tuple[Any, ResourcesData, Changes]:
            # The changed entry and the fresh lists in one unit of work on the DB thread.
            return fn(), load_resources(service), RESOURCES_CHANGED

        def done(result: tuple[Any, ResourcesData, Changes]) -> None:
            entry, data, _changes = result
            self.show_data(data)
            if added:
                target.name.clear()
                target.select(entry.id)
                target.name.setFocus()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, WorkshopError):
                target.name_field.set_error(exc.message)
                target.name.setFocus()
            else:
                show_error(parent=self, exc=exc)

        target.name_field.set_error("")
        self.ctx.mutate(work, done, parent=self, initiator=self, on_error=failed)


def _bay_tip(bay: BayDTO) -> str:
    state = _("aktiv") if bay.active else _("inaktiv – wird im Kalender nicht mehr angeboten")
    return f"{bay.name} · {bay.kind} · {state}"


def _mechanic_tip(mechanic: MechanicDTO) -> str:
    hours = _("{hours} Std./Tag").format(hours=formatting.number(mechanic.hours_per_day))
    state = _("aktiv") if mechanic.active else _("inaktiv – wird bei Terminen nicht mehr angeboten")
    return f"{mechanic.name} · {hours} · {state}"
