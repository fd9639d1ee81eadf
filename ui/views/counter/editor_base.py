"""Common frame of the counter's editor dialogs: a ValidatedForm, a line for errors without a field,
Speichern/Abbrechen, Enter saves, Esc cancels, and saving through ``ctx.mutate`` in the background."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from app.errors import ValidationError, WorkshopError
from app.i18n import _
from ui.context import UiContext
from ui.errors import show_error
from ui.widgets.form import ValidatedForm

ERROR_COLOUR = "#c62828"


class EditorDialog(QDialog):
    """Subclasses add rows to ``self.form``, then implement ``save()`` and call ``store()``."""

    saved = Signal(object)  # the DTO as stored

    def __init__(self, ctx: UiContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setMinimumWidth(620)
        self.form = ValidatedForm()
        self.form.setHorizontalSpacing(14)
        self.form.setVerticalSpacing(6)
        self.general_error = QLabel("")
        self.general_error.setObjectName("formError")
        self.general_error.setWordWrap(True)
        self.general_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.general_error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(_("Speichern"))
        self.save_button.setDefault(True)
        self.save_button.setToolTip(_("Speichern (Enter)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Abbrechen"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip(_("Abbrechen (Esc)"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addStretch(1)  # extra height after messages grow the dialog goes here, not into the rows
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

    def clear_errors_on_edit(self) -> None:
        """Once the user corrects a field its message goes away (call after all rows are added)."""
        for wrapper in self.form.fields.values():
            if isinstance(wrapper.editor, QLineEdit):
                wrapper.editor.textEdited.connect(lambda _text, w=wrapper: w.set_error(""))

    # --- errors ----------------------------------------------------------------------------------------

    def clear_problems(self) -> None:
        """Hide every message."""
        self.form.clear_errors()
        self.general_error.hide()

    def show_problems(self, errors: Iterable[tuple[str, str]]) -> None:
        """Show each (field, message) under its field; messages without a field above the buttons."""
        unplaced = self.form.show_errors(errors)
        self.general_error.setText("\n".join(unplaced))
        self.general_error.setVisible(bool(unplaced))
        # Wrapped messages need height the dialog does not take by itself.
        QTimer.singleShot(0, self._grow)
        self._grow()

    def _grow(self) -> None:
        """Grow (never shrink) to fit every row, including the height of wrapped messages."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        hint = self.sizeHint()
        width = max(self.width(), hint.width())
        height = hint.height()
        if layout.hasHeightForWidth():
            height = max(height, layout.totalHeightForWidth(width))
        self.resize(width, max(self.height(), height))

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Top-level windows ignore the height of wrapped labels; make room once the dialog is shown."""
        super().showEvent(event)
        QTimer.singleShot(0, self._grow)

    def field_for(self, exc: WorkshopError) -> str | None:
        """The field a non-validation domain error belongs to (overridden per dialog)."""
        return exc.field if isinstance(exc, ValidationError) else None

    # --- saving ----------------------------------------------------------------------------------------

    def save(self) -> None:
        """Validate and store; implemented by the dialogs."""
        raise NotImplementedError

    def store(self, fn: Callable[[], Any]) -> None:
        """Run the mutation in the background; on success emit ``saved`` and close."""
        self.save_button.setEnabled(False)
        self.ctx.mutate(fn, self._stored, parent=self, initiator=self, on_error=self._failed)

    def _stored(self, result: Any) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(result[0] if isinstance(result, tuple) else result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, WorkshopError):
            field = self.field_for(exc)
            self.show_problems([(field or "", exc.message)])
            return
        show_error(parent=self, exc=exc)

    # --- keys ------------------------------------------------------------------------------------------

    def enter_saves(self) -> bool:
        """Whether Enter should save now (not while a popup list is open)."""
        return not isinstance(self.focusWidget(), QPlainTextEdit)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Enter saves from any single-line field, combo box or checkbox; Esc cancels (QDialog)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.enter_saves():
            self.save()
            return
        super().keyPressEvent(event)
