"""The messages of one conversation as bubbles: visitor left, bot and staff right, system notices centred.

Rendered as Qt rich text in a read-only ``QTextBrowser``. Every text a visitor (or a model) wrote is
HTML-escaped before it goes into the markup, so "<b>" or a script tag shows as typed and can never
format, link or run anything on the counter PC.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QTextBrowser, QWidget

from app.i18n import _
from ui.views.chat import style


@dataclass(frozen=True)
class Bubble:
    """What the list needs of a message."""

    author: str  # visitor | bot | staff | system
    text: str
    created_at: dt.datetime
    seq: int = 0


def escape_text(text: str) -> str:
    """Visitor text as safe rich text: escaped, line breaks kept."""
    return html.escape(text, quote=True).replace("\n", "<br>")


def bubble_html(bubble: Bubble, now: dt.datetime | None = None) -> str:
    """One message as a table row block (Qt's rich text knows tables, not CSS boxes)."""
    background, border, label, right = style.AUTHOR_STYLE.get(bubble.author, style.AUTHOR_STYLE["system"])
    when = html.escape(style.message_time(bubble.created_at, now))
    text = escape_text(bubble.text)
    if bubble.author == "system":
        return (
            '<table width="100%" cellspacing="0" cellpadding="4"><tr><td align="center">'
            f'<span style="color:{style.SECONDARY_TEXT}; font-style:italic;">{text}</span>'
            f'<span style="color:#90a4ae; font-size:8.5pt;"> · {when}</span></td></tr></table>'
        )
    align = "right" if right else "left"
    return (
        f'<table width="78%" align="{align}" cellspacing="0" cellpadding="8" '
        f'style="margin-top:6px; margin-bottom:2px; border-color:{border};" border="1">'
        f'<tr><td bgcolor="{background}">'
        f'<div style="color:{style.SECONDARY_TEXT}; font-size:8.5pt; font-weight:600;">'
        f"{html.escape(_(label))} · {when}</div>"
        f'<div style="color:#212121; font-size:10.5pt;">{text}</div>'
        "</td></tr></table>"
    )


class MessageList(QTextBrowser):
    """Shows a conversation's messages; keeps the view at the bottom when new ones arrive."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatMessages")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setStyleSheet("QTextBrowser#chatMessages { background: #fafbfc; border: 1px solid #e0e4e7; }")
        self.bubbles: list[Bubble] = []

    def show_messages(self, bubbles: Sequence[Bubble], *, placeholder: str = "") -> None:
        """Replace the content; scroll to the newest message if the view was at the bottom (or was empty)."""
        bar = self.verticalScrollBar()
        at_bottom = not self.bubbles or bar.value() >= bar.maximum() - 4
        same_start = bool(self.bubbles) and bool(bubbles) and self.bubbles[0] == bubbles[0]
        self.bubbles = list(bubbles)
        if not bubbles:
            colour = style.SECONDARY_TEXT
            self.setHtml(f'<p align="center" style="color:{colour}; margin-top:40px;">{html.escape(placeholder)}</p>')
            return
        now = dt.datetime.now()
        position = bar.value()
        self.setHtml("".join(bubble_html(b, now) for b in bubbles))
        if at_bottom or not same_start:
            bar.setValue(bar.maximum())
        else:
            bar.setValue(position)
