"""What a visitor wants and which catalogue services they mean, in German, English, Turkish and Polish.

Text is folded before matching (lower case, accents and Turkish/Polish letters to plain ones,
punctuation to spaces; German umlauts tried both dropped and spelled out), so "Öffnungszeiten",
"oeffnungszeiten", "Çalışma saatleri" and "wymianę oleju" all match their keywords
(:mod:`app.chat.keywords`). Service matching uses the catalogue's own German names, a small synonym
table for everyday words and the other languages, plural stems, compound heads and a fuzzy fallback
for typos. The visitor's choice of an offered slot, day hints and contact details are read here too.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from app.chat import keywords as kw
from app.chat.conversation import Contact, phone_digits, valid_email, valid_phone
from app.chat.profile import PublicService


class Intent(StrEnum):
    """A visitor's wish; one message may carry several."""

    INJECTION = "injection"  # tries to change the assistant's rules or to get other people's data
    EMERGENCY = "emergency"
    HANDOFF = "handoff"
    CALLBACK = "callback"
    APPOINTMENT = "appointment"
    PRICE = "price"
    DURATION = "duration"
    OPENING_HOURS = "opening_hours"
    CONTACT_INFO = "contact_info"  # the workshop's address, phone or e-mail
    GREETING = "greeting"
    THANKS = "thanks"


_SPECIAL = str.maketrans({"ı": "i", "ł": "l", "ß": "ss", "ø": "o", "đ": "d"})
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_NON_WORD = re.compile(r"[\W_]+")


def _strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """ "Çalışma SAATLERİ!" → "calisma saatleri"; "Öl" → "ol"."""
    return _NON_WORD.sub(" ", _strip(text.casefold().translate(_SPECIAL))).strip()


@lru_cache(maxsize=4096)
def fold_expanded(text: str) -> str:
    """Like :func:`fold` with German umlauts spelled out: "Öl" → "oel"."""
    return _NON_WORD.sub(" ", _strip(text.casefold().translate(_SPECIAL).translate(_UMLAUTS))).strip()


def _compile(entries: str) -> re.Pattern[str]:
    parts = []
    for entry in entries.split("|"):
        body = re.escape(entry.lstrip("="))
        parts.append(rf"\b{body}\b" if entry.startswith("=") else rf"\b{body}")
    return re.compile("|".join(parts))


def _matches(pattern: re.Pattern[str], text: str) -> bool:
    return bool(pattern.search(fold(text)) or pattern.search(fold_expanded(text)))


_INTENTS = {Intent(name): _compile(words) for name, words in kw.INTENT_WORDS.items()}
_FAKE_ROLE = re.compile(r"(^|\n)\s*(system|assistant|developer|admin|sistem|systemowy)\s*[:>\]]", re.IGNORECASE)
_MARKUP = re.compile(r"<\s*/?\s*(system|script|instructions?|im_start|im_end)\b|\[/?inst\]|```", re.IGNORECASE)


def detect_intents(text: str) -> frozenset[Intent]:
    """Every intent whose keywords occur in ``text``; fake "SYSTEM:" blocks and prompt markup are injection."""
    found = {intent for intent, pattern in _INTENTS.items() if _matches(pattern, text)}
    if _FAKE_ROLE.search(text) or _MARKUP.search(text):
        found.add(Intent.INJECTION)
    return frozenset(found)


def looks_like_injection(text: str) -> bool:
    """True when ``text`` tries to change the assistant's instructions or asks for other people's data."""
    return Intent.INJECTION in detect_intents(text)


# ------------------------------------------------------------------------------------ service matching

_SYNONYMS = tuple(
    (_compile(phrase), term)
    for phrase, term in sorted(
        (tuple(entry.split(">")) for entry in kw.SYNONYMS.split("|")), key=lambda p: -len(p[0].lstrip("="))
    )
)
_STOPWORDS = frozenset(kw.STOPWORDS.split())
_SHORT_TERMS = frozenset(kw.SHORT_TERMS.split())
_VARIANTS = tuple(kw.VARIANT_WORDS.split("|"))


@dataclass(frozen=True)
class ServiceMatch:
    """A service and how well it matched (higher is better)."""

    service: PublicService
    score: float


