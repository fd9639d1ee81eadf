"""The SSE parser: spec rules, and identical results however the bytes are split into chunks."""

from __future__ import annotations

import pytest

from app.chat.llm.sse import SseEvent, SseParser, iter_sse, iter_sse_lines

STREAM = (
    ": keep-alive comment\n"
    "event: message_start\n"
    'data: {"a": 1}\n'
    "\n"
    "data: first line\n"
    "data:second line\n"
    "data\n"
    "id: 7\n"
    "retry: 1500\n"
    "\n"
    "event: ping\n"
    "\n"
    "data: Öl – 89,00 €\n"
    "\n"
)
EXPECTED = [
    SseEvent("message_start", '{"a": 1}'),
    SseEvent("message", "first line\nsecond line\n", id="7", retry=1500),
    # "event: ping" without data dispatches nothing, and the type does not leak into the next event
    SseEvent("message", "Öl – 89,00 €", id="7", retry=1500),
]


def test_spec_rules_in_one_chunk() -> None:
    assert list(iter_sse([STREAM.encode()])) == EXPECTED


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(ending: str) -> None:
    assert list(iter_sse([STREAM.replace("\n", ending).encode()])) == EXPECTED


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_split_point_gives_the_same_events(ending: str) -> None:
    raw = STREAM.replace("\n", ending).encode()  # "€" and "Ö" are multi-byte: splits fall inside them too
    for cut in range(1, len(raw)):
        assert list(iter_sse([raw[:cut], raw[cut:]])) == EXPECTED, cut
    assert list(iter_sse([raw[i : i + 1] for i in range(len(raw))])) == EXPECTED


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    parser = SseParser()
    assert parser.feed(b"data: x\r") == []
    assert parser.feed(b"") == []  # an empty read in between changes nothing
    assert parser.feed(b"\n") == []  # the LF completes the CRLF: not a blank line
    assert parser.feed(b"\r\n") == [SseEvent("message", "x")]


def test_unfinished_event_at_the_end_is_dropped() -> None:
    assert list(iter_sse([b"data: complete\n\ndata: half"])) == [SseEvent("message", "complete")]
    assert list(iter_sse([b"data: no blank line\n"])) == []


def test_byte_order_mark_and_openai_done() -> None:
    events = list(iter_sse(["\ufeffdata: {}\n\n".encode(), b"data: [DONE]\n\n"]))
    assert [e.data for e in events] == ["{}", "[DONE]"]


def test_lines_without_endings() -> None:
    lines = STREAM.split("\n")
    assert list(iter_sse_lines(lines)) == EXPECTED
