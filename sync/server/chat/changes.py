"""The sync stream ``chat``: conversations, messages and booking requests for the desktops.

Chat data is server-authoritative (it starts in the visitor's browser), like the ``settings`` stream:
the server writes each changed object as a ``sync_records`` row (for the full-resync snapshot) and a
``sync_change_log`` entry (for the pull), in the transaction of the change itself. Entities and their
``Change.data``:

- ``chat_conversation`` → ``sync.protocol_chat.ConversationOut``
- ``chat_message`` → ``sync.protocol_chat.ChatMessage``
- ``chat_booking`` → ``sync.protocol_chat.BookingRequestOut``

The records belong to the conversation's location, so only that location's desktops pull them.
Sequence numbers are allocated last (``sync_service.allocate_seqs``), exactly as a push does, so the
organisation's counter row is locked only for the final inserts and the commit; after the commit the
caller pokes the organisation (``ChangeBatch.poke``) and the desktops pull.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.protocol import Stream
from sync.server.store import KeyValueStore, StoreUnavailable
from sync.server.sync_models import ChangeLogEntry, SyncRecord
from sync.server.sync_service import allocate_seqs

log = logging.getLogger(__name__)

CONVERSATION = "chat_conversation"
MESSAGE = "chat_message"
BOOKING = "chat_booking"


class ChangeBatch:
    """The chat objects one transaction changed (the newest state of each wins)."""

    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self._items: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.last_seq: int | None = None

    def add(self, entity: str, entity_id: str, location_id: str, data: dict[str, Any]) -> None:
        """Record the new state of one object (JSON-able ``data``)."""
        self._items.pop((entity, entity_id), None)  # re-added: keep the order of the last change
        self._items[(entity, entity_id)] = (location_id, data)

    def __bool__(self) -> bool:
        return bool(self._items)

    def write(self, session: Session, *, now: dt.datetime) -> int | None:
        """Upsert the records and append the change log; call just before the commit."""
        if not self._items:
            return None
        dialect_insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        upsert = dialect_insert(SyncRecord)
        upsert = upsert.on_conflict_do_update(
            index_elements=["organization_id", "location_id", "entity", "entity_id"],
            set_={"data": upsert.excluded.data, "version": SyncRecord.version + 1, "updated_at": now},
        )
        # Parameters apart from the statement: one executemany, and the webhook hook reads them as they are.
        session.execute(
            upsert,
            [
                {
                    "organization_id": self.organization_id,
                    "location_id": location_id,
                    "stream": Stream.CHAT.value,
                    "entity": entity,
                    "entity_id": entity_id,
                    "version": 1,
                    "hlc": "",
                    "data": data,
                    "deleted_at": None,
                    "updated_at": now,
                    "origin_device": None,
                }
                for (entity, entity_id), (location_id, data) in self._items.items()
            ],
        )
        last = allocate_seqs(session, self.organization_id, len(self._items))
        first = last - len(self._items) + 1
        session.execute(
            insert(ChangeLogEntry),
            [
                {
                    "organization_id": self.organization_id,
                    "seq": first + offset,
                    "stream": Stream.CHAT.value,
                    "location_id": location_id,
                    "entity": entity,
                    "entity_id": entity_id,
                    "op": "upsert",
                    "data": data,
                    "origin_device": None,
                    "created_at": now,
                }
                for offset, ((entity, entity_id), (location_id, data)) in enumerate(self._items.items())
            ],
        )
        self._items.clear()
        self.last_seq = last
        return last

    def poke(self, store: KeyValueStore) -> None:
        """Wake the organisation's desktops after the commit (best effort: they also poll)."""
        if self.last_seq is None:
            return
        try:
            store.notify(self.organization_id, self.last_seq)
        except StoreUnavailable:
            log.warning("chat change poke not delivered (store unavailable)")