class ServiceIndex:
    """The profile's services prepared for matching visitor messages (build once per profile)."""

    def __init__(self, services: Iterable[PublicService]) -> None:
        self.services = tuple(services)
        self._names = [(s, f" {fold_expanded(s.name)} ", f" {fold_expanded(s.category)} ") for s in self.services]
        self._codes = {fold(s.code).replace(" ", ""): s for s in self.services}
        self._vocabulary = sorted({w for _s, name, _c in self._names for w in name.split() if len(w) >= 4})
        self._by_initial: dict[str, list[str]] = {}
        for word in self._vocabulary:  # typos rarely hit the first letter; this keeps difflib fast
            self._by_initial.setdefault(word[0], []).append(word)

    def terms(self, text: str) -> list[str]:
        """The search terms of ``text``: catalogue words from synonyms (longest phrase first, so "przegląd
        techniczny" is the HU and not an inspection) plus the remaining content words as catalogue words."""
        terms: list[str] = []
        rest: list[str] = []
        for form in (fold(text), fold_expanded(text)):
            taken: list[tuple[int, int]] = []
            for pattern, term in _SYNONYMS:
                for found in pattern.finditer(form):
                    a, b = found.span()
                    if any(x < b and a < y for x, y in taken):
                        continue
                    taken.append((a, b))
                    if term not in terms:
                        terms.append(term)
            masked = "".join(" " if any(x <= i < y for x, y in taken) else c for i, c in enumerate(form))
            rest.extend(w for w in masked.split() if w not in rest)
        for word in rest:
            if word in _STOPWORDS or word.isdigit() or (len(word) < 4 and word not in _SHORT_TERMS):
                continue
            known = self._catalogue_word(word)
            if known and not any(known in t or t in known for t in terms):
                terms.append(known)
        return terms

    def _catalogue_word(self, word: str) -> str | None:
        """``word`` as catalogue names have it: itself or its stem ("bremsen" → "brems"), the longest known
        head of a compound ("zahnriemenwechsel" → "zahnriemen") or the closest word for a typo."""
        stem = word[:-2] if len(word) >= 6 and word.endswith(("en", "er")) else word
        stem = stem[:-1] if len(stem) >= 6 and stem.endswith(("e", "n", "s")) else stem
        for candidate in (stem, word):
            if any(f" {candidate}" in name for _s, name, _c in self._names):
                return candidate
        heads = [w for w in self._vocabulary if len(w) >= 5 and word.startswith(w)]
        if heads:
            return max(heads, key=len)
        if len(word) >= 5:
            close = difflib.get_close_matches(word, self._by_initial.get(word[0], []), n=1, cutoff=0.84)
            if close:
                return close[0]
        return None

    def search(self, text: str, *, limit: int = 5) -> list[ServiceMatch]:
        """Services ``text`` refers to, best first.

        Per term: the name starting with it scores 3, a word of the name starting with it 2, inside a word
        1.5, only in the category 1; scores add up over terms. Ties: standard services before special
        variants ("ohne Ölfilter", "Motorrad"), then the lower price — so the first hit is the cheapest
        standard variant, the honest "ab" price — then the code.
        """
        for token in re.findall(r"\b[A-Za-z]{2,3}-?\d{3,4}\b", text):
            exact = self._codes.get(fold(token).replace(" ", ""))
            if exact is not None:
                return [ServiceMatch(exact, 100.0)]
        terms = self.terms(text)
        if not terms:
            return []
        matches = []
        for service, name, category in self._names:
            score = 0.0
            for term in terms:
                head = f" {term} " if len(term) < 4 else f" {term}"
                if name.startswith(head):
                    score += 3
                elif head in name:
                    score += 2
                elif len(term) >= 4 and term in name:
                    score += 1.5
                elif head in category:
                    score += 1
            if score:
                matches.append(ServiceMatch(service, score))
        matches.sort(key=lambda m: (-m.score, _is_variant(m.service), m.service.price_from_gross, m.service.code))
        return matches[:limit]

    def best(self, text: str) -> PublicService | None:
        """The single best service for ``text`` (None if nothing matches)."""
        found = self.search(text, limit=1)
        return found[0].service if found else None

    def named_in(self, message: str) -> PublicService | None:
        """The service whose full name occurs in ``message`` (the longest, if several) — how the assistant
        finds the service it talked about in its previous turn."""
        hits = [s for s in self.services if s.name and s.name in message]
        return max(hits, key=lambda s: len(s.name)) if hits else None

    def examples(self, count: int = 4) -> list[str]:
        """A few category names to suggest ("Inspektion", "Ölservice", …), common ones first."""
        preferred = ("Inspektion", "Ölservice", "Bremsen", "HU/AU", "Reifen & Räder", "Klimaanlage")
        present = list(dict.fromkeys(s.category for s in self.services if s.category))
        ordered = [c for c in preferred if c in present] + [c for c in present if c not in preferred]
        return ordered[:count]


