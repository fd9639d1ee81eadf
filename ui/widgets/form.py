"""Form helpers: a field with an inline German error message underneath (not a dialog)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget


class FieldWithError(QWidget):
    """Wraps an input widget and shows a red message below it when ``set_error`` is called."""

    def __init__(self, editor: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.error = QLabel("")
        self.error.setObjectName("fieldError")
        self.error.setStyleSheet("color: #c62828; font-size: 9pt;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        self.setFocusProxy(editor)

    def set_error(self, text: str) -> None:
        """Show (or with "" hide) the message and mark the editor."""
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.editor.setProperty("invalid", bool(text))
        self.editor.setStyleSheet("border: 1px solid #c62828;" if text else "")


class ValidatedForm(QFormLayout):
    """A form layout whose rows are FieldWithError, addressable by model field name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, FieldWithError] = {}

    def add(self, name: str, label: str, editor: QWidget) -> QWidget:
        """Add a row for model attribute ``name``."""
        wrapper = FieldWithError(editor)
        self.fields[name] = wrapper
        self.addRow(label, wrapper)
        return editor

    def show_errors(self, errors: Iterable[tuple[str, str]]) -> list[str]:
        """Show every (field, text) at its field and focus the first one; returns the texts without a field."""
        unplaced: list[str] = []
        first: FieldWithError | None = None
        for field, text in errors:
            wrapper = self.fields.get(field)
            if wrapper is None:
                unplaced.append(text)
                continue
            wrapper.set_error(text)
            first = first or wrapper
        if first is not None:
            first.editor.setFocus()
        return unplaced

    def clear_errors(self) -> None:
        """Hide all messages."""
        for wrapper in self.fields.values():
            wrapper.set_error("")

    def show_error(self, field: str, text: str) -> bool:
        """Show ``text`` at ``field``; False when the form has no such field."""
        wrapper = self.fields.get(field)
        if wrapper is None:
            return False
        wrapper.set_error(text)
        wrapper.editor.setFocus()
        return True
