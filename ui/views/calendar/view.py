"""The "Termine" tab: the day or week plan per bay, with booking, editing and the next free slots.

All data comes from one background query (``data.load_calendar``); mutations go through ``ctx.mutate``
and the view reloads whenever the bus announces changed appointments or settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QScrollArea, QVBoxLayout, QWidget

from app.calendar_rules import format_day, weekday_short
from app.changes import Changes
from app.i18n import _, ngettext
from app.services.appointments import TRANSITIONS, AppointmentDTO, Slot
from ui import prefs
from ui.context import UiContext
from ui.views.calendar import style
from ui.views.calendar.booking_dialog import BookingDialog, ask_cancel_reason
from ui.views.calendar.data import CalendarData, load_calendar
from ui.views.calendar.free_slots import FreeSlotsDialog
from ui.views.calendar.grid import CalendarGrid
from ui.views.calendar.header import GridHeader
from ui.views.calendar.toolbar import DAY, WEEK, CalendarToolbar

NOW_TICK_MS = 60_000


class CalendarView(QWidget):
    """The calendar tab; ``new_appointment()`` is also reached from the main menu (Strg+T)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.now: Callable[[], dt.datetime] = dt.datetime.now
        mode = ctx.prefs.get(prefs.CALENDAR_MODE)
        self.mode = mode if mode in (DAY, WEEK) else DAY
        self.current_date = ctx.today()
        self.data: CalendarData | None = None
        self.booking_dialog: BookingDialog | None = None
        self.free_slots_dialog: FreeSlotsDialog | None = None
        self._generation = 0
        self._scroll_pending = True
        self._build()
        ctx.bus.operation_did_execute.connect(self._on_changes)
        self._tick = QTimer(self, interval=NOW_TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._today = ctx.today()
        self._tick.start()
        self.reload()

    # --- building ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.toolbar = CalendarToolbar()
        self.toolbar.today_clicked.connect(self.go_today)
        self.toolbar.step_clicked.connect(self.step)
        self.toolbar.date_picked.connect(self.set_date)
        self.toolbar.mode_changed.connect(self.set_mode)
        self.toolbar.bay_filter_changed.connect(lambda _bay: self._show_data())
        self.toolbar.free_slots_clicked.connect(self.show_free_slots)
        self.toolbar.new_clicked.connect(self.new_appointment)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600; color: #263238;")
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {style.SECONDARY_TEXT.name()}; font-size: 10.5pt;")
        title_row = QHBoxLayout()
        title_row.addWidget(self.title)
        title_row.addSpacing(16)
        title_row.addWidget(self.summary)
        title_row.addStretch(1)
        for status in ("pending", "confirmed", "done", "no_show"):
            title_row.addWidget(_legend_chip(status))
        self.holiday_banner = QLabel()
        self.holiday_banner.setObjectName("holidayBanner")
        self.holiday_banner.setStyleSheet(style.BANNER_CSS)
        self.holiday_banner.hide()
        self.info_banner = QLabel()
        self.info_banner.setWordWrap(True)
        self.info_banner.setStyleSheet(
            "QLabel { background: #eef4fb; color: #0d2c4f; border-radius: 4px; padding: 6px 10px; }"
        )
        self.info_banner.hide()
        self.grid = CalendarGrid()
        self.grid.now = self._now  # follows a later change of self.now (tests set a fixed clock)
        self.header = GridHeader(self.grid)
        self.header.today = self.ctx.today
        self.grid.appointment_activated.connect(self.edit_appointment)
        self.grid.slot_activated.connect(lambda start, bay: self.new_appointment(start=start, bay_id=bay))
        self.grid.context_requested.connect(self._context_menu)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.grid)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(6)
        layout.addWidget(self.toolbar)
        layout.addLayout(title_row)
        layout.addWidget(self.holiday_banner)
        layout.addWidget(self.info_banner)
        grid_box = QVBoxLayout()
        grid_box.setSpacing(0)
        grid_box.addWidget(self.header)
        grid_box.addWidget(self.scroll_area, 1)
        layout.addLayout(grid_box, 1)
        for keys, slot in (
            ("Alt+Left", lambda: self.step(-1)),
            ("Alt+Right", lambda: self.step(1)),
            ("Alt+Home", self.go_today),
        ):
            QShortcut(QKeySequence(keys), self, slot, Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.toolbar.show_state(self.current_date, self.mode)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """The hour height follows the visible height, so a tall window shows the whole day."""
        if watched is self.scroll_area.viewport() and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.grid.refit)
        return super().eventFilter(watched, event)

    # --- navigation --------------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Switch between Tag and Woche (remembered on this PC)."""
        if mode not in (DAY, WEEK):
            return
        self.mode = mode
        self.ctx.prefs.set(prefs.CALENDAR_MODE, mode)
        self._scroll_pending = True
        self.toolbar.show_state(self.current_date, mode)
        self.reload()

    def set_date(self, day: dt.date) -> None:
        """Show ``day`` (its week in the week view)."""
        if day == self.current_date and self.data is not None and day in self.data.days:
            return
        self.current_date = day
        self._scroll_pending = True
        self.toolbar.show_state(day, self.mode)
        self.reload()

    def step(self, direction: int) -> None:
        """One day or week back (-1) or forward (+1)."""
        days = 7 if self.mode == WEEK else 1
        self.set_date(self.current_date + dt.timedelta(days=direction * days))

    def go_today(self) -> None:
        """Back to today."""
        self.set_date(self.ctx.today())

    # --- data --------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the shown day or week in the background; late answers of older requests are dropped."""
        self._generation += 1
        generation, services = self._generation, self.ctx.services
        day, week = self.current_date, self.mode == WEEK
        self.ctx.query(
            lambda: load_calendar(services, day, week=week), lambda data: self._loaded(generation, data), parent=self
        )

    def _loaded(self, generation: int, data: CalendarData) -> None:
        if generation != self._generation:
            return
        self.data = data
        self.toolbar.set_bays(data.bays)
        self._show_data()

    def _show_data(self) -> None:
        data = self.data
        if data is None:
            return
        week = len(data.days) > 1
        self.header.set_week(week)
        self.grid.set_data(data, bay_filter=self.toolbar.bay_filter_id if week else None)
        self._show_titles(data, week)
        if self._scroll_pending:
            self._scroll_pending = False
            QTimer.singleShot(0, self._scroll_to_start)

    def _show_titles(self, data: CalendarData, week: bool) -> None:
        if week:
            first, last = data.days[0], data.days[-1]
            self.title.setText(
                _("KW {week} · {first} – {last}").format(
                    week=first.isocalendar().week, first=f"{first:%d.%m.}", last=f"{last:%d.%m.%Y}"
                )
            )
        else:
            today = " · " + _("heute") if data.days[0] == self.ctx.today() else ""
            self.title.setText(format_day(data.days[0]) + today)
        shown = [a for a in data.appointments if a.status != "cancelled"]
        pending = sum(1 for a in shown if a.status == "pending")
        text = ngettext("{count} Termin", "{count} Termine", len(shown)).format(count=len(shown))
        if pending:
            text += " · " + ngettext("{count} Anfrage offen", "{count} Anfragen offen", pending).format(count=pending)
        self.summary.setText(text)
        self.holiday_banner.setText(self.holiday_text())
        self.holiday_banner.setVisible(bool(data.holidays))
        self.info_banner.setText(
            _(
                "Es sind noch keine Bühnen angelegt – unter „Einstellungen“ Bühnen und Monteure "
                "anlegen. Bis dahin stehen Termine in der Spalte „ohne Bühne“."
            )
        )
        self.info_banner.setVisible(not data.bays)

    def holiday_text(self) -> str:
        """The holiday banner: the name(s) of public holidays among the shown days ("" when none)."""
        if self.data is None or not self.data.holidays:
            return ""
        if len(self.data.days) == 1:
            name = next(iter(self.data.holidays.values()))
            return _("Feiertag: {name} – die Werkstatt ist geschlossen.").format(name=name)
        days = ", ".join(
            f"{weekday_short(d.weekday())} {d:%d.%m.} {name}" for d, name in sorted(self.data.holidays.items())
        )
        return _("Feiertag in dieser Woche: {days}").format(days=days)

    def _scroll_to_start(self) -> None:
        # Today: start a little above "now"; other days: at the first opening time.
        now = self.now()
        y = self.grid.y_for(now) - 120 if self.data and now.date() in self.data.days else 0
        self.scroll_area.verticalScrollBar().setValue(max(int(y), 0))

    def _on_tick(self) -> None:
        # Every minute the red "now" line moves; after midnight a view left on "today" follows the day.
        today = self.ctx.today()
        if today != self._today:
            was_today, self._today = self.current_date == self._today, today
            if was_today:
                self.set_date(today)
        self.grid.update()

    def _now(self) -> dt.datetime:
        return self.now()

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.appointments or changes.settings:
            self.reload()

    # --- actions -----------------------------------------------------------------------------------

    def default_start(self) -> dt.datetime:
        """Where a new appointment starts: the next slot from now today, else the day's first opening."""
        step = self.data.slot_minutes if self.data else 15
        now = self.now()
        if self.current_date == now.date() or (self.mode == WEEK and self.data and now.date() in self.data.days):
            minutes = -(-(now.hour * 60 + now.minute) // step) * step
            minutes = min(minutes, 24 * 60 - step)
            return dt.datetime.combine(now.date(), dt.time(minutes // 60, minutes % 60))
        hours = self.data.hours.intervals(self.current_date) if self.data else []
        return hours[0][0] if hours else dt.datetime.combine(self.current_date, dt.time(8, 0))

    def new_appointment(
        self, *, start: dt.datetime | None = None, bay_id: int | None = None, duration_minutes: int | None = None
    ) -> BookingDialog:
        """Open the booking dialog (pre-filled with ``start``, ``bay_id`` and ``duration_minutes``)."""
        if bay_id is None and self.mode == WEEK:
            bay_id = self.toolbar.bay_filter_id
        dialog = BookingDialog(
            self.ctx,
            start=start or self.default_start(),
            bay_id=bay_id,
            duration_minutes=duration_minutes,
            now=self.now,
            parent=self,
        )
        return self._open(dialog)

    def edit_appointment(self, appointment_id: int) -> BookingDialog | None:
        """Open the dialog for a shown appointment (move, bay, mechanic, status)."""
        appt = self.data.appointment(appointment_id) if self.data else None
        if appt is None:
            return None
        dialog = BookingDialog(self.ctx, start=appt.start, appointment=appt, now=self.now, parent=self)
        return self._open(dialog)

    def _open(self, dialog: BookingDialog) -> BookingDialog:
        dialog.saved.connect(self._saved)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.booking_dialog = dialog
        dialog.open()
        return dialog

    def _closed(self, dialog: BookingDialog | FreeSlotsDialog) -> None:
        # Forget the closed dialog before Qt deletes it, so no one touches a deleted object.
        if dialog is self.booking_dialog:
            self.booking_dialog = None
        if dialog is self.free_slots_dialog:
            self.free_slots_dialog = None
        dialog.deleteLater()

    def _saved(self, appt: AppointmentDTO) -> None:
        self.grid.selected_id = appt.id
        verb = _("abgesagt") if appt.status == "cancelled" else _("gespeichert")
        self.ctx.bus.status_message_posted.emit(
            _("Termin {verb}: {day} {time} · {label}").format(
                verb=verb, day=f"{appt.start:%d.%m.}", time=style.hhmm(appt.start), label=appt.label
            )
        )
        if appt.status != "cancelled":
            self.set_date(appt.start.date())  # show where it landed (a booking for next week, say)

    def show_free_slots(self) -> FreeSlotsDialog:
        """The next free slots per bay; choosing one opens the booking dialog pre-filled."""
        dialog = FreeSlotsDialog(self.ctx, now=self.now, parent=self)
        dialog.slot_chosen.connect(self._book_slot)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.free_slots_dialog = dialog
        dialog.open()
        return dialog

    def _book_slot(self, slot: Slot, duration_minutes: int) -> None:
        QTimer.singleShot(
            0, lambda: self.new_appointment(start=slot.start, bay_id=slot.bay_id, duration_minutes=duration_minutes)
        )

    def set_status(self, appointment_id: int, status: str) -> None:
        """Change the status from the context menu (cancelling asks for a reason)."""
        appointments = self.ctx.services.appointments
        if status == "cancelled":
            reason = ask_cancel_reason(self)
            if reason is None:
                return
            self.ctx.mutate(lambda: appointments.cancel(appointment_id, reason), parent=self, initiator=self)
            return
        self.ctx.mutate(lambda: appointments.set_status(appointment_id, status), parent=self, initiator=self)

    def context_menu(self, appt: AppointmentDTO | None, slot: tuple[dt.datetime, int | None] | None) -> QMenu:
        """The right-click menu for an appointment (edit, status) or an empty slot (book here)."""
        menu = QMenu(self)
        if appt is not None:
            menu.addAction(_("Bearbeiten / verschieben …"), lambda: self.edit_appointment(appt.id))
            menu.addSeparator()
            for target, _label in style.STATUS_ACTIONS:
                if (appt.status, target) in TRANSITIONS:
                    menu.addAction(style.action_label(target), partial(self.set_status, appt.id, target))
        elif slot is not None:
            start, bay_id = slot
            menu.addAction(
                _("Neuer Termin um {time} …").format(time=style.hhmm(start)),
                lambda: self.new_appointment(start=start, bay_id=bay_id),
            )
        return menu

    def _context_menu(
        self, global_pos: QPoint, appt: AppointmentDTO | None, slot: tuple[dt.datetime, int | None] | None
    ) -> None:
        menu = self.context_menu(appt, slot)
        if not menu.isEmpty():
            menu.exec(global_pos)
        menu.deleteLater()


def _legend_chip(status: str) -> QLabel:
    fill, border, text = style.status_colours(status)
    chip = QLabel(style.status_name(status))
    chip.setStyleSheet(
        f"QLabel {{ background: {fill.name()}; color: {text.name()}; border-left: 4px solid "
        f"{border.name()}; border-radius: 3px; padding: 2px 8px; margin-left: 4px; }}"
    )
    return chip
