"""The inbox list on the left of the Chat tab: one row per conversation, a status filter above it.

A row shows who wrote (the linked customer, the name or phone the visitor left, else a short id), a
"Lead" marker, the time of the last message (de_DE: "14:32", "gestern", "Dienstag", "20.11.26"), the
status chip and the start of the last message, and a red badge with the number of unread visitor
messages. The rows are painted by a delegate; the model keeps the summaries of the service
(``app.services.chat_inbox.ConversationSummary``) and filters them in Python (an inbox holds hundreds
of conversations, not hundreds of thousands).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from app.services.chat_inbox import ConversationSummary
from ui.views.chat import style

_Index = QModelIndex | QPersistentModelIndex
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_HEIGHT = 62


def preview_text(c: ConversationSummary) -> str:
    """The last message as the list shows it ("Sie: …" for staff, "Bot: …" for the bot)."""
    if not c.last_message_preview:
        return _("Noch keine Nachricht")
    prefix = {"staff": _("Sie: "), "bot": _("Bot: ")}.get(c.last_message_author, "")
    return prefix + c.last_message_preview


class InboxModel(QAbstractListModel):
    """The visible conversations (already filtered)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ConversationSummary] = []

    def set_rows(self, rows: Sequence[ConversationSummary]) -> None:
        """Replace the rows."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        """Number of rows (flat list)."""
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Display text (for accessibility and tests), the summary, a tooltip."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{style.display_title(row)} – {style.status_name(row.status)} – {preview_text(row)}"
        if role == SUMMARY_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            contact = row.contact
            parts = [style.display_title(row), style.status_name(row.status)]
            if contact is not None:
                parts += [p for p in (contact.phone, contact.email, contact.vehicle) if p]
            return "\n".join(parts)
        return None

    def row_of(self, conversation_id: str) -> int:
        """The row of a conversation, -1 if it is not shown."""
        return next((i for i, r in enumerate(self.rows) if r.id == conversation_id), -1)


class InboxDelegate(QStyledItemDelegate):
    """Paints a conversation row: title, lead tag, time / chip, preview, unread badge."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802, ARG002 - Qt override
        """Fixed row height."""
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """Draw the row."""
        row: ConversationSummary | None = index.data(SUMMARY_ROLE)
        if row is None:
            return
        painter.save()
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        background = QColor("#dbe9f8") if selected else QColor("#fff8ec" if row.unread else "#ffffff")
        painter.fillRect(rect, background)
        painter.setPen(QColor("#e6e9ec"))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        base: QFont = option.font
        left, right = rect.left() + 12, rect.right() - 10
        top = rect.top() + 8

        time_font = QFont(base)
        time_font.setPointSizeF(max(base.pointSizeF() - 1, 7))
        when = style.list_time(row.last_message_at or row.updated_at)
        painter.setFont(time_font)
        time_width = QFontMetrics(time_font).horizontalAdvance(when)
        painter.setPen(QColor(style.UNREAD_COLOUR if row.unread else style.SECONDARY_TEXT))
        painter.drawText(QRect(right - time_width, top, time_width, 20), Qt.AlignmentFlag.AlignVCenter, when)

        title_font = QFont(base)
        title_font.setBold(bool(row.unread))
        title_font.setPointSizeF(base.pointSizeF() + 0.5)
        painter.setFont(title_font)
        metrics = QFontMetrics(title_font)
        lead_width = 44 if row.is_lead else 0
        room = right - time_width - 10 - left - lead_width
        title = metrics.elidedText(style.display_title(row), Qt.TextElideMode.ElideRight, max(room, 20))
        painter.setPen(QColor("#212121"))
        painter.drawText(QRect(left, top, room, 20), Qt.AlignmentFlag.AlignVCenter, title)
        if row.is_lead:
            tag = QRect(left + metrics.horizontalAdvance(title) + 8, top + 3, 38, 15)
            self._chip(painter, tag, _("Lead"), QColor("#f3e5f5"), QColor(style.LEAD_COLOUR), time_font)

        second = top + 26
        background_hex, colour_hex, _name = style.STATUS_CHIPS.get(row.status, style.STATUS_CHIPS["closed"])
        chip_text = style.status_name(row.status)
        chip_width = QFontMetrics(time_font).horizontalAdvance(chip_text) + 16
        self._chip(painter, QRect(left, second, chip_width, 18), chip_text, QColor(background_hex),
                   QColor(colour_hex), time_font)  # fmt: skip
        badge_width = 0
        if row.unread:
            text = str(row.unread) if row.unread < 100 else "99+"
            badge_width = max(20, QFontMetrics(time_font).horizontalAdvance(text) + 12)
            badge = QRect(right - badge_width, second, badge_width, 18)
            bold = QFont(time_font)
            bold.setBold(True)
            self._chip(painter, badge, text, QColor(style.UNREAD_COLOUR), QColor("#ffffff"), bold)
        painter.setFont(base)
        preview_left = left + chip_width + 8
        preview_room = right - badge_width - 8 - preview_left
        preview = QFontMetrics(base).elidedText(preview_text(row), Qt.TextElideMode.ElideRight, max(preview_room, 10))
        painter.setPen(QColor("#546e7a"))
        painter.drawText(QRect(preview_left, second, preview_room, 18), Qt.AlignmentFlag.AlignVCenter, preview)
        painter.restore()

    @staticmethod
    def _chip(painter: QPainter, rect: QRect, text: str, fill: QColor, colour: QColor, font: QFont) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawRoundedRect(rect, 9, 9)
        painter.setPen(colour)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


