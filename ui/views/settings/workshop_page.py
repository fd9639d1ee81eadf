"""The "Werkstatt" page: the form plus one "Speichern" (Ctrl+S) that checks every field, then saves all."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from app.changes import Changes
from app.errors import ValidationError
from app.i18n import _, ngettext
from app.services.settings import WorkshopSettings
from ui.context import UiContext
from ui.errors import show_error
from ui.views.settings.data import SettingsRejected, save_settings
from ui.views.settings.workshop_form import WorkshopForm
from ui.widgets.form import FieldWithError

ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"


class WorkshopPage(QWidget):
    """Shows and saves the workshop's master data; ``saved`` carries the WorkshopSettings as stored."""

    saved = Signal(object)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings: WorkshopSettings | None = None
        self.dirty = False
        self.form = WorkshopForm()
        self.form.edited.connect(self._on_edited)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(0, 0, 8, 0)
        inner_layout.addWidget(self.form)
        scroll.setWidget(inner)

        self.status = QLabel("")
        self.status.setObjectName("saveStatus")
        self.status.setWordWrap(True)
        self.save_button = QPushButton(_("Speichern"))
        self.save_button.setObjectName("saveSettings")
        self.save_button.setToolTip(_("Alle Einstellungen dieser Seite speichern (Strg+S)"))
        self.save_button.setDefault(True)
        self.save_button.setMinimumWidth(140)
        self.save_button.clicked.connect(self.save)
        # Ctrl+S only while this page (or one of its fields) has the focus; the main window has no Ctrl+S.
        shortcut = QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addLayout(bar)

    # --- loading ---------------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the settings in the background and show them."""
        self.ctx.query(self.ctx.services.settings.get, self.show_settings, parent=self)

    def show_settings(self, settings: WorkshopSettings) -> None:
        """Fill the form; clears messages and the unsaved-changes mark."""
        self.settings = settings
        self.form.show_settings(settings)
        self.clear_problems()
        self.dirty = False

    def _on_edited(self) -> None:
        self.dirty = True
        self._set_status("", "")

    # --- saving ----------------------------------------------------------------------------------------

    def save(self) -> None:
        """Check every field in the background, show all problems at their fields – or save all at once."""
        if not self.save_button.isEnabled():
            return  # a save is already running
        changes = self.form.values()
        self.clear_problems()
        self.save_button.setEnabled(False)
        self._set_status(_("Wird gespeichert …"), "")
        service = self.ctx.services.settings
        self.ctx.mutate(
            lambda: save_settings(service, changes), self._saved, parent=self, initiator=self, on_error=self._failed
        )

    def _saved(self, result: tuple[WorkshopSettings, Changes]) -> None:
        self.save_button.setEnabled(True)
        self.show_settings(result[0])
        self._set_status(_("Gespeichert."), OK_COLOUR)
        self.ctx.bus.status_message_posted.emit(_("Einstellungen gespeichert."))
        self.saved.emit(result[0])

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, SettingsRejected):
            problems = [(p.field, p.message) for p in exc.problems]
        elif isinstance(exc, ValidationError):
            problems = [(exc.field, exc.message)]
        else:
            self._set_status("", "")
            show_error(parent=self, exc=exc)
            return
        self.show_problems(problems)

    # --- messages --------------------------------------------------------------------------------------

    def show_problems(self, problems: Iterable[tuple[str, str]]) -> None:
        """Each message in red under its field; messages without a field in the bar at the bottom."""
        unplaced: list[str] = []
        first: FieldWithError | None = None
        count = 0
        for field, text in problems:
            count += 1
            wrapper = self.form.fields.get(field)
            if wrapper is None:
                unplaced.append(text)
                continue
            wrapper.set_error(text)
            first = first or wrapper
        head = ngettext(
            "Nichts gespeichert – bitte die markierte Angabe korrigieren.",
            "Nichts gespeichert – bitte die {count} markierten Angaben korrigieren.",
            count,
        ).format(count=count)
        self._set_status("\n".join([head, *unplaced]), ERROR_COLOUR)
        if first is not None:
            first.editor.setFocus()

    def problems(self) -> dict[str, str]:
        """The messages shown right now, by field (for tests and screen readers)."""
        return {name: w.error.text() for name, w in self.form.fields.items() if w.error.text()}

    def clear_problems(self) -> None:
        """Hide every field message and the status line (the live opening-hours check stays)."""
        for name, wrapper in self.form.fields.items():
            if name != "opening_hours":
                wrapper.set_error("")
        self.form.update_hours_summary()
        self._set_status("", "")

    def _set_status(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour};" if colour else "")

    def values(self) -> dict[str, Any]:
        """What "Speichern" would store now."""
        return self.form.values()
