"""The desktop's web-chat inbox: conversations, messages and booking requests from the sync stream ``chat``.

The conversations live on the hosted API; the sync client stores them in ``sync_remote`` (stream
``chat``, entities ``chat_conversation``, ``chat_message`` and ``chat_booking``, ``data`` = the JSON of
``sync.protocol_chat``'s ``ConversationOut``, ``ChatMessage`` and ``BookingRequestOut``). The domain
core may not import ``sync`` (import contracts), so this module reads those JSON documents itself and
tolerates missing optional fields. What only the desktop knows lives in ``chat_link`` (linked
customer, vehicle, appointment and the last message seq staff has read) and ``chat_booking_import``
(see ``app.services.chat_bookings``, which turns booking requests into *pending* appointments).

Unread = visitor messages with a seq above ``chat_link.read_seq``. Canned replies are constants of this
module (``CANNED_REPLIES``; the workshop settings have no free-form list to keep them in).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import Appointment, ChatBookingImport, ChatLink, Customer, RemoteRecord, Vehicle
from app.models.base import utcnow
from app.services.chat_bookings import (
    CHAT_STREAM,
    ChatBookingData,
    ChatContact,
    ImportReport,
    book_request,
    chat_rows,
    import_bookings,
    parse_contact,
    parse_time,
)

__all__ = [
    "CANNED_REPLIES",
    "KEEP",
    "STATUSES",
    "ChatBookingDTO",
    "ChatBookingData",
    "ChatContact",
    "ChatInboxService",
    "ChatMessageDTO",
    "ConversationSummary",
    "ImportReport",
    "parse_contact",
    "parse_time",
]

STATUSES: Final = ("bot", "waiting_staff", "staff", "closed")
CANNED_REPLIES: Final[Mapping[str, tuple[str, ...]]] = {
    "de": (
        "Vielen Dank für Ihre Nachricht! Ein Mitarbeiter kümmert sich sofort darum.",
        "Gern rufen wir Sie zurück – unter welcher Telefonnummer erreichen wir Sie am besten?",
        "Ihr Terminwunsch ist angekommen. Wir bestätigen den Termin so schnell wie möglich.",
        "Für ein genaues Angebot brauchen wir Marke, Modell und Baujahr (am besten HSN/TSN aus dem Fahrzeugschein).",
        "Den genauen Preis nennen wir Ihnen nach einer kurzen Prüfung des Fahrzeugs in unserer Werkstatt.",
        "Vielen Dank für Ihre Anfrage – wir wünschen Ihnen einen schönen Tag!",
    ),
    "en": (
        "Thank you for your message! A member of our team will take care of it right away.",
        "We are happy to call you back – which phone number is best to reach you?",
        "We have received your appointment request and will confirm it as soon as possible.",
        "For an exact quote we need the make, model and year of your car.",
        "We can give you the exact price after a short check of the car in our workshop.",
        "Thank you for contacting us – have a nice day!",
    ),
}
"""Staff's ready-made answers per visitor language (other languages fall back to German)."""


@dataclass(frozen=True)
class ConversationSummary:
    """One line of the inbox (times of the server are aware UTC)."""

    id: str
    status: str
    language: str
    created_at: dt.datetime
    updated_at: dt.datetime
    last_seq: int
    last_message_preview: str
    last_message_author: str
    last_message_at: dt.datetime | None
    unread: int
    read_seq: int
    is_lead: bool
    contact: ChatContact | None
    handoff_reason: str
    bot_stopped_by_limit: bool
    customer_id: int | None
    customer_name: str
    vehicle_id: int | None
    vehicle_label: str
    appointment_id: int | None
    appointment_label: str
    booking_count: int

    @property
    def title(self) -> str:
        """The visitor's name, phone or e-mail, else the short conversation id."""
        contact = self.contact or ChatContact()
        return self.customer_name or contact.name or contact.phone or contact.email or self.id[:8]


