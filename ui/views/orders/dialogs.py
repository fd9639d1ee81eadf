"""Opening dialogs the counter's way: window-modal with ``open()`` (no nested event loop, so background
results keep arriving), deleted on close, and remembered on the owner as ``owner.dialog`` (tests and
the main window look there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.i18n import _

D = TypeVar("D", bound=QDialog)


def open_dialog(owner: Any, dialog: D) -> D:
    """Show ``dialog`` window-modal; ``owner.dialog`` points at it until it closes."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    owner.dialog = dialog

    def closed(_result: int) -> None:
        if getattr(owner, "dialog", None) is dialog:
            owner.dialog = None

    dialog.finished.connect(closed)
    dialog.open()
    return dialog


def confirm(
    owner: Any, parent: QWidget, title: str, text: str, yes_text: str, on_yes: Callable[[], None]
) -> QMessageBox:
    """Ask before a step that cannot be taken back; "Abbrechen" is the default (Enter does no harm)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    yes.setObjectName("confirmYes")
    no = box.addButton(_("Abbrechen"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.buttonClicked.connect(lambda button: on_yes() if button is yes else None)
    return open_dialog(owner, box)
