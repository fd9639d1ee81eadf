""" "Nächste freie Termine": the next free slots per bay for a walk-in or a caller, one click to book."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.calendar_rules import weekday_short
from app.i18n import _
from app.services.appointments import Slot
from ui.context import UiContext
from ui.views.calendar import style
from ui.views.calendar.pickers import DurationSpin

SEARCH_DAYS = 14
MAX_SLOTS = 40


class FreeSlotsDialog(QDialog):
    """Lists free slots from now on for a duration (and optionally one bay); ``slot_chosen`` on Enter."""

    slot_chosen = Signal(object, int)  # Slot, duration in minutes

    def __init__(
        self,
        ctx: UiContext,
        *,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        duration_minutes: int = 60,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.now = ctx, now
        self.setWindowTitle(_("Nächste freie Termine"))
        self.setMinimumSize(520, 480)
        self.duration = DurationSpin()
        self.duration.setValue(duration_minutes)
        self.duration.setKeyboardTracking(False)  # search once typing is done, not per digit
        self.duration.setToolTip(_("Wie lange der Wagen die Bühne braucht"))
        self.bay = QComboBox()
        self.bay.addItem(_("alle Bühnen"), None)
        controls = QHBoxLayout()
        controls.addWidget(QLabel(_("Dauer:")))
        controls.addWidget(self.duration)
        controls.addSpacing(12)
        controls.addWidget(QLabel(_("Bühne:")))
        controls.addWidget(self.bay, 1)
        self.info = QLabel()
        self.info.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()};")
        self.info.setWordWrap(True)
        self.list = QListWidget()
        self.list.setStyleSheet("QListWidget { font-size: 11.5pt; } QListWidget::item { padding: 5px 6px; }")
        self.list.itemActivated.connect(lambda _item: self.choose())
        self.list.itemDoubleClicked.connect(lambda _item: self.choose())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.book_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.book_button.setText(_("Diesen Termin buchen …"))
        self.book_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Schließen"))
        buttons.accepted.connect(self.choose)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.info)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.duration.valueChanged.connect(self.search)
        self.bay.currentIndexChanged.connect(self.search)
        settings = ctx.services.settings
        ctx.query(settings.bays, self._bays_loaded, parent=self)

    def _bays_loaded(self, bays: list[object]) -> None:
        self.bay.blockSignals(True)
        for bay in bays:
            self.bay.addItem(bay.name, bay.id)  # type: ignore[attr-defined]
        self.bay.blockSignals(False)
        self.search()

    def search(self) -> None:
        """Ask for the earliest free slot of each bay and the next free slots overall, from now on."""
        now, duration, bay_id = self.now(), dt.timedelta(minutes=self.duration.value()), self.bay.currentData()
        bay_ids = [bay_id] if bay_id is not None else [self.bay.itemData(i) for i in range(1, self.bay.count())]
        appointments = self.ctx.services.appointments

        def work() -> tuple[list[Slot], list[Slot]]:
            # Per bay separately: a fully booked bay must still show its first free time, days ahead.
            def find(bay: int | None, limit: int) -> list[Slot]:
                return appointments.free_slots(
                    date_from=now.date(), days=SEARCH_DAYS, duration=duration, bay_id=bay, limit=limit, earliest=now
                )

            firsts = [slot for bay in bay_ids for slot in find(bay, 1)]
            return sorted(firsts, key=lambda slot: slot.start), find(bay_id, MAX_SLOTS)

        self.info.setText(_("Suche …"))
        self.ctx.query(work, self._show, parent=self)

    @property
    def slots(self) -> list[Slot]:
        """The slots shown, in list order (without the group headings)."""
        items = (self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count()))
        return [slot for slot in items if slot is not None]

    def _show(self, result: tuple[list[Slot], list[Slot]]) -> None:
        firsts, more = result
        self.list.clear()
        if firsts:
            self._heading(_("Frühester freier Termin je Bühne"))
            for slot in firsts:
                self._add(slot, bold=True)
        rest = [slot for slot in more if slot not in firsts]
        if rest:
            self._heading(_("Weitere freie Zeiten"))
            for slot in rest:
                self._add(slot, bold=False)
        if firsts or rest:
            self.list.setCurrentRow(1)
            self.info.setText(_("Doppelklick oder Enter übernimmt die Zeit in einen neuen Termin."))
        else:
            self.info.setText(
                _("In den nächsten {days} Tagen ist kein Termin dieser Dauer frei.").format(days=SEARCH_DAYS)
            )
        self.book_button.setEnabled(bool(firsts or rest))

    def _heading(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setFont(style.font(10, bold=True))
        item.setForeground(style.SECONDARY_TEXT)
        self.list.addItem(item)

    def _add(self, slot: Slot, *, bold: bool) -> None:
        day = f"{weekday_short(slot.start.weekday())} {slot.start:%d.%m.}"
        if slot.start.date() == self.now().date():
            day = _("heute")
        item = QListWidgetItem(f"{day:<10}  {style.hhmm(slot.start)}–{style.hhmm(slot.end)}   ·   {slot.bay_name}")
        item.setData(Qt.ItemDataRole.UserRole, slot)
        item.setFont(style.font(11.5, bold=bold))
        self.list.addItem(item)

    def choose(self) -> None:
        """Take the selected slot."""
        item = self.list.currentItem()
        if item is None or item.data(Qt.ItemDataRole.UserRole) is None:
            return
        self.slot_chosen.emit(item.data(Qt.ItemDataRole.UserRole), self.duration.value())
        self.accept()
