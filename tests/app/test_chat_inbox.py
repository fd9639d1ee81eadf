"""The chat inbox over the pulled ``chat`` stream: DTOs, unread, links, booking import into the calendar.

The stream's documents are built with the real wire models (``sync.protocol_chat``) and stored the way
the sync client stores a pull (``sync.local.apply_changes``), so the inbox reads exactly what arrives.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from app.db import Database
from app.errors import NotFound, ValidationError
from app.models import Appointment, ChatBookingImport
from app.services.chat_bookings import ChatBookingData, ChatContact
from app.services.customers import CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from sync import local
from sync.protocol import Change
from sync.protocol_chat import (
    Author,
    BookingRequestOut,
    ChatMessage,
    ChatStatus,
    ContactDetails,
    ConversationOut,
)

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 11, 30)


class Stream:
    """Feeds wire documents into sync_remote like a pull, with a growing change seq."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seq = 0

    def put(self, entity: str, model: BaseModel) -> None:
        self.seq += 1
        data: dict[str, Any] = model.model_dump(mode="json")
        change = Change(seq=self.seq, stream="chat", entity=entity, entity_id=data["id"], op="upsert", data=data)
        local.apply_changes(self.db, [change], cursor=self.seq)

    def conversation(self, cid: str, **kw: Any) -> ConversationOut:
        values: dict[str, Any] = {
            "id": cid, "location_id": "loc-1", "status": ChatStatus.BOT, "language": "de", "created_at": T0,
            "updated_at": T0, "last_seq": 0, "last_visitor_seq": 0,
        } | kw  # fmt: skip
        conv = ConversationOut(**values)
        self.put("chat_conversation", conv)
        return conv

    def message(self, cid: str, seq: int, author: Author, text: str) -> None:
        self.put(
            "chat_message",
            ChatMessage(id=f"{cid}-m{seq}", conversation_id=cid, seq=seq, author=author, text=text,
                        created_at=T0 + dt.timedelta(minutes=seq), quick_replies=["Termin"] if author == "bot" else []),
        )  # fmt: skip

    def booking(self, bid: str, cid: str, start: dt.datetime, end: dt.datetime, code: str = "OE-0002") -> None:
        self.put(
            "chat_booking",
            BookingRequestOut(
                id=bid, conversation_id=cid, location_id="loc-1", service_code=code, service_name="Ölwechsel",
                start=start, end=end, contact=ContactDetails(name="Eva Berg", phone="0171 2345678",
                concern="Ölwechsel vor dem Urlaub"), note="Kommt mit dem Fahrrad", created_at=T0,
            ),
        )  # fmt: skip


@pytest.fixture
def services(db: Database) -> Services:
    return Services.for_database(db)


@pytest.fixture
def stream(db: Database) -> Stream:
    return Stream(db)


def _two_conversations(stream: Stream) -> None:
    stream.conversation("c-a", last_seq=3, last_visitor_seq=3, status=ChatStatus.WAITING_STAFF)
    stream.message("c-a", 1, Author.VISITOR, "Was kostet ein Ölwechsel?")
    stream.message("c-a", 2, Author.BOT, "Ein Ölwechsel kostet ab 105,91 €.")
    stream.message("c-a", 3, Author.VISITOR, "Und   wann\nhaben Sie Zeit?")
    stream.conversation(
        "c-b", last_seq=1, last_visitor_seq=1, is_lead=True, contact=ContactDetails(name="Jan Kurz", phone="0151 1")
    )
    stream.message("c-b", 1, Author.VISITOR, "Bitte rufen Sie mich zurück")


def test_conversations_show_status_preview_unread_and_lead(services: Services, stream: Stream) -> None:
    _two_conversations(stream)
    inbox = services.chat.conversations()
    assert [c.id for c in inbox] == ["c-a", "c-b"]  # c-a's newest message is later
    a, b = inbox
    assert (a.status, a.unread, a.last_message_author) == ("waiting_staff", 2, "visitor")
    assert a.last_message_preview == "Und wann haben Sie Zeit?"
    assert a.last_message_at == T0 + dt.timedelta(minutes=3)
    assert not a.is_lead and a.contact is None and a.title == "c-a"
    assert (b.unread, b.is_lead, b.title) == (1, True, "Jan Kurz")
    assert b.contact is not None and b.contact.reachable
    assert services.chat.unread_total() == 3
    assert [c.id for c in services.chat.conversations(status="bot")] == ["c-b"]
    with pytest.raises(ValidationError):
        services.chat.conversations(status="offen")


def test_closed_conversations_leave_the_badge(services: Services, stream: Stream) -> None:
    _two_conversations(stream)
    stream.conversation("c-a", last_seq=3, last_visitor_seq=3, status=ChatStatus.CLOSED)  # a later pull
    assert [c.id for c in services.chat.conversations(include_closed=False)] == ["c-b"]
    assert services.chat.unread_total() == 1
    assert services.chat.conversation("c-a").status == "closed"


def test_messages_of_one_conversation_in_order(services: Services, stream: Stream) -> None:
    _two_conversations(stream)
    messages = services.chat.messages("c-a")
    assert [(m.seq, m.author) for m in messages] == [(1, "visitor"), (2, "bot"), (3, "visitor")]
    assert messages[1].quick_replies == ("Termin",)
    assert [m.seq for m in services.chat.messages("c-a", after_seq=2)] == [3]
    assert services.chat.messages("unbekannt") == []