def content_words(text: str) -> list[str]:
    """The words of ``text`` that could name a service (no question words, verbs or fillers)."""
    return [w for w in fold_expanded(text).split() if len(w) >= 4 and w not in _STOPWORDS and not w.isdigit()]


def _is_variant(service: PublicService) -> bool:
    name = f" {fold_expanded(service.name)} "
    return any(word in name for word in _VARIANTS)


# ------------------------------------------------------------------------------------ choices and days

_ORDINALS = {index: _compile(words) for index, words in kw.ORDINALS.items()}
_WEEKDAYS = {weekday: _compile(words) for weekday, words in kw.WEEKDAYS.items()}
_YES = _compile(kw.YES)
_TIME = re.compile(
    r"\b([01]?\d|2[0-3]):([0-5]\d)\b|\b([01]?\d|2[0-3])(?:[.:]([0-5]\d))?\s*(uhr|h\b|o'?clock|am\b|pm\b)"
)
_TIME_PREFIX = re.compile(r"\b(?:saat|godz\w*\.?|um|at)\s*([01]?\d|2[0-3])\b(?![.:]?\d)", re.IGNORECASE)
_DIGIT = re.compile(r"(?<![\d.:/,])\b([1-9])\b(?![.:/,]?\d)")
_DATE = re.compile(r"\b([0-3]?\d)\.([01]?\d)\.(\d{2,4})?")
_RELATIVE_DAYS = ((_compile(kw.DAY_AFTER_TOMORROW), 2), (_compile(kw.TOMORROW), 1), (_compile(kw.TODAY), 0))
_GREETINGS = re.compile(r"guten\s+morgen|good\s+morning|dzie[nń]\s+dobry", re.IGNORECASE)


def mentioned_time(text: str) -> dt.time | None:
    """A clock time in ``text``: "10:30", "10.30", "10 Uhr", "at 9", "saat 14", "godz. 8" (None if none)."""
    found = _TIME.search(text.lower())
    if found:
        if found[1]:
            return dt.time(int(found[1]), int(found[2]))
        hour = int(found[3]) + (12 if found[5] == "pm" and int(found[3]) < 12 else 0)
        return dt.time(hour % 24, int(found[4] or 0))
    prefixed = _TIME_PREFIX.search(text)
    return dt.time(int(prefixed.group(1))) if prefixed else None


def mentioned_weekday(text: str) -> int | None:
    """The weekday named in ``text`` (0 = Monday) in any of the four languages, or None."""
    for weekday, pattern in _WEEKDAYS.items():
        if _matches(pattern, text):
            return weekday
    return None


def parse_choice(text: str, starts: Sequence[dt.datetime]) -> int | None:
    """Which of the offered slot ``starts`` the visitor picked: a time ("10:00", "10 Uhr"), a weekday or
    date, an ordinal ("den ersten", "the second", "ikinci", "ostatni"), a bare number ("2", "Nr. 2"),
    or "yes" when only one slot was offered. None if unclear."""
    if not starts:
        return None
    candidates = list(range(len(starts)))
    day = _DATE.search(text)
    if day:
        candidates = [i for i in candidates if (starts[i].day, starts[i].month) == (int(day[1]), int(day[2]))]
    weekday = mentioned_weekday(text)
    if weekday is not None:
        candidates = [i for i in candidates if starts[i].weekday() == weekday]
    clock = mentioned_time(text)
    if clock is not None:
        candidates = [i for i in candidates if starts[i].time() == clock]
    if (day or weekday is not None or clock is not None) and candidates:
        return candidates[0]
    for index, pattern in _ORDINALS.items():
        if _matches(pattern, text):
            return index % len(starts)
    number = _DIGIT.search(text)
    if number and int(number[1]) <= len(starts):
        return int(number[1]) - 1
    if len(starts) == 1 and _matches(_YES, text):
        return 0
    return None


