"""The assistants' tools: a strict allow-list, their JSON schemas, and the executor that checks every call.

Only four tools exist (OWASP LLM06, excessive agency): search the public catalogue, find free slots,
request a *pending* appointment (staff confirm it in the calendar) and hand the conversation to staff.
No tool reads customers, vehicles, invoices or other conversations. The executor binds the conversation
id itself — ids never come from a model's arguments — validates the arguments against the schema
(types, required and unknown fields, lengths), re-checks service codes and slots against the public
profile, and allows at most :data:`MAX_TOOL_CALLS_PER_TURN` calls per answer. A rejected call does
nothing and returns ``ok=False`` with an error code and a message in the visitor's language.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.calendar_rules import WORKSHOP_TZ
from app.chat.conversation import Contact, normalise_language, valid_email, valid_phone
from app.chat.intents import ServiceIndex
from app.chat.profile import PublicProfile, PublicService
from app.chat.slots import offer_slots, slot_problem
from app.chat.texts import format_price_from, format_when, text
from app.errors import ConflictError

log = logging.getLogger(__name__)

TOOL_NAMES = ("search_services", "find_free_slots", "request_appointment", "handoff_to_staff")
MAX_TOOL_CALLS_PER_TURN = 3
SEARCH_LIMIT = 8
SLOT_LIMIT = 5


@dataclass(frozen=True)
class ToolDefinition:
    """One tool as a model sees it: name, English description and a strict JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool = True

    def as_openai(self) -> dict[str, Any]:
        """The Chat Completions form ``{"type": "function", "function": {…}}``."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
                "strict": self.strict,
            },
        }

    def as_anthropic(self) -> dict[str, Any]:
        """The Anthropic Messages form ``{"name", "description", "input_schema"}``."""
        return {"name": self.name, "description": self.description, "input_schema": copy.deepcopy(self.parameters)}


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    # strict mode: every property required (optional ones are nullable), nothing else allowed
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _string(description: str, max_length: int, *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "description": description, "maxLength": max_length}


_CODE = "Catalogue code of the service, exactly as returned by search_services (e.g. OE-0011)."
TOOL_DEFINITIONS: tuple[ToolDefinition, ...] = (
    ToolDefinition(
        "search_services",
        "Search the workshop's public service catalogue. Returns matching services with code, German name, "
        "'from' price incl. VAT in EUR and duration in minutes.",
        _obj({"query": _string("What the customer asks for, in their words (any language).", 200)}),
    ),
    ToolDefinition(
        "find_free_slots",
        "Find free appointment slots for one service (workshop local time, Europe/Berlin).",
        _obj(
            {
                "service_code": _string(_CODE, 20),
                "date_from": _string(
                    "Earliest day as YYYY-MM-DD, or null for the next possible day.", 10, nullable=True
                ),
            }
        ),
    ),
    ToolDefinition(
        "request_appointment",
        "Request a PENDING appointment for a slot returned by find_free_slots; the workshop confirms it later. "
        "Needs the customer's name and a phone number or e-mail address they gave in this conversation.",
        _obj(
            {
                "service_code": _string(_CODE, 20),
                "start": _string("Slot start as YYYY-MM-DDTHH:MM (workshop local time).", 25),
                "contact": _obj(
                    {
                        "name": _string("Customer's name.", 200),
                        "phone": _string("Phone number, or null.", 200, nullable=True),
                        "email": _string("E-mail address, or null.", 200, nullable=True),
                        "vehicle": _string("Vehicle (make, model), or null.", 200, nullable=True),
                    }
                ),
                "note": _string("Short description of the concern, or null.", 500, nullable=True),
            }
        ),
    ),
    ToolDefinition(
        "handoff_to_staff",
        "Hand the conversation to a member of staff (the assistant then stops answering).",
        _obj({"reason": _string("Why a person should take over, in a few words.", 200)}),
    ),
)
_BY_NAME = {d.name: d for d in TOOL_DEFINITIONS}


def tool_definitions(profile: PublicProfile | None = None, *, enum_limit: int = 200) -> tuple[ToolDefinition, ...]:
    """The tool definitions; with a ``profile`` of at most ``enum_limit`` services, ``service_code`` is
    restricted to the profile's codes by an ``enum`` (a large catalogue would cost too many tokens; the
    executor checks the codes either way)."""
    if profile is None or not profile.services or len(profile.services) > enum_limit:
        return TOOL_DEFINITIONS
    codes = [s.code for s in profile.services]
    result = []
    for definition in TOOL_DEFINITIONS:
        params = copy.deepcopy(definition.parameters)
        if "service_code" in params["properties"]:
            params["properties"]["service_code"]["enum"] = codes
        result.append(ToolDefinition(definition.name, definition.description, params, definition.strict))
    return tuple(result)


_TYPE_CHECKS: dict[str, Any] = {
    "object": lambda v: isinstance(v, Mapping),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def schema_error(schema: Mapping[str, Any], value: Any, path: str = "arguments") -> str | None:
    """The first violation of ``schema`` (the subset the tools use: type, properties, required,
    additionalProperties, maxLength, enum) by ``value``, as "path: problem"; None if it conforms."""
    types = schema.get("type", "object")
    types = [types] if isinstance(types, str) else list(types)
    if not any(_TYPE_CHECKS[t](value) for t in types):
        return f"{path}: expected {' or '.join(types)}"
    if isinstance(value, Mapping):
        return _object_error(schema, value, path)
    if isinstance(value, str) and len(value) > schema.get("maxLength", 10_000):
        return f"{path}: too long"
    if isinstance(value, str) and "enum" in schema and value not in schema["enum"]:
        return f"{path}: not allowed"
    return None


def _object_error(schema: Mapping[str, Any], value: Mapping[str, Any], path: str) -> str | None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = sorted(str(k) for k in value if k not in properties)
    if extra and schema.get("additionalProperties") is False:
        return f"{path}: unknown field {extra[0]}"
    missing = [key for key in schema.get("required", ()) if key not in value]
    if missing:
        return f"{path}: missing field {missing[0]}"
    problems = (schema_error(sub, value[key], f"{path}.{key}") for key, sub in properties.items() if key in value)
    return next((p for p in problems if p), None)


@dataclass(frozen=True)
class BookingRequest:
    """An appointment a visitor asked for; becomes a *pending* appointment that staff confirm."""

    service_code: str
    start: dt.datetime  # naive local wall-clock time (Europe/Berlin)
    end: dt.datetime
    contact: Contact
    note: str = ""


class BookingSink(Protocol):
    """Where the executor's actions go (desktop: pending appointment + server; server: chat_booking rows)."""

    def request_appointment(self, conversation_id: str, request: BookingRequest) -> str:
        """Record the request; returns a reference id shown to the visitor."""
        ...

    def handoff(self, conversation_id: str, reason: str) -> None:
        """Hand the conversation to staff (status ``waiting_staff``)."""
        ...


