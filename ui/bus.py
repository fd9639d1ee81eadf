"""The app-wide event bus: every mutation announces its Changes; views decide whether to refresh."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Bus(QObject):
    """Signals named for events, in the past tense."""

    operation_did_execute = Signal(object, object)  # app.changes.Changes, initiator (QObject | None)
    status_message_posted = Signal(str)
