"""The tool allow-list and its executor: every malformed, forged or disallowed call is refused and does nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from app.chat.conversation import Contact
from app.chat.tools import (
    MAX_TOOL_CALLS_PER_TURN,
    TOOL_DEFINITIONS,
    TOOL_NAMES,
    BookingRequest,
    ToolExecutor,
    tool_definitions,
)
from app.errors import ConflictError
from tests.app.chat.support import NOW, RecordingSink, small_profile

CONVERSATION = "conv-A"


def _executor(sink: RecordingSink, *, language: str = "de", contact: Contact | None = None) -> ToolExecutor:
    return ToolExecutor(
        small_profile(), sink, conversation_id=CONVERSATION, language=language, now_local=NOW, contact=contact
    )


def _booking(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "service_code": "OE-0001",
        "start": "2026-03-12T08:00",
        "contact": {"name": "Max Muster", "phone": "0171 2345678", "email": None, "vehicle": "VW Golf"},
        "note": "Öl tropft",
    }
    args.update(changes)
    return args


def test_the_allow_list_has_exactly_four_strict_tools() -> None:
    assert tuple(d.name for d in TOOL_DEFINITIONS) == TOOL_NAMES
    assert TOOL_NAMES == ("search_services", "find_free_slots", "request_appointment", "handoff_to_staff")

    def strict(schema: dict[str, Any]) -> None:
        assert schema["additionalProperties"] is False
        assert sorted(schema["required"]) == sorted(schema["properties"])
        for sub in schema["properties"].values():
            if sub["type"] == "object":
                strict(sub)

    for definition in TOOL_DEFINITIONS:
        assert definition.strict
        strict(definition.parameters)
        assert not {"conversation_id", "customer_id", "location_id"} & set(definition.parameters["properties"])
        openai = definition.as_openai()
        assert openai["type"] == "function"
        assert openai["function"]["name"] == definition.name
        assert openai["function"]["strict"] is True
        assert definition.as_anthropic()["input_schema"] == definition.parameters
    json.dumps([d.as_openai() for d in TOOL_DEFINITIONS])


def test_tool_definitions_restrict_codes_to_the_profile() -> None:
    definitions = {d.name: d for d in tool_definitions(small_profile())}
    code = definitions["request_appointment"].parameters["properties"]["service_code"]
    assert code["enum"] == ["OE-0001", "IN-0001"]
    assert "enum" not in TOOL_DEFINITIONS[2].parameters["properties"]["service_code"]  # constants untouched
    assert tool_definitions(small_profile(), enum_limit=1) == TOOL_DEFINITIONS


def test_a_valid_request_goes_to_the_sink_with_the_bound_conversation_id(sink: RecordingSink) -> None:
    executor = _executor(sink)
    result = executor.execute("request_appointment", json.dumps(_booking()))
    assert result.ok
    assert result.content["reference"] == "REF-1"
    assert result.content["status"] == "pending"
    assert result.content["start"] == "2026-03-12T08:00"
    assert sink.requests == [
        (
            CONVERSATION,
            BookingRequest(
                service_code="OE-0001",
                start=dt.datetime(2026, 3, 12, 8, 0),
                end=dt.datetime(2026, 3, 12, 8, 30),
                contact=Contact(
                    name="Max Muster", phone="0171 2345678", vehicle="VW Golf", concern="Ölwechsel-Paket 5W-30"
                ),
                note="Öl tropft",
            ),
        )
    ]
    assert executor.booking_ref == "REF-1"
    assert executor.calls == [("request_appointment", True)]


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("delete_customer", {"id": 1}, "unknown_tool"),
        ("list_appointments", {}, "unknown_tool"),
        ("request_appointment", "{not json", "invalid_arguments"),
        ("request_appointment", "[1, 2]", "invalid_arguments"),
        ("request_appointment", _booking(conversation_id="conv-B"), "invalid_arguments"),
        ("request_appointment", _booking(customer_id=17), "invalid_arguments"),
        (
            "request_appointment",
            _booking(contact={"name": "M", "phone": "0171 2345678", "email": None, "vehicle": None, "customer_id": 5}),
            "invalid_arguments",
        ),  # fmt: skip
        ("request_appointment", {"service_code": "OE-0001", "start": "2026-03-12T08:00"}, "invalid_arguments"),
        ("request_appointment", _booking(start=1773302400), "invalid_arguments"),
        ("request_appointment", _booking(note="x" * 501), "invalid_arguments"),
        ("request_appointment", _booking(service_code="XX-0001"), "unknown_service"),
        ("request_appointment", _booking(start="morgen früh"), "invalid_time"),
        ("request_appointment", _booking(start="2026-03-12T15:00"), "slot_unavailable"),  # booked
        ("request_appointment", _booking(start="2026-03-12T08:07"), "slot_unavailable"),  # off the grid
        ("request_appointment", _booking(start="2026-03-14T09:00"), "slot_unavailable"),  # Saturday: closed
        ("request_appointment", _booking(start="2026-03-11T08:00"), "slot_past"),
        (
            "request_appointment",
            _booking(contact={"name": "Max", "phone": None, "email": None, "vehicle": None}),
            "contact_missing",
        ),  # fmt: skip
        (
            "request_appointment",
            _booking(contact={"name": " ", "phone": "0171 2345678", "email": None, "vehicle": None}),
            "contact_missing",
        ),  # fmt: skip
        (
            "request_appointment",
            _booking(contact={"name": "Max", "phone": "ruf an", "email": None, "vehicle": None}),
            "invalid_phone",
        ),  # fmt: skip
        (
            "request_appointment",
            _booking(contact={"name": "Max", "phone": None, "email": "max@", "vehicle": None}),
            "invalid_email",
        ),  # fmt: skip
        ("find_free_slots", {"service_code": "XX-0001", "date_from": None}, "unknown_service"),
        ("find_free_slots", {"service_code": "OE-0001", "date_from": "12.03.2026"}, "invalid_arguments"),
        ("find_free_slots", {"service_code": "OE-0001"}, "invalid_arguments"),
        ("search_services", {"query": 42}, "invalid_arguments"),
        ("handoff_to_staff", {"reason": "x", "conversation_id": "conv-B"}, "invalid_arguments"),
    ],
)
def test_invalid_calls_are_refused_and_do_nothing(
    sink: RecordingSink, name: str, arguments: dict[str, Any] | str, error: str
) -> None:
    executor = _executor(sink)
    result = executor.execute(name, arguments)
    assert not result.ok
    assert result.content["error"] == error
    assert result.content["message"]
    assert sink.requests == [] and sink.handoffs == []
    assert executor.calls == [(name if name in TOOL_NAMES else f"?{name}", False)]
    assert executor.booking_ref is None and not executor.handed_off


def test_more_than_three_calls_per_turn_are_refused(sink: RecordingSink) -> None:
    executor = _executor(sink)
    for _ in range(MAX_TOOL_CALLS_PER_TURN):
        assert executor.execute("search_services", {"query": "Öl"}).ok
    refused = executor.execute("handoff_to_staff", {"reason": "bitte"})
    assert not refused.ok
    assert refused.content["error"] == "too_many_calls"
    assert sink.handoffs == []
    assert executor.calls[-1] == ("handoff_to_staff", False)


def test_failed_calls_count_towards_the_limit(sink: RecordingSink) -> None:
    executor = _executor(sink)
    for _ in range(MAX_TOOL_CALLS_PER_TURN):
        executor.execute("drop_tables", {})
    assert executor.execute("request_appointment", _booking()).content["error"] == "too_many_calls"
    assert sink.requests == []


def test_only_one_appointment_per_turn(sink: RecordingSink) -> None:
    executor = _executor(sink)
    assert executor.execute("request_appointment", _booking()).ok
    second = executor.execute("request_appointment", _booking(start="2026-03-12T09:00"))
    assert second.content["error"] == "already_requested"
    assert len(sink.requests) == 1


def test_known_contact_from_the_lead_form_fills_blanks(sink: RecordingSink) -> None:
    executor = _executor(sink, contact=Contact(name="Form Name", email="form@example.com", vehicle="Audi A4"))
    args = _booking(contact={"name": "Max Muster", "phone": None, "email": None, "vehicle": None})
    assert executor.execute("request_appointment", args).ok
    contact = sink.requests[0][1].contact
    assert (contact.name, contact.email, contact.vehicle) == ("Max Muster", "form@example.com", "Audi A4")


def test_sink_conflict_and_failure_are_reported_not_raised(sink: RecordingSink) -> None:
    sink.fail_with = ConflictError("Bühne belegt")
    assert _executor(sink).execute("request_appointment", _booking()).content["error"] == "slot_unavailable"
    sink.fail_with = RuntimeError("server down")
    executor = _executor(sink)
    assert executor.execute("request_appointment", _booking()).content["error"] == "failed"
    assert executor.execute("handoff_to_staff", {"reason": "x"}).content["error"] == "failed"
    assert executor.booking_ref is None and not executor.handed_off


def test_error_messages_are_in_the_visitors_language(sink: RecordingSink) -> None:
    args = _booking(service_code="XX-0001")
    assert _executor(sink, language="de").execute("request_appointment", args).content["message"] == (
        "Die Leistung „XX-0001“ gibt es nicht."
    )
    assert _executor(sink, language="tr").execute("request_appointment", args).content["message"] == (
        "“XX-0001” hizmeti mevcut değil."
    )
    assert _executor(sink, language="pl").execute("request_appointment", args).content["message"] == (
        "Usługa „XX-0001” nie istnieje."
    )
    assert "does not exist" in _executor(sink, language="en-GB").execute("request_appointment", args).content["message"]


def test_search_services_returns_public_fields_only(sink: RecordingSink) -> None:
    result = _executor(sink, language="en").execute("search_services", {"query": "oil change"})
    assert result.ok
    assert result.content["services"] == [
        {
            "code": "OE-0001",
            "name": "Ölwechsel-Paket 5W-30",
            "category": "Ölservice",
            "price_from_eur": "105.91",
            "price_text": "from €105.91",
            "duration_minutes": 30,
        }
    ]


def test_find_free_slots_lists_bookable_slots(sink: RecordingSink) -> None:
    executor = _executor(sink)
    result = executor.execute("find_free_slots", {"service_code": "IN-0001", "date_from": "2026-03-12"})
    assert result.ok
    slots = result.content["slots"]
    assert slots[0] == {
        "start": "2026-03-12T07:30",
        "end": "2026-03-12T09:00",
        "label": "Donnerstag, 12.03.2026, 07:30 Uhr",
    }
    assert {s["start"] for s in slots} <= {f"2026-03-12T{t}" for t in ("07:30", "07:45", "08:00", "08:15", "08:30",
                                                                        "08:45", "09:00", "09:15", "09:30", "09:45",
                                                                        "10:00", "10:15", "10:30", "13:00", "13:15",
                                                                        "13:30")}  # fmt: skip
    # every slot it offers can really be requested
    booking = _booking(service_code="IN-0001", start=slots[-1]["start"])
    assert executor.execute("request_appointment", booking).ok


def test_handoff_goes_to_the_sink_for_the_bound_conversation(sink: RecordingSink) -> None:
    executor = _executor(sink)
    result = executor.execute("handoff_to_staff", {"reason": "  Kunde möchte einen Menschen  "})
    assert result.ok and result.content == {"status": "waiting_staff"}
    assert sink.handoffs == [(CONVERSATION, "Kunde möchte einen Menschen")]
    assert executor.handed_off


def test_aware_times_are_taken_as_workshop_time(sink: RecordingSink) -> None:
    executor = ToolExecutor(
        small_profile(),
        sink,
        conversation_id=CONVERSATION,
        language="de",
        now_local=dt.datetime(2026, 3, 11, 8, 7, tzinfo=dt.UTC),
    )
    assert executor.now_local == NOW
    assert executor.execute("request_appointment", _booking(start="2026-03-12T07:00:00+00:00")).ok
    assert sink.requests[0][1].start == dt.datetime(2026, 3, 12, 8, 0)