@dataclass(frozen=True)
class ToolResult:
    """A tool's answer: JSON-able ``content``; on failure ``{"error": code, "message": text}``."""

    ok: bool
    content: dict[str, Any] = field(default_factory=dict)


class ToolExecutor:
    """Runs the allowed tools for one answer of one conversation, checking everything first."""

    def __init__(
        self,
        profile: PublicProfile,
        sink: BookingSink,
        *,
        conversation_id: str,
        language: str,
        now_local: dt.datetime,
        contact: Contact | None = None,
    ) -> None:
        self.profile = profile
        self.conversation_id = conversation_id
        self.language = normalise_language(language)
        self.now_local = now_local.astimezone(WORKSHOP_TZ).replace(tzinfo=None) if now_local.tzinfo else now_local
        self.contact = contact  # known from the lead form; fills blanks of a request's contact
        self.calls: list[tuple[str, bool]] = []
        self.booking_ref: str | None = None
        self.handed_off = False
        self._sink = sink
        self._index: ServiceIndex | None = None

    def execute(self, name: str, arguments: Mapping[str, Any] | str) -> ToolResult:
        """Run tool ``name`` with ``arguments`` (a mapping or a JSON string) if every check passes."""
        try:
            result = self._run(name, arguments)
        except _Rejected as rejected:
            message = text(f"err_{rejected.code}", self.language, **rejected.params)
            result = ToolResult(False, {"error": rejected.code, "message": message})
        self.calls.append((name if name in TOOL_NAMES else f"?{name[:40]}", result.ok))
        return result

    def _run(self, name: str, arguments: Mapping[str, Any] | str) -> ToolResult:
        if len(self.calls) >= MAX_TOOL_CALLS_PER_TURN:
            raise _Rejected("too_many_calls")
        definition = _BY_NAME.get(name)
        if definition is None:
            raise _Rejected("unknown_tool")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except ValueError:
                raise _Rejected("invalid_arguments", detail="invalid JSON") from None
        problem = schema_error(definition.parameters, arguments)
        if problem:
            raise _Rejected("invalid_arguments", detail=problem)
        args = dict(arguments) if isinstance(arguments, Mapping) else {}
        handlers = {
            "search_services": lambda: self._search(args["query"]),
            "find_free_slots": lambda: self._slots(args["service_code"], args["date_from"]),
            "request_appointment": lambda: self._request(args),
            "handoff_to_staff": lambda: self._handoff(args["reason"]),
        }
        return handlers[name]()

    def _service(self, code: str) -> PublicService:
        service = self.profile.service(code.strip())
        if service is None:
            raise _Rejected("unknown_service", code=code[:20])
        return service

    def _public(self, service: PublicService) -> dict[str, Any]:
        return {
            "code": service.code,
            "name": service.name,
            "category": service.category,
            "price_from_eur": str(service.price_from_gross),
            "price_text": format_price_from(service.price_from_gross, self.language),
            "duration_minutes": service.duration_minutes,
        }

    def _search(self, query: str) -> ToolResult:
        if self._index is None:
            self._index = ServiceIndex(self.profile.services)
        found = self._index.search(query, limit=SEARCH_LIMIT)
        return ToolResult(True, {"services": [self._public(m.service) for m in found]})

    def _slot(self, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
        return {
            "start": start.isoformat(timespec="minutes"),
            "end": end.isoformat(timespec="minutes"),
            "label": format_when(start, self.language),
        }

    def _slots(self, code: str, date_from: str | None) -> ToolResult:
        service = self._service(code)
        day = None
        if date_from:
            try:
                day = dt.date.fromisoformat(date_from)
            except ValueError:
                raise _Rejected("invalid_arguments", detail="arguments.date_from: expected YYYY-MM-DD") from None
        offers = offer_slots(
            self.profile,
            duration_minutes=service.duration_minutes,
            now_local=self.now_local,
            date_from=day,
            limit=SLOT_LIMIT,
        )
        slots = [self._slot(o.start, o.end) for o in offers]
        return ToolResult(True, {"service": self._public(service), "slots": slots})

    def _request(self, args: dict[str, Any]) -> ToolResult:
        if self.booking_ref is not None:
            raise _Rejected("already_requested")
        service = self._service(args["service_code"])
        start = self._start(args["start"])
        end = start + dt.timedelta(minutes=service.duration_minutes)
        problem = slot_problem(self.profile, start, end, now_local=self.now_local)
        if problem:
            raise _Rejected(problem)
        contact = self._checked_contact(args["contact"], service)
        request = BookingRequest(service.code, start, end, contact, (args["note"] or "").strip())
        try:
            reference = self._sink.request_appointment(self.conversation_id, request)
        except ConflictError:
            raise _Rejected("slot_unavailable") from None
        except Exception:  # the visitor gets a polite retry; the cause goes to the log
            log.exception("chat booking request failed for conversation %s", self.conversation_id)
            raise _Rejected("failed") from None
        self.booking_ref = reference
        content = {"reference": reference, "status": "pending", "service": self._public(service)}
        return ToolResult(True, content | self._slot(start, end))

    @staticmethod
    def _start(value: str) -> dt.datetime:
        try:
            start = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Rejected("invalid_time", value=value[:25]) from None
        return start.astimezone(WORKSHOP_TZ).replace(tzinfo=None) if start.tzinfo else start

    def _checked_contact(self, raw: Mapping[str, Any], service: PublicService) -> Contact:
        contact = Contact(
            name=raw["name"].strip(),
            phone=(raw["phone"] or "").strip(),
            email=(raw["email"] or "").strip(),
            vehicle=(raw["vehicle"] or "").strip(),
            concern=service.name,
        ).merged(self.contact)
        if contact.phone and not valid_phone(contact.phone):
            raise _Rejected("invalid_phone", value=contact.phone[:40])
        if contact.email and not valid_email(contact.email):
            raise _Rejected("invalid_email", value=contact.email[:80])
        if not contact.bookable:
            raise _Rejected("contact_missing")
        return contact

    def _handoff(self, reason: str) -> ToolResult:
        try:
            self._sink.handoff(self.conversation_id, reason.strip()[:200])
        except Exception:  # as above: never crash the answer, but never pretend it worked
            log.exception("chat handoff failed for conversation %s", self.conversation_id)
            raise _Rejected("failed") from None
        self.handed_off = True
        return ToolResult(True, {"status": "waiting_staff"})


class _Rejected(Exception):
    """A tool call that must not run: the error code (``err_<code>`` in texts) and its placeholders."""

    def __init__(self, error: str, /, **params: object) -> None:
        super().__init__(error)
        self.code = error
        self.params = params