class InboxPanel(QWidget):
    """Filter and list; ``conversation_selected(id)`` when staff pick a conversation."""

    conversation_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.all_rows: list[ConversationSummary] = []
        self.filter = QComboBox()
        self.filter.setObjectName("chatFilter")
        for key, label, _statuses in style.FILTERS:
            self.filter.addItem(_(label), key)
        self.filter.currentIndexChanged.connect(lambda _i: self._apply())
        self.count_label = QLabel("")
        self.count_label.setStyleSheet(f"color: {style.SECONDARY_TEXT};")
        self.model = InboxModel(self)
        self.list = QListView()
        self.list.setObjectName("chatInbox")
        self.list.setModel(self.model)
        self.list.setItemDelegate(InboxDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list.setStyleSheet("QListView#chatInbox { border: 1px solid #e0e4e7; background: #ffffff; }")
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.empty = QLabel("")
        self.empty.setObjectName("chatInboxEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {style.SECONDARY_TEXT}; padding: 24px;")
        self.empty.hide()
        heading = QLabel(_("Gespräche"))
        heading.setStyleSheet("font-size: 13pt; font-weight: 600; color: #263238;")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1, Qt.AlignmentFlag.AlignTop)
        self._selected: str | None = None

    # --- data --------------------------------------------------------------------------------------

    def set_conversations(self, rows: Sequence[ConversationSummary]) -> None:
        """New data: re-filter, keep the selection."""
        self.all_rows = list(rows)
        self._apply()

    def set_filter(self, key: str) -> None:
        """Choose the filter by key ("open", "waiting_staff", "staff", "bot", "closed", "all")."""
        index = self.filter.findData(key)
        if index >= 0:
            self.filter.setCurrentIndex(index)

    def _apply(self) -> None:
        key = self.filter.currentData()
        statuses = next((s for k, _label, s in style.FILTERS if k == key), None)
        rows = [r for r in self.all_rows if statuses is None or r.status in statuses]
        keep = self._selected
        self.model.set_rows(rows)
        waiting = sum(1 for r in self.all_rows if r.status == "waiting_staff")
        self.count_label.setText(_("{count} warten").format(count=waiting) if waiting else "")
        self.empty.setText(_("Keine Gespräche in dieser Ansicht.") if self.all_rows else _("Noch keine Chats."))
        self.empty.setVisible(not rows)
        self.list.setVisible(bool(rows))
        if keep is not None:
            row = self.model.row_of(keep)
            if row >= 0:
                self.list.selectionModel().blockSignals(True)
                self.list.setCurrentIndex(self.model.index(row))
                self.list.selectionModel().blockSignals(False)

    def select(self, conversation_id: str) -> bool:
        """Select a conversation (switching the filter to "Alle" if it is filtered out)."""
        if self.model.row_of(conversation_id) < 0 and any(r.id == conversation_id for r in self.all_rows):
            self.set_filter("all")
        row = self.model.row_of(conversation_id)
        if row < 0:
            return False
        self.list.setCurrentIndex(self.model.index(row))
        return True

    @property
    def selected_id(self) -> str | None:
        """The conversation staff picked last (kept while a filter hides it)."""
        return self._selected

    def summary(self, conversation_id: str) -> ConversationSummary | None:
        """The loaded summary of a conversation."""
        return next((r for r in self.all_rows if r.id == conversation_id), None)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row: ConversationSummary | None = current.data(SUMMARY_ROLE) if current.isValid() else None
        if row is not None and row.id != self._selected:
            self._selected = row.id
            self.conversation_selected.emit(row.id)
