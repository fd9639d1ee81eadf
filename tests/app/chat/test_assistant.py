"""The built-in assistant's dialogues in German, English, Turkish and Polish on the demo workshop's profile:
prices, opening hours, appointment → slots → pick → contact → booking, handoff and call-back leads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import pytest

from app.chat.assistant import AssistantReply, BuiltinAssistant, quick_replies
from app.chat.conversation import Contact, ConversationView, Turn
from app.chat.profile import PublicProfile, build_profile
from app.chat.slots import slot_problem
from app.chat.texts import format_price_from, parse_when, text
from app.chat.tools import BookingRequest, ToolExecutor
from app.db import Database
from app.demo import create_demo
from app.errors import ConflictError
from app.services.registry import Services
from tests.app.chat.support import NOW, RecordingSink

OIL = "Ölwechsel-Paket 10W-40 bis 4,5 l inkl. Ölfilter"  # OE-0011, the cheapest standard oil change
LANGS = ("de", "en", "tr", "pl")


@dataclass
class Chat:
    """One conversation with the assistant; a fresh executor per answer, as the agent and server do."""

    assistant: BuiltinAssistant
    language: str
    sink: RecordingSink
    conversation_id: str = "conv-1"
    contact: Contact | None = None
    turns: list[Turn] = field(default_factory=list)
    executors: list[ToolExecutor] = field(default_factory=list)

    def say(self, message: str, *, profile: PublicProfile | None = None) -> AssistantReply:
        self.turns.append(Turn("visitor", message))
        executor = ToolExecutor(
            profile or self.assistant.profile,
            self.sink,
            conversation_id=self.conversation_id,
            language=self.language,
            now_local=NOW,
        )
        self.executors.append(executor)
        view = ConversationView(self.conversation_id, self.language, tuple(self.turns), self.contact)
        reply = self.assistant.reply(view, executor)
        self.turns.append(Turn("bot", reply.text))
        return reply


def _offered(reply: AssistantReply) -> list[dt.datetime]:
    return [when for line in reply.text.splitlines() if re.match(r"\d\) ", line) and (when := parse_when(line))]


@pytest.fixture
def assistant(profile: PublicProfile) -> BuiltinAssistant:
    return BuiltinAssistant(profile)


@pytest.mark.parametrize(
    ("language", "question", "price"),
    [
        ("de", "Was kostet ein Ölwechsel?", "ab 70,21 €"),
        ("en", "How much is an oil change?", "from €70.21"),
        ("tr", "Yağ değişimi ne kadar?", "70,21 €'dan itibaren"),
        ("pl", "Ile kosztuje wymiana oleju?", "od 70,21 €"),
    ],
)
def test_price_question_names_the_service_and_its_from_price(
    assistant: BuiltinAssistant, sink: RecordingSink, language: str, question: str, price: str
) -> None:
    chat = Chat(assistant, language, sink)
    reply = chat.say(question)
    first_line = reply.text.splitlines()[0]
    assert OIL in first_line and price in first_line
    assert text("price_note", language) in reply.text
    assert reply.quick_replies == (text("qr_appointment", language), text("qr_callback", language))
    assert chat.executors[0].calls == [] and not reply.handoff


def test_the_demo_workshop_answers_the_oil_change_price(db: Database) -> None:
    services = Services.for_database(db)
    create_demo(services, today=NOW.date(), customers=5, vehicles=5, history_weeks=0)
    profile = build_profile(services, now=NOW)
    reply = Chat(BuiltinAssistant(profile), "de", RecordingSink()).say("Was kostet ein Ölwechsel?")
    oil = profile.service("OE-0011")
    assert oil is not None
    assert reply.text.startswith(f"„{OIL}“ kostet bei uns {format_price_from(oil.price_from_gross, 'de')}")
    assert "ab 70,21 €" in reply.text


def test_duration_question(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    reply = Chat(assistant, "de", sink).say("Wie lange dauert ein Ölwechsel?")
    assert reply.text == f"Dauer für „{OIL}“: ca. 30 Min."


@pytest.mark.parametrize(
    ("language", "question", "weekdays", "closed"),
    [
        ("de", "Wann habt ihr geöffnet?", "Mo–Fr: 07:30–12:00, 13:00–17:30", "So: geschlossen"),
        ("en", "What are your opening hours?", "Mon–Fri: 07:30–12:00, 13:00–17:30", "Sun: closed"),
        ("tr", "Çalışma saatleriniz nedir?", "Pzt–Cum: 07:30–12:00, 13:00–17:30", "Paz: kapalı"),
        ("pl", "Jakie są godziny otwarcia?", "pon–pt: 07:30–12:00, 13:00–17:30", "niedz: zamknięte"),
    ],
)
def test_opening_hours(
    assistant: BuiltinAssistant, sink: RecordingSink, language: str, question: str, weekdays: str, closed: str
) -> None:
    lines = Chat(assistant, language, sink).say(question).text.splitlines()
    assert lines[0] == text("hours_intro", language)
    assert lines[1] == weekdays
    assert lines[2].endswith("08:00–12:00")
    assert lines[3] == closed


@pytest.mark.parametrize(
    ("language", "ask", "pick", "details", "name", "phone", "email"),
    [
        ("de", "Ich möchte einen Termin für einen Ölwechsel", "den zweiten", "Max Mustermann, 0171 2345678",
         "Max Mustermann", "0171 2345678", ""),
        ("en", "I'd like to book an oil change", "2", "My name is John Smith, john@example.com",
         "John Smith", "", "john@example.com"),
        ("tr", "Yağ değişimi için randevu almak istiyorum", "ikinci", "Adım Ali Yılmaz, 0532 123 45 67",
         "Ali Yılmaz", "0532 123 45 67", ""),
        ("pl", "Chcę umówić wizytę na wymianę oleju", "drugi", "Jan Kowalski, 600 123 456",
         "Jan Kowalski", "600 123 456", ""),
    ],
)  # fmt: skip
def test_appointment_slots_pick_contact_booking(
    assistant: BuiltinAssistant,
    sink: RecordingSink,
    profile: PublicProfile,
    language: str,
    ask: str,
    pick: str,
    details: str,
    name: str,
    phone: str,
    email: str,
) -> None:
    chat = Chat(assistant, language, sink)
    offer = chat.say(ask)
    starts = _offered(offer)
    assert len(starts) == 3 and offer.quick_replies == ("1", "2", "3")
    assert OIL in offer.text
    assert all(slot_problem(profile, s, s + dt.timedelta(minutes=30), now_local=NOW) is None for s in starts)

    asked = chat.say(pick)
    assert parse_when(asked.text) == starts[1]
    assert asked.booking_ref is None and sink.requests == []

    booked = chat.say(details)
    assert booked.booking_ref == "REF-1"
    assert "REF-1" in booked.text and name in booked.text
    assert booked.contact is not None and booked.contact.reachable
    (conversation_id, request), *rest = sink.requests
    assert rest == []
    assert conversation_id == "conv-1"
    assert request == BookingRequest(
        service_code="OE-0011",
        start=starts[1],
        end=starts[1] + dt.timedelta(minutes=30),
        contact=Contact(name=name, phone=phone, email=email, concern=OIL),
    )
    assert [e.calls for e in chat.executors] == [[], [], [("request_appointment", True)]]


def test_appointment_without_a_service_asks_which_one(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink)
    asked = chat.say("Termin vereinbaren")
    assert asked.text == text("ask_service_appointment", "de", examples="Inspektion, Ölservice, Bremsen oder HU/AU")
    offer = chat.say("Ölwechsel")
    assert len(_offered(offer)) == 3 and OIL in offer.text


def test_a_day_wish_moves_the_offers(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink)
    assert {s.date() for s in _offered(chat.say("Termin für einen Ölwechsel am Freitag"))} == {dt.date(2026, 3, 13)}
    assert {s.weekday() for s in _offered(chat.say("Haben Sie auch Montag etwas?"))} == {0}


def test_name_first_then_phone(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "pl", sink)
    first = _offered(chat.say("Umów wizytę na wymianę oleju"))[0]
    chat.say("pierwszy")
    reach = chat.say("Jan Kowalski")
    assert reach.text.startswith("Dziękuję, Jan Kowalski!")
    assert sink.requests == []
    booked = chat.say("600 123 456")
    assert booked.booking_ref == "REF-1"
    assert sink.requests[0][1].contact.name == "Jan Kowalski"
    assert sink.requests[0][1].start == first


def test_phone_first_then_name(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "en", sink)
    chat.say("Book an oil change please")
    needs_name = chat.say("2, my number is +44 20 7946 0958")
    assert needs_name.text.startswith("Thank you! For “")
    booked = chat.say("John Smith")
    assert booked.booking_ref == "REF-1"
    assert sink.requests[0][1].contact == Contact(name="John Smith", phone="+44 20 7946 0958", concern=OIL)


def test_contact_from_the_lead_form_books_right_away(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink, contact=Contact(name="Erika Muster", email="erika@example.com"))
    chat.say("Termin Ölwechsel")
    booked = chat.say("3")
    assert booked.booking_ref == "REF-1"
    assert sink.requests[0][1].contact.email == "erika@example.com"


def test_a_slot_taken_meanwhile_gets_new_offers(
    assistant: BuiltinAssistant, sink: RecordingSink, profile: PublicProfile
) -> None:
    chat = Chat(assistant, "de", sink, contact=Contact(name="Erika Muster", phone="0171 2345678"))
    first = _offered(chat.say("Termin für einen Ölwechsel"))[0]
    sink.fail_with = ConflictError("„Bühne 1“ ist bereits belegt")
    again = chat.say("1")
    assert again.text.startswith(text("slot_taken", "de"))
    assert again.booking_ref is None
    assert first not in _offered(again) and len(_offered(again)) == 3
    # and with a profile in which nothing is free any more, the executor refuses before the sink is asked
    sink.fail_with = None
    empty = replace(profile, free_intervals=())
    refused = chat.say("2", profile=empty)
    assert refused.text.startswith(text("slot_taken", "de")) and sink.requests == []


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Ich möchte mit einem Mitarbeiter sprechen"),
        ("en", "Can I talk to a person?"),
        ("tr", "Bir çalışanla görüşmek istiyorum"),
        ("pl", "Chcę porozmawiać z pracownikiem"),
    ],
)
def test_handoff_to_staff(assistant: BuiltinAssistant, sink: RecordingSink, language: str, message: str) -> None:
    chat = Chat(assistant, language, sink)
    reply = chat.say(message)
    assert reply.handoff
    assert reply.text == text("handoff", language)
    assert sink.handoffs == [("conv-1", "Besucher möchte mit einem Mitarbeiter sprechen")]


@pytest.mark.parametrize(
    ("language", "wish", "details", "phone"),
    [
        ("de", "Rückruf bitte", "Max Muster, 0171 2345678", "0171 2345678"),
        ("en", "Please call me back", "John, 07946 095800", "07946 095800"),
        ("tr", "Beni geri arayın", "0532 123 45 67", "0532 123 45 67"),
        ("pl", "Oddzwońcie do mnie", "600 123 456", "600 123 456"),
    ],
)
def test_call_me_back_is_a_lead_for_staff(
    assistant: BuiltinAssistant, sink: RecordingSink, language: str, wish: str, details: str, phone: str
) -> None:
    chat = Chat(assistant, language, sink)
    asked = chat.say(wish)
    assert asked.text == text("callback_ask", language) and not asked.handoff
    done = chat.say(details)
    assert done.handoff
    assert done.text == text("callback_done", language, phone=phone)
    assert done.contact is not None and done.contact.phone == phone
    assert sink.handoffs == [("conv-1", f"Rückruf erbeten: {phone}")]


def test_call_me_back_with_a_known_number_hands_over_at_once(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    reply = Chat(assistant, "de", sink).say("Bitte rufen Sie mich zurück: 0171 2345678")
    assert reply.handoff and reply.contact is not None and reply.contact.phone == "0171 2345678"


def test_contact_details_left_in_passing_are_a_lead(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    reply = Chat(assistant, "de", sink).say("Meine E-Mail: kunde@example.com")
    assert reply.text == text("contact_saved", "de", contact="kunde@example.com")
    assert reply.contact == Contact(email="kunde@example.com")
    assert not reply.handoff and sink.handoffs == []


def test_no_service_found_invites_a_lead(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink)
    assert chat.say("Was kostet eine Weltraumreise?").text == text("no_service", "de")
    follow_up = chat.say("0171 2345678")
    assert follow_up.handoff and sink.handoffs == [("conv-1", "Rückruf erbeten: 0171 2345678")]


@pytest.mark.parametrize("language", LANGS)
def test_quick_replies_lead_where_they_say(assistant: BuiltinAssistant, sink: RecordingSink, language: str) -> None:
    price, appointment, hours, callback = quick_replies(language)
    examples = "Inspektion, Ölservice, Bremsen"
    assert (
        Chat(assistant, language, sink)
        .say(price)
        .text.startswith(text("ask_service_price", language, examples=examples)[:12])
    )
    assert (
        Chat(assistant, language, sink)
        .say(appointment)
        .text.startswith(text("ask_service_appointment", language, examples=examples)[:12])
    )
    assert Chat(assistant, language, sink).say(hours).text.startswith(text("hours_intro", language))
    assert Chat(assistant, language, sink).say(callback).text == text("callback_ask", language)


def test_price_then_service_and_price_of_the_offered_service(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink)
    chat.say("Preise")
    assert chat.say("Inspektion").text.startswith(
        "„Inspektion klein (Zwischeninspektion) – Kleinwagen“ kostet bei uns ab 141,61 €"
    )
    chat.say("Termin für einen Ölwechsel")
    assert chat.say("Was kostet das?").text.startswith(f"„{OIL}“ kostet bei uns ab 70,21 €")


def test_greeting_thanks_address_emergency_and_fallback(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    chat = Chat(assistant, "de", sink)
    assert chat.say("Hallo").text == text("welcome", "de", workshop="Kfz-Meisterbetrieb Huber GmbH")
    assert chat.say("Danke!").text == text("thanks", "de")
    assert chat.say("Wie ist eure Adresse?").text.splitlines()[1:] == [
        "Kfz-Meisterbetrieb Huber GmbH",
        "Landsberger Straße 312, 80687 München",
        "089 5467 1200",
        "service@huber-kfz.example",
    ]
    assert "089 5467 1200" in chat.say("Hilfe, Panne auf der Autobahn!").text
    fallback = chat.say("blorp zzz")
    assert fallback.text == text("fallback", "de")
    assert text("qr_person", "de") in fallback.quick_replies
    assert sink.requests == [] and sink.handoffs == []


def test_replies_are_deterministic_and_streamed_once(assistant: BuiltinAssistant, sink: RecordingSink) -> None:
    view = ConversationView("c", "de", (Turn("visitor", "Termin für einen Ölwechsel"),))
    deltas: list[str] = []
    executor = ToolExecutor(assistant.profile, sink, conversation_id="c", language="de", now_local=NOW)
    first = assistant.reply(view, executor, on_delta=deltas.append)
    second = assistant.reply(view, executor)
    assert first == second
    assert deltas == [first.text]


def test_a_single_word_counts_as_name_only_when_just_the_name_was_asked(
    assistant: BuiltinAssistant, sink: RecordingSink
) -> None:
    chat = Chat(assistant, "de", sink)
    chat.say("Termin für einen Ölwechsel")
    chat.say("1")
    again = chat.say("Max")  # asked for name and phone: one word is not enough, the question is repeated
    assert again.text.startswith("Sehr gern: „") and sink.requests == []
    chat.say("0171 2345678")
    booked = chat.say("Max")  # now only the name was asked
    assert booked.booking_ref == "REF-1"
    assert sink.requests[0][1].contact.name == "Max"
