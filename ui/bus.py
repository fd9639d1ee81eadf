"""The app-wide event bus: every mutation announces its Changes; views decide whether to refresh."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Bus(QObject):
    """Signals named for events, in the past tense."""

    operation_did_execute = Signal(object, object)  # app.changes.Changes, initiator (QObject | None)
    status_message_posted = Signal(str)
    chat_synced = Signal(object)  # sync.client.SyncReport of a round that pulled web-chat changes
    sync_requested = Signal()  # a view wants a sync round now (e.g. after a staff action on the chat server)
    chat_assistant_changed = Signal()  # the web chat's assistant settings or the in-app agent preference were saved
