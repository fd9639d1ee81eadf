"""Web-chat booking requests → *pending* appointments in the calendar (staff confirm them there).

Two ways lead here:

- the desktop's own assistant booked during a conversation (``sync.chat_agent``): ``book_request`` with
  the id the desktop gave the request (the ``client_id`` it also sends to the server);
- the hosted API's assistant took a request while the desktop was offline: the sync stream ``chat``
  brings a ``chat_booking`` record and ``import_bookings`` (run by the sync client after every pull of
  the ``chat`` stream) books it.

Each booking is ONE transaction: the appointment, the ``chat_booking_import`` row (primary key = the
request's id, so a request pulled twice or booked by the agent and pulled later never books twice) and
the conversation's link to the appointment. The appointment is booked with ``force`` (a slot from an
older profile may lie outside today's opening hours: it is a request, staff decide) on the first active
bay that is free at that time; when every bay is taken it lands without a bay, so it is never lost and
shows up as a request in the calendar. A request that can never be booked (broken data) is recorded with
``appointment_id`` None and reported, so it is not retried forever.

Also home of the small JSON helpers for the sync stream's documents (shared with ``chat_inbox``); the
domain core may not import ``sync.protocol_chat``, so the documents are read as plain JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.calendar_rules import WORKSHOP_TZ
from app.db import Database
from app.errors import WorkshopError
from app.i18n import _
from app.models import Appointment, Bay, ChatBookingImport, ChatLink, RemoteRecord, Service
from app.models.base import utcnow
from app.services.appointments import AppointmentInput, AppointmentService

log = logging.getLogger(__name__)
CHAT_STREAM: Final = "chat"
_CONTACT_FIELDS: Final = ("name", "phone", "email", "vehicle", "concern", "preferred_time")


@dataclass(frozen=True)
class ChatContact:
    """What a visitor left in the lead form or told the bot."""

    name: str = ""
    phone: str = ""
    email: str = ""
    vehicle: str = ""
    concern: str = ""
    preferred_time: str = ""

    @property
    def reachable(self) -> bool:
        """True when the workshop can call or write back."""
        return bool(self.phone or self.email)


def parse_time(value: Any) -> dt.datetime:
    """An ISO time of the wire ('Z' accepted); aware stays aware, naive stays naive."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def parse_contact(data: Any) -> ChatContact | None:
    """The contact details of a wire document (None when absent)."""
    if not isinstance(data, Mapping):
        return None
    return ChatContact(**{key: str(data.get(key) or "") for key in _CONTACT_FIELDS})


def chat_rows(s: Session, entity: str, *where: Any) -> list[dict[str, Any]]:
    """The live (not deleted) documents of ``entity`` in the chat stream."""
    query = select(RemoteRecord.data).where(
        RemoteRecord.stream == CHAT_STREAM, RemoteRecord.entity == entity, RemoteRecord.deleted.is_(False), *where
    )
    return [json.loads(text) for text in s.scalars(query)]


@dataclass(frozen=True)
class ChatBookingData:
    """One booking request to turn into a pending appointment (``start``/``end`` local wall-clock time)."""

    booking_id: str
    conversation_id: str
    service_code: str
    start: dt.datetime
    end: dt.datetime
    contact: ChatContact
    service_name: str = ""
    note: str = ""

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ChatBookingData:
        """From a ``chat_booking`` document (``BookingRequestOut``); KeyError/ValueError on broken data."""
        return cls(
            booking_id=str(data["id"]),
            conversation_id=str(data["conversation_id"]),
            service_code=str(data.get("service_code") or ""),
            start=parse_time(data["start"]),
            end=parse_time(data["end"]),
            contact=parse_contact(data.get("contact")) or ChatContact(),
            service_name=str(data.get("service_name") or ""),
            note=str(data.get("note") or ""),
        )


@dataclass(frozen=True)
class ImportReport:
    """What ``import_bookings`` did: new appointment ids, requests already done, requests that failed."""

    imported: tuple[int, ...] = ()
    already: int = 0
    failed: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (booking id, German reason)


class _Joined(Database):
    """``db`` whose units all run in the one open session ``s`` (so a service joins our transaction)."""

    def __init__(self, db: Database, s: Session) -> None:
        super().__init__(db.engine, db.path)
        self.outbox = db.outbox
        self._session = s

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """The outer session; commit and rollback belong to the caller."""
        yield self._session


def _local(value: dt.datetime) -> dt.datetime:
    """Naive Europe/Berlin wall-clock time (the calendar's); aware times are converted."""
    return value.astimezone(WORKSHOP_TZ).replace(tzinfo=None) if value.tzinfo else value


def _free_bay(s: Session, start: dt.datetime, end: dt.datetime) -> int | None:
    bays = s.scalars(select(Bay.id).where(Bay.active.is_(True)).order_by(Bay.sort, Bay.name)).all()
    for bay_id in bays:
        taken = s.scalar(
            select(Appointment.id).where(
                Appointment.bay_id == bay_id,
                Appointment.status != "cancelled",
                Appointment.start < end,
                Appointment.end > start,
            )
        )
        if taken is None:
            return bay_id
    return None


