"""Desktop notifications of the Chat tab: a new visitor message, or a conversation that waits for staff.

Uses the system tray's balloon (``QSystemTrayIcon.showMessage``) where the desktop has a tray; otherwise
(and on the offscreen platform of tests and screenshots) the text goes to the status bar through the bus.
The notifier compares two inbox snapshots itself, so the first load after start-up notifies nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

from app.i18n import _


@dataclass(frozen=True)
class Seen:
    """What the notifier remembers of a conversation between two loads."""

    status: str
    unread: int


@dataclass(frozen=True)
class Notice:
    """One notification: title and text."""

    title: str
    text: str
    conversation_id: str


def tray_available() -> bool:
    """True where a system tray can show balloons (never on the offscreen/minimal platforms)."""
    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal"):
        return False
    return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()


class ChatNotifier:
    """Turns successive inbox snapshots into notices and shows them."""

    def __init__(self, post_status: Callable[[str], None], parent: QWidget | None = None) -> None:
        self._post_status = post_status
        self._parent = parent
        self._seen: dict[str, Seen] | None = None  # None = nothing loaded yet: the first load is silent
        self._tray: QSystemTrayIcon | None = None
        self.shown: list[Notice] = []

    def update(self, conversations: Iterable[tuple[str, str, int, str]]) -> list[Notice]:
        """Compare (id, status, unread, who) rows with the last load; show and return the notices.

        More unread visitor messages than before = a new message (staff reading a conversation lowers the
        count, so the next message counts again); a change to ``waiting_staff`` = somebody wants a person.
        """
        rows = list(conversations)
        current = {cid: Seen(status, unread) for cid, status, unread, _who in rows}
        names = {cid: who for cid, _status, _unread, who in rows}
        notices = [] if self._seen is None else list(_diff(self._seen, current, names))
        self._seen = current
        for notice in notices:
            self.show(notice)
        return notices

    def show(self, notice: Notice) -> None:
        """Show one notice (tray balloon, else status bar)."""
        self.shown.append(notice)
        if tray_available():
            tray = self._ensure_tray()
            tray.showMessage(notice.title, notice.text, QSystemTrayIcon.MessageIcon.Information, 8000)
            return
        self._post_status(f"{notice.title}: {notice.text}")

    def _ensure_tray(self) -> QSystemTrayIcon:
        if self._tray is None:
            app = QApplication.instance()
            icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
            if icon.isNull() and isinstance(app, QApplication):
                icon = app.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self._tray = QSystemTrayIcon(icon, self._parent)
            self._tray.setToolTip(_("CarBot Werkstatt – Chat"))
            self._tray.show()
        return self._tray

    def close(self) -> None:
        """Remove the tray icon (tab closed)."""
        if self._tray is not None:
            self._tray.hide()
            self._tray = None


def _diff(before: Mapping[str, Seen], after: Mapping[str, Seen], names: Mapping[str, str]) -> Iterable[Notice]:
    for cid, now in after.items():
        old = before.get(cid)
        who = names.get(cid) or _("Besucher")
        if now.status == "waiting_staff" and (old is None or old.status != "waiting_staff"):
            yield Notice(
                _("Chat wartet auf Mitarbeiter"), _("{who} möchte mit einem Mitarbeiter sprechen.").format(who=who), cid
            )
        elif now.unread > (old.unread if old is not None else 0):
            yield Notice(_("Neue Chat-Nachricht"), _("{who} hat geschrieben.").format(who=who), cid)
