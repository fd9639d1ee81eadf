"""The assistants' common interface and the built-in assistant that needs no LLM.

:class:`BuiltinAssistant` answers in the visitor's language from the public profile only: prices
("ab" prices, cheapest standard variant first), durations, opening hours, address, free slots,
appointment requests, call-back leads and handoff to staff. It is deterministic and keeps no state
between calls: what it offered or asked last time is read back from its own previous message (the
numbered slots, the chosen slot in "… am Dienstag, 10.03.2026, 08:00 Uhr. Bitte nennen Sie …"), and
the visitor's phone, e-mail and name are taken from the conversation's text. Every action goes through
the :class:`~app.chat.tools.ToolExecutor`; attempts to change its rules or to get other people's data
get a polite refusal — it has nothing but the profile to tell anyway.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.chat.conversation import Contact, ConversationView, normalise_language
from app.chat.intents import (
    Intent,
    ServiceIndex,
    ServiceMatch,
    content_words,
    detect_intents,
    extract_contact,
    parse_choice,
    parse_day_hint,
)
from app.chat.profile import PublicProfile, PublicService
from app.chat.slots import SlotOffer, offer_slots
from app.chat.texts import (
    examples_list,
    format_duration,
    format_price_from,
    format_when,
    parse,
    parse_when,
    text,
    weekday_name,
)
from app.chat.tools import ToolExecutor
from app.i18n import _

MAX_INPUT_CHARS = 2000
_SLOT_LINE = re.compile(r"^\s*([1-9])\)\s+(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class AssistantReply:
    """One answer of an assistant."""

    text: str
    quick_replies: tuple[str, ...] = ()
    handoff: bool = False  # the assistant handed the conversation to staff
    booking_ref: str | None = None  # the sink's reference when an appointment was requested
    usage: Any | None = None  # LLM usage (app.chat.llm.pricing.Usage); None for the built-in assistant
    contact: Contact | None = None  # contact details the visitor gave in the chat (phone or e-mail: a lead)


class Assistant(Protocol):
    """Anything that answers a conversation's last visitor message."""

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        """Answer; ``on_delta(text_so_far)`` is called while the answer is produced (cumulative text)."""
        ...


def quick_replies(language: str) -> tuple[str, ...]:
    """The widget's standard buttons: price, appointment, opening hours, call me back (localised)."""
    return tuple(text(key, language) for key in ("qr_price", "qr_appointment", "qr_hours", "qr_callback"))


@dataclass(frozen=True)
class _State:
    """What the assistant's previous message left open."""

    kind: str  # "offer", "ask_contact", "ask_service_appointment", "ask_service_price", "lead", ""
    service: PublicService | None = None
    starts: tuple[dt.datetime, ...] = ()  # offered slot starts
    name: str = ""  # the visitor's name the assistant repeated
    name_asked: bool = False  # the assistant asked for the name only


@dataclass(frozen=True)
class _Turn:
    """Everything known about the visitor message being answered."""

    lang: str
    message: str
    intents: frozenset[Intent]
    state: _State
    contact: Contact  # all the visitor told so far (this message, earlier ones, the lead form)
    fresh: Contact  # what this message alone contains
    executor: ToolExecutor
    matches: list[ServiceMatch]


