"""A web-chat conversation as the assistants see it: the turns so far and the visitor's contact details.

Plain frozen data, built by whoever asks an assistant for an answer (the desktop agent from an
``AgentTask``, the hosted API from its own tables, tests by hand). Nothing here knows about the
network or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Author = Literal["visitor", "bot", "staff", "system"]

LANGUAGES: tuple[str, ...] = ("de", "en", "tr", "pl")
"""The languages of the widget and the assistants."""

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s/().\-]+$")


def normalise_language(language: str) -> str:
    """ "de", "en", "tr" or "pl" from a language tag like "pl-PL" or "TR"; anything else is German."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else "de"


def valid_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dotted domain with a letter TLD, no spaces), at most 200 chars."""
    value = text.strip()
    return len(value) <= 200 and bool(_EMAIL.match(value)) and ".." not in value


def phone_digits(text: str) -> str:
    """The digits of a phone number, with a leading "+" kept (and "00" turned into "+")."""
    value = text.strip()
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits


def valid_phone(text: str) -> bool:
    """A plausible phone number: only digits and the usual separators, 6 to 15 digits.

    National numbers ("089 5467 1200", "0532 123 45 67", "600 123 456") and international ones
    ("+49 171 2345678", "0048 600 123 456") pass; letters, dates with several dots or too few digits do not.
    """
    value = text.strip()
    if not value or len(value) > 40 or not _PHONE_CHARS.match(value):
        return False
    if value.count(".") > 1 and "/" not in value and " " not in value:
        return False  # "10.03.2026" is a date, not a number
    digits = phone_digits(value).lstrip("+")
    return 6 <= len(digits) <= 15


@dataclass(frozen=True)
class Turn:
    """One message of the conversation."""

    author: Author
    text: str


@dataclass(frozen=True)
class Contact:
    """What the visitor told about themself; phone or e-mail makes the conversation a lead."""

    name: str = ""
    phone: str = ""
    email: str = ""
    vehicle: str = ""
    concern: str = ""
    preferred_time: str = ""

    @property
    def reachable(self) -> bool:
        """True when the workshop can answer: a plausible phone number or e-mail address is there."""
        return valid_phone(self.phone) or valid_email(self.email)

    @property
    def bookable(self) -> bool:
        """True when an appointment request may be made: a name and a way to reach the visitor."""
        return bool(self.name.strip()) and self.reachable

    def merged(self, other: Contact | None) -> Contact:
        """This contact with the blanks filled from ``other`` (own values win)."""
        if other is None:
            return self
        return replace(
            self,
            name=self.name or other.name,
            phone=self.phone or other.phone,
            email=self.email or other.email,
            vehicle=self.vehicle or other.vehicle,
            concern=self.concern or other.concern,
            preferred_time=self.preferred_time or other.preferred_time,
        )


@dataclass(frozen=True)
class ConversationView:
    """The conversation an assistant answers: the last turn is the visitor message to answer."""

    id: str
    language: str  # "de" | "en" | "tr" | "pl"
    turns: tuple[Turn, ...]
    contact: Contact | None = None

    @property
    def last_visitor_text(self) -> str:
        """The newest visitor message ("" if there is none)."""
        for turn in reversed(self.turns):
            if turn.author == "visitor":
                return turn.text
        return ""

    def previous_bot_text(self) -> str:
        """The bot's message just before the newest visitor message ("" if the bot has not spoken since)."""
        seen_visitor = False
        for turn in reversed(self.turns):
            if turn.author == "visitor":
                if seen_visitor:
                    continue
                seen_visitor = True
            elif turn.author == "bot" and seen_visitor:
                return turn.text
            elif turn.author == "staff" and seen_visitor:
                return ""  # a person answered in between: the bot's earlier offer is no longer the context
        return ""