def parse_day_hint(text: str, today: dt.date) -> dt.date | None:
    """The day a visitor asks about: today, tomorrow, the day after, a weekday (its next occurrence from
    today) or a date "12.3." / "12.03.2026"; None if the text names no day."""
    text = _GREETINGS.sub(" ", text)  # "Guten Morgen" is no "morgen" (tomorrow)
    for pattern, offset in _RELATIVE_DAYS:
        if _matches(pattern, text):
            return today + dt.timedelta(days=offset)
    found = _DATE.search(text)
    if found:
        year = int(found[3]) if found[3] else today.year
        year = year + 2000 if year < 100 else year
        try:
            day = dt.date(year, int(found[2]), int(found[1]))
        except ValueError:
            return None
        return day.replace(year=day.year + 1) if day < today and not found[3] else day
    weekday = mentioned_weekday(text)
    if weekday is not None:
        return today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    return None


# ------------------------------------------------------------------------------------ contact details

_EMAIL_FIND = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE_FIND = re.compile(r"(?<![\w.,:/])(?:\+|00)?\d[\d \-/().]{4,22}\d(?![\w])")
_DATE_LIKE = re.compile(r"^\d{1,2}[./]\d{1,2}[./]?(\d{2,4})?$")
_NAME_INTRO = re.compile(rf"(?:{kw.NAME_INTRO})\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*")
_NOT_NAME = frozenset(kw.NOT_NAME.split()) | _STOPWORDS


def find_email(text: str) -> str:
    """The first plausible e-mail address in ``text`` ("" if none)."""
    return next((m for m in _EMAIL_FIND.findall(text) if valid_email(m)), "")


def find_phone(text: str) -> str:
    """The first plausible phone number in ``text`` ("" if none): national numbers start with 0, others
    with + or 00, or have at least 9 digits; dates and times are not numbers."""
    for found in _PHONE_FIND.finditer(_EMAIL_FIND.sub(" ", text)):
        candidate = found.group(0).strip(" -/(.")
        digits = phone_digits(candidate)
        if _DATE_LIKE.match(candidate) or not valid_phone(candidate):
            continue
        if candidate.startswith(("+", "0")) or len(digits.lstrip("+")) >= 9:
            return candidate
    return ""


def _name_words(words: list[str], *, loose: bool) -> str:
    picked = []
    for word in words:
        if fold(word) in _NOT_NAME or len(word) < 2:
            break
        if not loose and not word[0].isupper():
            break
        picked.append(word)
        if len(picked) == 3:
            break
    return " ".join(picked)


def find_name(text: str, *, loose: bool = False, min_words: int = 2) -> str:
    """The visitor's name: after "ich heiße", "my name is", "adım", "nazywam się" … (capitalised words);
    with ``loose`` (the assistant just asked for a name) also a message that is only ``min_words`` to 3 name
    words besides a phone number or e-mail address ("Max Muster, 0171 2345678"). Two words by default: a
    single word is more likely a service or a reply ("Ölwechsel", "Morgen") unless only the name was asked."""
    cleaned = _EMAIL_FIND.sub(" ", text)
    phone = find_phone(cleaned)
    if phone:
        cleaned = cleaned.replace(phone, " ")
    intro = _NAME_INTRO.search(cleaned)
    if intro:
        name = _name_words(_NAME_WORD.findall(cleaned[intro.end() :]), loose=loose)
        if name:
            return name
    if not loose:
        return ""
    if detect_intents(cleaned) - {Intent.GREETING, Intent.THANKS} or re.search(r"\d", cleaned):
        return ""
    words = [w for w in _NAME_WORD.findall(cleaned) if fold(w) not in _NOT_NAME]
    return " ".join(words) if max(1, min_words) <= len(words) <= 3 and all(len(w) >= 2 for w in words) else ""


def extract_contact(text: str, *, expect_name: bool = False, min_words: int = 2) -> Contact:
    """Phone, e-mail and name found in one visitor message (empty fields when absent); ``expect_name`` and
    ``min_words`` as for :func:`find_name`."""
    name = find_name(text, loose=expect_name, min_words=min_words)
    return Contact(name=name, phone=find_phone(text), email=find_email(text))
