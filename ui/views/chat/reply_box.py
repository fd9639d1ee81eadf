"""The reply box under a conversation: Enter sends, Shift+Enter makes a new line; canned replies.

Canned replies come in two forms: the first few as one-click buttons above the box (the answers the
counter gives ten times a day), all of them in the "Textbausteine" menu. A click puts the text into the
box (it is not sent at once), so staff can adapt it before pressing Enter.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from sync.protocol_chat import MAX_MESSAGE_CHARS
from ui.views.chat import style

QUICK_BUTTONS = 3
"""How many canned replies get their own button (the rest are in the menu)."""


class ReplyEdit(QPlainTextEdit):
    """A multi-line edit where Enter (without Shift) submits."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Enter/Return sends; Shift+Enter (or Ctrl+Enter) inserts a line break."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            modifiers = event.modifiers()
            if modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
                self.insertPlainText("\n")
                return
            self.submitted.emit()
            return
        super().keyPressEvent(event)


def _short(text: str, limit: int = 28) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line if len(first_line) <= limit else first_line[: limit - 1].rstrip() + "…"


class ReplyBox(QWidget):
    """The edit, the send button, the canned replies and a character counter; emits ``send_requested(text)``."""

    send_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = ReplyEdit()
        self.edit.setObjectName("chatReply")
        self.edit.setPlaceholderText(_("Antwort schreiben … (Enter sendet, Umschalt+Enter neue Zeile)"))
        self.edit.setFixedHeight(78)
        self.edit.setTabChangesFocus(True)
        self.edit.submitted.connect(self.submit)
        self.edit.textChanged.connect(self._update_count)
        self.send_button = QPushButton(_("Senden"))
        self.send_button.setObjectName("chatSend")
        self.send_button.setStyleSheet(style.PRIMARY_BUTTON_CSS)
        self.send_button.clicked.connect(self.submit)
        self.canned_button = QToolButton()
        self.canned_button.setObjectName("cannedReplies")
        self.canned_button.setText(_("Textbausteine"))
        self.canned_button.setToolTip(_("Vorformulierte Antworten einfügen"))
        self.canned_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.canned_menu = QMenu(self.canned_button)
        self.canned_button.setMenu(self.canned_menu)
        self.count = QLabel("")
        self.count.setStyleSheet(f"color: {style.SECONDARY_TEXT}; font-size: 9pt;")
        self.quick_row = QHBoxLayout()
        self.quick_row.setSpacing(6)
        self.quick_buttons: list[QPushButton] = []
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addLayout(self.quick_row)
        top.addStretch(1)
        top.addWidget(self.canned_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.edit, 1)
        side = QVBoxLayout()
        side.addWidget(self.send_button)
        side.addStretch(1)
        side.addWidget(self.count, 0, Qt.AlignmentFlag.AlignRight)
        bottom.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(bottom)
        self.set_canned([])
        self._update_count()

    def set_canned(self, replies: Sequence[str]) -> None:
        """Offer ``replies`` (the first ``QUICK_BUTTONS`` as buttons, all in the menu)."""
        for button in self.quick_buttons:
            self.quick_row.removeWidget(button)
            button.deleteLater()
        self.quick_buttons = []
        self.canned_menu.clear()
        for index, text in enumerate(replies):
            action = self.canned_menu.addAction(_short(text, 60))
            action.setToolTip(text)
            action.triggered.connect(lambda _checked=False, t=text: self.insert(t))
            if index < QUICK_BUTTONS:
                button = QPushButton(_short(text))
                button.setObjectName("cannedQuick")
                button.setToolTip(text)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.clicked.connect(lambda _checked=False, t=text: self.insert(t))
                self.quick_row.addWidget(button)
                self.quick_buttons.append(button)
        self.canned_button.setEnabled(bool(replies))

    def insert(self, text: str) -> None:
        """Put ``text`` into the box (replacing a still empty box, else appended) and focus it."""
        current = self.edit.toPlainText()
        self.edit.setPlainText(text if not current.strip() else f"{current.rstrip()} {text}")
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.edit.setTextCursor(cursor)
        self.edit.setFocus()

    def submit(self) -> None:
        """Emit the trimmed text (nothing for an empty or too long text)."""
        text = self.edit.toPlainText().strip()
        if not text or len(text) > MAX_MESSAGE_CHARS or not self.send_button.isEnabled():
            return
        self.send_requested.emit(text)

    def clear(self) -> None:
        """Empty the box (after the message was sent)."""
        self.edit.clear()

    def set_busy(self, busy: bool) -> None:
        """While a message is on its way the box keeps its text but cannot send twice."""
        self.send_button.setEnabled(not busy)
        self.edit.setReadOnly(busy)

    def _update_count(self) -> None:
        length = len(self.edit.toPlainText())
        left = MAX_MESSAGE_CHARS - length
        self.count.setText(str(left) if left < 200 else "")
        self.count.setStyleSheet(f"color: {style.UNREAD_COLOUR if left < 0 else style.SECONDARY_TEXT}; font-size: 9pt;")