def _notes(data: ChatBookingData, service_known: bool) -> str:
    c = data.contact
    lines = [_("Terminanfrage aus dem Web-Chat – bitte bestätigen oder absagen.")]
    for label, value in (
        (_("Name"), c.name),
        (_("Telefon"), c.phone),
        (_("E-Mail"), c.email),
        (_("Fahrzeug"), c.vehicle),
        (_("Anliegen"), c.concern),
        (_("Wunschtermin"), c.preferred_time),
        (_("Hinweis"), data.note),
    ):
        if value.strip():
            lines.append(f"{label}: {' '.join(value.split())}")
    if not service_known and (data.service_code or data.service_name):
        lines.append(_("Leistung: {code} {name}").format(code=data.service_code, name=data.service_name).strip())
    lines.append(_("Chat: {id}").format(id=data.conversation_id))
    return "\n".join(lines)


def _book_in(db: Database, s: Session, data: ChatBookingData) -> int:
    """The appointment, import row and link in the caller's transaction ``s``; returns the appointment id."""
    start, end = _local(data.start), _local(data.end)
    service = s.scalar(select(Service).where(Service.code == data.service_code)) if data.service_code else None
    who = data.contact.name or data.contact.phone or data.contact.email or _("Besucher")
    what = service.name if service else data.service_name
    title = _("Web-Chat: {who}").format(who=who) + (f" – {what}" if what else "")
    result = AppointmentService(_Joined(db, s)).book(
        AppointmentInput(
            start=start,
            end=end,
            bay_id=_free_bay(s, start, end),
            service_ids=[service.id] if service else [],
            title=title[:160],
            notes=_notes(data, service is not None),
            status="pending",
            source="chat",
        ),
        force=True,
    )
    appointment_id = result.appointment.id
    s.add(ChatBookingImport(booking_id=data.booking_id, conversation_id=data.conversation_id,
                            appointment_id=appointment_id, created_at=utcnow()))  # fmt: skip
    link = s.get(ChatLink, data.conversation_id)
    if link is None:
        s.add(ChatLink(conversation_id=data.conversation_id, appointment_id=appointment_id, read_seq=0,
                       updated_at=utcnow()))  # fmt: skip
    elif link.appointment_id is None:
        link.appointment_id = appointment_id
    s.flush()
    return appointment_id


def book_request(db: Database, data: ChatBookingData) -> int | None:
    """Book one request as a pending appointment in ONE transaction; None if ``booking_id`` was booked before.

    Raises the domain error when the request cannot be booked (e.g. end before start).
    """
    try:
        with db.unit() as s:
            if s.get(ChatBookingImport, data.booking_id) is not None:
                return None
            return _book_in(db, s, data)
    except IntegrityError:  # another thread (sync round vs. agent) booked the same request just now
        return None


def record_import(db: Database, booking_id: str, conversation_id: str, appointment_id: int | None = None) -> bool:
    """Remember ``booking_id`` as done (an alias of a request booked under another id, or one that failed).

    False when it was recorded before.
    """
    try:
        with db.unit() as s:
            if s.get(ChatBookingImport, booking_id) is not None:
                return False
            s.add(ChatBookingImport(booking_id=booking_id, conversation_id=conversation_id,
                                    appointment_id=appointment_id, created_at=utcnow()))  # fmt: skip
            return True
    except IntegrityError:
        return False


def import_bookings(db: Database) -> ImportReport:
    """Book every ``chat_booking`` of the sync stream not yet imported; idempotent, one transaction each.

    A request whose ``client_id`` (when the server sends one) is the id the desktop's agent booked it
    under counts as done, too.
    """
    with db.unit() as s:
        docs = chat_rows(s, "chat_booking")
        ids = [str(d.get("id")) for d in docs] + [str(d["client_id"]) for d in docs if d.get("client_id")]
        done = set(
            s.scalars(
                select(ChatBookingImport.booking_id).where(
                    or_(*(ChatBookingImport.booking_id.in_(ids[i : i + 500]) for i in range(0, len(ids), 500)))
                )
            )
        ) if ids else set()  # fmt: skip
    imported: list[int] = []
    failed: list[tuple[str, str]] = []
    already = 0
    for doc in sorted(docs, key=lambda d: (str(d.get("created_at")), str(d.get("id")))):
        if str(doc.get("id")) in done or (doc.get("client_id") and str(doc["client_id"]) in done):
            already += 1
            continue
        try:
            data = ChatBookingData.from_wire(doc)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("chat booking %s unreadable: %s", doc.get("id"), exc)
            failed.append((str(doc.get("id")), _("Die Terminanfrage ist unvollständig.")))
            if doc.get("id") and doc.get("conversation_id"):
                record_import(db, str(doc["id"]), str(doc["conversation_id"]))
            continue
        try:
            appointment_id = book_request(db, data)
        except WorkshopError as exc:
            log.warning("chat booking %s not booked: %s", data.booking_id, exc.message)
            failed.append((data.booking_id, exc.message))
            record_import(db, data.booking_id, data.conversation_id)
            continue
        if appointment_id is None:
            already += 1
        else:
            imported.append(appointment_id)
    return ImportReport(imported=tuple(imported), already=already, failed=tuple(failed))