@dataclass(frozen=True)
class ChatMessageDTO:
    """One message of a conversation."""

    id: str
    conversation_id: str
    seq: int
    author: str
    text: str
    created_at: dt.datetime
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatBookingDTO:
    """A booking request of the web chat and the pending appointment it became.

    ``imported`` with ``appointment_id`` None: the request could not be booked (broken data) or its
    appointment was deleted since; staff handle it from the conversation.
    """

    id: str
    conversation_id: str
    service_code: str
    service_name: str
    start: dt.datetime
    end: dt.datetime
    contact: ChatContact
    note: str
    created_at: dt.datetime
    imported: bool
    appointment_id: int | None


class _Keep:
    """Marker: leave a link unchanged."""


KEEP: Final = _Keep()

# --- JSON of the sync stream ------------------------------------------------------------------------


def _aware(value: Any) -> dt.datetime:
    moment = parse_time(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _message(data: Mapping[str, Any]) -> ChatMessageDTO:
    return ChatMessageDTO(
        id=str(data["id"]),
        conversation_id=str(data["conversation_id"]),
        seq=int(data["seq"]),
        author=str(data["author"]),
        text=str(data.get("text") or ""),
        created_at=_aware(data["created_at"]),
        quick_replies=tuple(str(q) for q in data.get("quick_replies") or ()),
    )


def _field(name: str) -> Any:
    return func.json_extract(RemoteRecord.data, f"$.{name}")


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _vehicle_label(v: Vehicle) -> str:
    return " – ".join(p for p in (v.plate, " ".join(x for x in (v.make, v.model) if x)) if p) or v.vin


def _customer_label(c: Customer) -> str:
    if c.restricted_at is not None:
        return ""  # restricted by a GDPR request (Art. 18): not shown in lists
    person = f"{c.first_name} {c.last_name}".strip()
    return (c.company if c.kind == "business" else person) or c.company or person or c.number


def _appointment_label(a: Appointment) -> str:
    return f"{a.start:%d.%m.%Y %H:%M} {a.title}".strip()


class ChatInboxService:
    """The Chat tab's data: each public method is one unit of work on ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- queries -----------------------------------------------------------------------------------

    def conversations(self, *, status: str | None = None, include_closed: bool = True) -> list[ConversationSummary]:
        """The conversations, newest activity first; optionally one ``status`` only or without closed ones."""
        if status is not None and status not in STATUSES:
            raise ValidationError("Unbekannter Chat-Status „{status}“.", field="status", status=status)
        with self.db.unit() as s:
            docs = chat_rows(s, "chat_conversation")
            docs = [d for d in docs if (status is None or d.get("status") == status)]
            if not include_closed:
                docs = [d for d in docs if d.get("status") != "closed"]
            summaries = self._summaries(s, docs)
        return sorted(summaries, key=lambda c: (c.last_message_at or c.updated_at, c.id), reverse=True)

    def conversation(self, conversation_id: str) -> ConversationSummary:
        """One conversation; NotFound if it was never pulled."""
        with self.db.unit() as s:
            return self._summaries(s, [self._conversation_doc(s, conversation_id)])[0]

    def messages(self, conversation_id: str, *, after_seq: int = 0) -> list[ChatMessageDTO]:
        """The messages of a conversation after ``after_seq``, oldest first."""
        with self.db.unit() as s:
            docs = chat_rows(
                s,
                "chat_message",
                _field("conversation_id") == conversation_id,
                cast(_field("seq"), Integer) > after_seq,
            )
        return sorted((_message(d) for d in docs), key=lambda m: m.seq)

    def bookings(self, conversation_id: str | None = None) -> list[ChatBookingDTO]:
        """Booking requests (of one conversation or all), oldest first, with their import state."""
        with self.db.unit() as s:
            where = [_field("conversation_id") == conversation_id] if conversation_id is not None else []
            docs = chat_rows(s, "chat_booking", *where)
            imports = {
                row.booking_id: row.appointment_id
                for row in s.scalars(select(ChatBookingImport).where(ChatBookingImport.booking_id.in_(
                    [str(d.get("id")) for d in docs] + [str(d.get("client_id")) for d in docs if d.get("client_id")]
                )))
            }  # fmt: skip
        result = []
        for d in docs:
            key = str(d["id"]) if str(d["id"]) in imports else str(d.get("client_id") or d["id"])
            result.append(
                ChatBookingDTO(
                    id=str(d["id"]),
                    conversation_id=str(d["conversation_id"]),
                    service_code=str(d.get("service_code") or ""),
                    service_name=str(d.get("service_name") or ""),
                    start=parse_time(d["start"]),
                    end=parse_time(d["end"]),
                    contact=parse_contact(d.get("contact")) or ChatContact(),
                    note=str(d.get("note") or ""),
                    created_at=_aware(d["created_at"]),
                    imported=key in imports,
                    appointment_id=imports.get(key),
                )
            )
        return sorted(result, key=lambda b: (b.created_at, b.id))

    def unread_total(self) -> int:
        """Unread visitor messages over all open conversations (the tab's badge)."""
        return sum(c.unread for c in self.conversations(include_closed=False))

    @staticmethod
    def canned_replies(language: str = "de") -> tuple[str, ...]:
        """Staff's ready-made answers in the visitor's language (German when there are none for it)."""
        return CANNED_REPLIES.get(language, CANNED_REPLIES["de"])

    # --- mutations ---------------------------------------------------------------------------------

    def mark_read(self, conversation_id: str, seq: int | None = None) -> Changes:
        """Staff saw the conversation up to ``seq`` (default: its last message); never moves backwards."""
        with self.db.unit() as s:
            doc = self._conversation_doc(s, conversation_id)
            target = int(doc.get("last_seq") or 0) if seq is None else seq
            if target < 0:
                raise ValidationError("Die Nachrichtennummer darf nicht negativ sein.", field="seq")
            link = self._link_row(s, conversation_id)
            if target > link.read_seq:
                link.read_seq = target
                link.updated_at = utcnow()
        return Changes()

    def link(
        self,
        conversation_id: str,
        *,
        customer_id: int | None | _Keep = KEEP,
        vehicle_id: int | None | _Keep = KEEP,
        appointment_id: int | None | _Keep = KEEP,
    ) -> tuple[ConversationSummary, Changes]:
        """Link (or with None unlink) a customer, vehicle and/or appointment; the others stay as they are.

        A vehicle must belong to the linked customer (when both are set); a linked vehicle without a
        customer brings its owner along.
        """
        with self.db.unit() as s:
            doc = self._conversation_doc(s, conversation_id)
            link = self._link_row(s, conversation_id)
            if not isinstance(customer_id, _Keep):
                if customer_id is not None:
                    customer = s.get(Customer, customer_id)
                    if customer is None or customer.restricted_at is not None:
                        raise NotFound("Der Kunde Nr. {id} wurde nicht gefunden.", id=customer_id)
                link.customer_id = customer_id
            if not isinstance(vehicle_id, _Keep):
                if vehicle_id is not None:
                    vehicle = s.get(Vehicle, vehicle_id)
                    if vehicle is None:
                        raise NotFound("Das Fahrzeug Nr. {id} wurde nicht gefunden.", id=vehicle_id)
                    if link.customer_id is None and isinstance(customer_id, _Keep):
                        link.customer_id = vehicle.customer_id
                link.vehicle_id = vehicle_id
            if not isinstance(appointment_id, _Keep):
                if appointment_id is not None and s.get(Appointment, appointment_id) is None:
                    raise NotFound("Der Termin Nr. {id} wurde nicht gefunden.", id=appointment_id)
                link.appointment_id = appointment_id
            if link.vehicle_id is not None and link.customer_id is not None:
                owner = s.scalar(select(Vehicle.customer_id).where(Vehicle.id == link.vehicle_id))
                if owner is not None and owner != link.customer_id:
                    raise ValidationError("Das Fahrzeug gehört nicht zum verknüpften Kunden.", field="vehicle_id")
            link.updated_at = utcnow()
            s.flush()
            return self._summaries(s, [doc])[0], Changes()

    def import_bookings(self) -> ImportReport:
        """Turn every booking request not yet imported into a pending appointment (idempotent)."""
        return import_bookings(self.db)

    def book_request(self, data: ChatBookingData) -> int | None:
        """Book one request (the desktop agent's) as a pending appointment; None if it was booked before."""
        return book_request(self.db, data)

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _conversation_doc(s: Session, conversation_id: str) -> dict[str, Any]:
        docs = chat_rows(s, "chat_conversation", RemoteRecord.entity_id == conversation_id)
        if not docs:
            raise NotFound("Das Chat-Gespräch „{id}“ wurde nicht gefunden.", id=conversation_id)
        return docs[0]

    @staticmethod
    def _link_row(s: Session, conversation_id: str) -> ChatLink:
        link = s.get(ChatLink, conversation_id)
        if link is None:
            link = ChatLink(conversation_id=conversation_id, read_seq=0, updated_at=utcnow())
            s.add(link)
            s.flush()
        return link

    def _summaries(self, s: Session, docs: list[dict[str, Any]]) -> list[ConversationSummary]:
        ids = [str(d["id"]) for d in docs]
        if not ids:
            return []
        links = {
            row.conversation_id: row for row in s.scalars(select(ChatLink).where(ChatLink.conversation_id.in_(ids)))
        }
        cid = _field("conversation_id")
        last = {
            conv: json.loads(data)
            for conv, data, _seq in s.execute(
                # SQLite returns the bare columns of the row holding max(): the newest message per conversation
                select(cid, RemoteRecord.data, func.max(cast(_field("seq"), Integer)))
                .where(RemoteRecord.stream == CHAT_STREAM, RemoteRecord.entity == "chat_message")
                .where(RemoteRecord.deleted.is_(False), cid.in_(ids))
                .group_by(cid)
            )
        }
        visitor_seqs: dict[str, list[int]] = {}
        for conv, seq in s.execute(
            select(cid, cast(_field("seq"), Integer)).where(
                RemoteRecord.stream == CHAT_STREAM,
                RemoteRecord.entity == "chat_message",
                RemoteRecord.deleted.is_(False),
                _field("author") == "visitor",
                cid.in_(ids),
            )
        ):
            visitor_seqs.setdefault(str(conv), []).append(int(seq))
        bookings: dict[str, int] = {}
        for conv, count in s.execute(
            select(cid, func.count())
            .where(RemoteRecord.stream == CHAT_STREAM, RemoteRecord.entity == "chat_booking")
            .where(RemoteRecord.deleted.is_(False), cid.in_(ids))
            .group_by(cid)
        ):
            bookings[str(conv)] = int(count)
        return [
            self._summary(s, d, links.get(str(d["id"])), last.get(str(d["id"])), visitor_seqs, bookings) for d in docs
        ]

    @staticmethod
    def _summary(
        s: Session,
        doc: dict[str, Any],
        link: ChatLink | None,
        last: dict[str, Any] | None,
        visitor_seqs: dict[str, list[int]],
        bookings: dict[str, int],
    ) -> ConversationSummary:
        conv_id = str(doc["id"])
        read_seq = link.read_seq if link is not None else 0
        customer = s.get(Customer, link.customer_id) if link and link.customer_id else None
        vehicle = s.get(Vehicle, link.vehicle_id) if link and link.vehicle_id else None
        appointment = s.get(Appointment, link.appointment_id) if link and link.appointment_id else None
        return ConversationSummary(
            id=conv_id,
            status=str(doc.get("status") or "bot"),
            language=str(doc.get("language") or "de"),
            created_at=_aware(doc["created_at"]),
            updated_at=_aware(doc.get("updated_at") or doc["created_at"]),
            last_seq=int(doc.get("last_seq") or 0),
            last_message_preview=_preview(str(last.get("text") or "")) if last else "",
            last_message_author=str(last.get("author") or "") if last else "",
            last_message_at=_aware(last["created_at"]) if last else None,
            unread=sum(1 for seq in visitor_seqs.get(conv_id, ()) if seq > read_seq),
            read_seq=read_seq,
            is_lead=bool(doc.get("is_lead")),
            contact=parse_contact(doc.get("contact")),
            handoff_reason=str(doc.get("handoff_reason") or ""),
            bot_stopped_by_limit=bool(doc.get("bot_stopped_by_limit")),
            customer_id=customer.id if customer else None,
            customer_name=_customer_label(customer) if customer else "",
            vehicle_id=vehicle.id if vehicle else None,
            vehicle_label=_vehicle_label(vehicle) if vehicle else "",
            appointment_id=appointment.id if appointment else None,
            appointment_label=_appointment_label(appointment) if appointment else "",
            booking_count=bookings.get(conv_id, 0),
        )