class BuiltinAssistant:
    """The rule-based assistant (see the module docstring); one instance per profile, reusable."""

    def __init__(self, profile: PublicProfile) -> None:
        self.profile = profile
        self.index = ServiceIndex(profile.services)

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        """Answer the last visitor message; ``on_delta`` gets the whole text once."""
        answer = self._answer(conversation, executor)
        if on_delta is not None:
            on_delta(answer.text)
        return answer

    # -------------------------------------------------------------------------------------- dialogue

    def _answer(self, conversation: ConversationView, executor: ToolExecutor) -> AssistantReply:
        lang = normalise_language(conversation.language)
        message = conversation.last_visitor_text[:MAX_INPUT_CHARS]
        state = self._state(conversation.previous_bot_text())
        expect_name = state.kind in ("ask_contact", "lead")
        min_words = 1 if state.name_asked else 2
        turn = _Turn(
            lang=lang,
            message=message,
            intents=detect_intents(message),
            state=state,
            contact=self._contact(conversation, expect_name, min_words).merged(Contact(name=state.name)),
            fresh=extract_contact(message, expect_name=expect_name, min_words=min_words),
            executor=executor,
            matches=self.index.search(message),
        )
        # first match wins: safety first, then what the previous message left open, then the visitor's wish
        for handler in (
            self._guard,
            self._pick,
            self._continue,
            self._appointment,
            self._callback_wish,
            self._price_wish,
            self._information,
            self._small_talk,
        ):
            answer = handler(turn)
            if answer is not None:
                return answer
        return AssistantReply(text("fallback", lang), (*quick_replies(lang), text("qr_person", lang)))

    def _guard(self, t: _Turn) -> AssistantReply | None:
        """Empty messages, injection attempts, emergencies and "talk to a person"."""
        if not t.message.strip():
            return self._say(text("welcome", t.lang, workshop=self.profile.workshop_name), t.lang)
        if Intent.INJECTION in t.intents:
            return self._say(text("refuse", t.lang), t.lang)
        if Intent.EMERGENCY in t.intents:
            return self._say(text("emergency", t.lang, phone=self.profile.phone or "112"), t.lang)
        if Intent.HANDOFF in t.intents:
            return self._handoff(t, _("Besucher möchte mit einem Mitarbeiter sprechen"))
        return None

    def _pick(self, t: _Turn) -> AssistantReply | None:
        """After offered slots: the visitor picks one, or asks for another day."""
        if t.state.kind != "offer" or t.state.service is None:
            return None
        choice = parse_choice(t.message, t.state.starts)
        if choice is not None:
            return self._book(t, t.state.service, t.state.starts[choice])
        if parse_day_hint(t.message, t.executor.now_local.date()) is not None:
            return self._offer(t, t.state.service)  # "Haben Sie auch Freitag etwas?": offers for that day
        return None

    def _continue(self, t: _Turn) -> AssistantReply | None:
        """Answers that only make sense after the previous bot message (missing details, a named service)."""
        state, fresh = t.state, t.fresh
        if state.kind == "ask_contact" and state.service is not None and state.starts:
            # details given, or an answer that is no other wish: book, or ask again for what is missing
            chatter = bool(t.intents - {Intent.GREETING, Intent.THANKS}) or bool(t.matches)
            if fresh.name or fresh.phone or fresh.email or not chatter:
                return self._book(t, state.service, state.starts[0])
        if state.kind == "lead" and (fresh.phone or fresh.email):
            return self._callback(t)
        if t.matches and not t.intents - {Intent.GREETING, Intent.THANKS}:
            if state.kind == "ask_service_appointment":
                return self._offer(t, t.matches[0].service)
            if state.kind == "ask_service_price":
                return self._price(t.matches, t.lang, with_price=True)
        return None

    def _service(self, t: _Turn) -> PublicService | None:
        # "Was kostet das?" right after an offer means the offered service
        return t.matches[0].service if t.matches else t.state.service

    def _appointment(self, t: _Turn) -> AssistantReply | None:
        if Intent.APPOINTMENT not in t.intents:
            return None
        service = self._service(t)
        if service is None:
            return self._say(text("ask_service_appointment", t.lang, examples=self._examples(t.lang)), t.lang)
        offer = self._offer(t, service)
        if Intent.PRICE in t.intents:
            return AssistantReply(f"{self._price_line(service, t.lang)}\n\n{offer.text}", offer.quick_replies)
        return offer

    def _callback_wish(self, t: _Turn) -> AssistantReply | None:
        if Intent.CALLBACK not in t.intents:
            return None
        return self._callback(t) if t.contact.reachable else self._say(text("callback_ask", t.lang), t.lang)

    def _price_wish(self, t: _Turn) -> AssistantReply | None:
        with_price = Intent.PRICE in t.intents
        if not with_price and Intent.DURATION not in t.intents:
            return None
        service = self._service(t)
        if service is None:
            key = "no_service" if content_words(t.message) else "ask_service_price"
            return self._say(text(key, t.lang, examples=self._examples(t.lang)), t.lang)
        return self._price(t.matches or [ServiceMatch(service, 0.0)], t.lang, with_price=with_price)

    def _information(self, t: _Turn) -> AssistantReply | None:
        """Opening hours, address, contact details the visitor left, or a service named without a question."""
        if Intent.OPENING_HOURS in t.intents:
            return self._say(self._hours_text(t.lang), t.lang)
        if Intent.CONTACT_INFO in t.intents:
            return self._say(self._contact_info(t.lang), t.lang)
        if t.fresh.phone or t.fresh.email:
            shown = ", ".join(p for p in (t.fresh.phone, t.fresh.email) if p)
            return AssistantReply(
                text("contact_saved", t.lang, contact=shown), quick_replies(t.lang), contact=t.contact
            )
        if t.matches:
            return self._price(t.matches, t.lang, with_price=True)
        return None

    def _small_talk(self, t: _Turn) -> AssistantReply | None:
        if Intent.GREETING in t.intents:
            return self._say(text("welcome", t.lang, workshop=self.profile.workshop_name), t.lang)
        if Intent.THANKS in t.intents:
            return self._say(text("thanks", t.lang), t.lang)
        return None

    # -------------------------------------------------------------------------------------- state

    def _state(self, previous: str) -> _State:
        """Read back what the previous bot message offered or asked."""
        if not previous:
            return _State("")
        starts = [when for _n, line in _SLOT_LINE.findall(previous) if (when := parse_when(line)) is not None]
        if starts:
            return _State("offer", self.index.named_in(previous), tuple(starts))
        for key in ("ask_contact_booking", "ask_name_booking", "ask_reach_booking"):
            values = parse(key, previous)
            if values:
                start = parse_when(values["when"])
                chosen = (start,) if start else ()
                service = self.index.named_in(values["service"])
                return _State("ask_contact", service, chosen, values.get("name", ""), key == "ask_name_booking")
        for key in ("ask_service_appointment", "ask_service_price"):
            if parse(key, previous) is not None:
                return _State(key)
        if any(parse(key, previous) is not None for key in ("callback_ask", "no_slots", "no_service")):
            return _State("lead")
        return _State("")

    def _contact(self, conversation: ConversationView, expect_name: bool, min_words: int) -> Contact:
        """What the visitor told about themself: the newest message first, then earlier ones, then the
        lead form (``conversation.contact``)."""
        visitor = [t.text[:MAX_INPUT_CHARS] for t in conversation.turns if t.author == "visitor"]
        found = Contact()
        for index, message in enumerate(reversed(visitor)):
            newest = expect_name and index == 0
            found = found.merged(extract_contact(message, expect_name=newest, min_words=min_words))
        return found.merged(conversation.contact)

    # -------------------------------------------------------------------------------------- answers

    def _say(self, message: str, lang: str) -> AssistantReply:
        return AssistantReply(message, quick_replies(lang))

    def _examples(self, lang: str) -> str:
        return examples_list(self.index.examples(), lang)

    def _price_line(self, service: PublicService, lang: str) -> str:
        return text(
            "price_one",
            lang,
            service=service.name,
            price=format_price_from(service.price_from_gross, lang),
            duration=format_duration(service.duration_minutes, lang),
        )

    def _price(self, matches: list[ServiceMatch], lang: str, *, with_price: bool) -> AssistantReply:
        best = matches[0].service
        if not with_price:
            duration = format_duration(best.duration_minutes, lang)
            return self._say(text("duration_one", lang, service=best.name, duration=duration), lang)
        lines = [self._price_line(best, lang)]
        others = [m.service for m in matches[1:3]]
        if others:
            lines.append(text("price_more", lang))
            lines += [f"• {s.name}: {format_price_from(s.price_from_gross, lang)}" for s in others]
        lines.append(text("price_note", lang))
        return AssistantReply("\n".join(lines), (text("qr_appointment", lang), text("qr_callback", lang)))

    def _offer(self, t: _Turn, service: PublicService) -> AssistantReply:
        day = parse_day_hint(t.message, t.executor.now_local.date())
        offers = self._slots(t, service, day, only_that_day=True) if day else []
        if not offers:
            offers = self._slots(t, service, day)  # that day is full (or none was named): the next free ones
        return self._offer_text(service, offers, t.lang)

    def _slots(
        self, t: _Turn, service: PublicService, day: dt.date | None, *, limit: int = 3, only_that_day: bool = False
    ) -> list[SlotOffer]:
        return offer_slots(
            self.profile,
            duration_minutes=service.duration_minutes,
            now_local=t.executor.now_local,
            date_from=day,
            date_to=day if only_that_day else None,
            limit=limit,
        )

    def _offer_text(
        self, service: PublicService, offers: list[SlotOffer], lang: str, prefix: str = ""
    ) -> AssistantReply:
        head = f"{prefix}\n\n" if prefix else ""
        if not offers:
            return AssistantReply(head + text("no_slots", lang), (text("qr_callback", lang), text("qr_person", lang)))
        duration = format_duration(service.duration_minutes, lang)
        lines = [text("slots_intro", lang, service=service.name, duration=duration)]
        lines += [text("slot_line", lang, n=i, when=format_when(o.start, lang)) for i, o in enumerate(offers, 1)]
        lines.append(text("slots_pick", lang))
        return AssistantReply(head + "\n".join(lines), tuple(str(i) for i in range(1, len(offers) + 1)))

    def _book(self, t: _Turn, service: PublicService, start: dt.datetime) -> AssistantReply:
        """Request the appointment if name and phone/e-mail are known, else ask for what is missing."""
        lang, contact = t.lang, t.contact
        when = format_when(start, lang)
        if not contact.reachable and contact.name:
            # the name is echoed so the next turn can read it back (the assistant keeps no state)
            ask = text("ask_reach_booking", lang, name=contact.name, service=service.name, when=when)
            return AssistantReply(ask)
        if not contact.reachable:
            return AssistantReply(text("ask_contact_booking", lang, service=service.name, when=when))
        if not contact.name:
            return AssistantReply(text("ask_name_booking", lang, service=service.name, when=when), contact=contact)
        person = {"name": contact.name, "phone": contact.phone or None, "email": contact.email or None}
        arguments = {
            "service_code": service.code,
            "start": start.isoformat(timespec="minutes"),
            "contact": person | {"vehicle": contact.vehicle or None},
            "note": None,
        }
        result = t.executor.execute("request_appointment", arguments)
        if result.ok:
            ref = str(result.content["reference"])
            done = text("booked", lang, name=contact.name, service=service.name, when=when, ref=ref)
            return AssistantReply(done, quick_replies(lang), booking_ref=ref, contact=contact)
        if result.content.get("error") in ("slot_unavailable", "slot_past"):
            others = [o for o in self._slots(t, service, None, limit=4) if o.start != start][:3]
            again = self._offer_text(service, others, lang, text("slot_taken", lang))
            return AssistantReply(again.text, again.quick_replies, contact=contact)
        return AssistantReply(str(result.content.get("message", "")), quick_replies(lang), contact=contact)

    def _callback(self, t: _Turn) -> AssistantReply:
        """Hand over to staff with the number to call (or the e-mail address) as the reason."""
        contact = t.contact
        reply = self._handoff(t, _("Rückruf erbeten: {contact}").format(contact=contact.phone or contact.email))
        if not reply.handoff:
            return reply
        if contact.phone:
            return AssistantReply(text("callback_done", t.lang, phone=contact.phone), handoff=True, contact=contact)
        return AssistantReply(text("callback_done_email", t.lang, email=contact.email), handoff=True, contact=contact)

    def _handoff(self, t: _Turn, reason: str) -> AssistantReply:
        result = t.executor.execute("handoff_to_staff", {"reason": reason})
        reach = t.contact if t.contact.reachable else None
        if not result.ok:
            return AssistantReply(str(result.content.get("message", "")), quick_replies(t.lang), contact=reach)
        return AssistantReply(text("handoff", t.lang), (), handoff=True, contact=reach)

    def _hours_text(self, lang: str) -> str:
        lines = [text("hours_intro", lang)]
        weekday = 0
        while weekday < 7:
            hours = self.profile.hours_of(weekday)
            last = weekday
            while last + 1 < 7 and self.profile.hours_of(last + 1) == hours:
                last += 1
            days = weekday_name(weekday, lang, short=True)
            if last > weekday:
                days += "–" + weekday_name(last, lang, short=True)
            shown = ", ".join(f"{a}–{b}" for a, b in hours) if hours else text("closed", lang)
            lines.append(f"{days}: {shown}")
            weekday = last + 1
        lines.append(text("hours_holiday", lang))
        return "\n".join(lines)

    def _contact_info(self, lang: str) -> str:
        p = self.profile
        return "\n".join(
            [text("contact_info", lang), *(v for v in (p.workshop_name, p.address, p.phone, p.email) if v)]
        )