def test_mark_read_clears_unread_and_never_goes_back(services: Services, stream: Stream) -> None:
    _two_conversations(stream)
    services.chat.mark_read("c-a", 1)
    assert services.chat.conversation("c-a").unread == 1
    services.chat.mark_read("c-a")
    assert services.chat.conversation("c-a").unread == 0
    services.chat.mark_read("c-a", 1)
    assert services.chat.conversation("c-a").read_seq == 3
    stream.message("c-a", 4, Author.VISITOR, "Hallo?")
    assert services.chat.conversation("c-a").unread == 1
    with pytest.raises(NotFound):
        services.chat.mark_read("gibt-es-nicht")


def test_link_customer_vehicle_and_appointment(services: Services, stream: Stream) -> None:
    _two_conversations(stream)
    anna, _ = services.customers.create(CustomerInput(first_name="Anna", last_name="Müller"))
    otto, _ = services.customers.create(CustomerInput(first_name="Otto", last_name="Lenz"))
    car, _ = services.vehicles.create(VehicleInput(customer_id=anna.id, plate="M-AB 123", make="VW", model="Golf"))
    summary, _ = services.chat.link("c-b", vehicle_id=car.id)  # the vehicle brings its owner
    assert (summary.customer_name, summary.vehicle_label) == ("Anna Müller", "M-AB 123 – VW Golf")
    assert summary.title == "Anna Müller"
    with pytest.raises(ValidationError):
        services.chat.link("c-b", customer_id=otto.id)  # Anna's car is linked
    with pytest.raises(NotFound):
        services.chat.link("c-b", appointment_id=999)
    with pytest.raises(NotFound):
        services.chat.link("c-b", customer_id=999)
    summary, _ = services.chat.link("c-b", vehicle_id=None)
    assert (summary.customer_id, summary.vehicle_id) == (anna.id, None)
    summary, _ = services.chat.link("c-b", customer_id=otto.id)
    assert summary.customer_name == "Otto Lenz"
    with pytest.raises(NotFound):
        services.chat.link("kein-chat", customer_id=otto.id)


def test_canned_replies_follow_the_visitor_language(services: Services) -> None:
    german = services.chat.canned_replies("de")
    assert len(german) >= 4 and any("zurück" in text for text in german)
    assert services.chat.canned_replies("en")[0].startswith("Thank you")
    assert services.chat.canned_replies("pl") == german


def test_import_books_pending_appointments_once(services: Services, stream: Stream, db: Database) -> None:
    services.catalog.load_defaults()
    services.settings.add_bay("Bühne 1")
    services.settings.add_bay("Bühne 2")
    stream.conversation("c-a", last_seq=1, is_lead=True)
    start = dt.datetime.combine(MONDAY, dt.time(10, 0))
    stream.booking("b-1", "c-a", start, start + dt.timedelta(hours=1))
    stream.booking("b-2", "c-a", start, start + dt.timedelta(hours=1))  # same slot: second bay
    stream.booking("b-3", "c-a", start, start + dt.timedelta(hours=1))  # both bays taken: lands without a bay

    report = services.chat.import_bookings()
    assert len(report.imported) == 3 and report.failed == ()
    day = services.appointments.day(MONDAY)
    assert len(day) == 3
    assert {a.status for a in day} == {"pending"} and {a.source for a in day} == {"chat"}
    assert sorted(a.bay_name for a in day) == ["", "Bühne 1", "Bühne 2"]
    first = services.appointments.get(report.imported[0])
    assert first.title == "Web-Chat: Eva Berg – Ölwechsel-Paket 5W-30 Longlife bis 5,5 l inkl. Ölfilter"
    assert "0171 2345678" in first.notes and "Kommt mit dem Fahrrad" in first.notes
    assert first.service_names == ("Ölwechsel-Paket 5W-30 Longlife bis 5,5 l inkl. Ölfilter",)
    assert services.chat.conversation("c-a").appointment_id == report.imported[0]
    assert [b.appointment_id for b in services.chat.bookings("c-a")] == list(report.imported)

    again = services.chat.import_bookings()
    assert (again.imported, again.already) == ((), 3)
    assert len(services.appointments.day(MONDAY)) == 3


def test_agent_booking_is_not_imported_twice(services: Services, stream: Stream, db: Database) -> None:
    client_id = str(uuid.uuid4())
    start = dt.datetime.combine(MONDAY, dt.time(14, 0))
    contact = ChatContact(name="Ali Kaya", email="ali@example.de")
    data = ChatBookingData(
        client_id, "c-x", "XX-9999", start, start + dt.timedelta(minutes=30), contact, service_name="Reifenwechsel"
    )
    appointment_id = services.chat.book_request(data)
    assert appointment_id is not None
    assert services.chat.book_request(data) is None  # retried by the agent: nothing new
    booked = services.appointments.get(appointment_id)
    assert booked.status == "pending" and booked.bay_id is None  # no bays configured
    assert "Leistung: XX-9999 Reifenwechsel" in booked.notes  # unknown code: named in the notes
    stream.booking(client_id, "c-x", start, start + dt.timedelta(minutes=30))  # the server's copy arrives
    assert services.chat.import_bookings().already == 1
    assert len(services.appointments.day(MONDAY)) == 1


def test_broken_request_is_reported_once_and_not_retried(services: Services, stream: Stream, db: Database) -> None:
    start = dt.datetime.combine(MONDAY, dt.time(9, 0))
    stream.booking("b-bad", "c-a", start, start - dt.timedelta(hours=1))  # ends before it starts
    report = services.chat.import_bookings()
    assert report.imported == () and [b for b, _ in report.failed] == ["b-bad"]
    assert "muss nach dem Beginn" in report.failed[0][1]
    assert services.chat.import_bookings().failed == ()
    with db.unit() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0
        assert s.get(ChatBookingImport, "b-bad") is not None
