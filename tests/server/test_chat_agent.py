"""Who answers: the desktop agent's lease, the server's built-in assistant as fallback, staff takeover.

Time is the app's fake clock: a claim timeout or a lease only runs out when a test moves the clock and
wakes the responder, so "nobody answered" is checked deterministically.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient

from app.chat.assistant import AssistantReply
from sync.protocol_chat import ChatStatus
from sync.server.chat import service
from tests.server.chat_support import (
    Visitor,
    Workshop,
    authors,
    page,
    sample_profile,
    say,
    setup_workshop,
    start_visitor,
    wait_for_author,
    wait_until,
)
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock
from tests.server.plan_support import add_location, grant_plan, register_device


def _tasks(api: TestClient, shop: Workshop, wait: float = 0) -> dict[str, Any]:
    response = api.get("/v1/chat/agent/tasks", params={"wait": wait}, headers=shop.device.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _answer(api: TestClient, shop: Workshop, visitor: Visitor, text: str, reply_to_seq: int | None,
            client_id: str | None = None, headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    body = {"client_id": client_id or str(uuid.uuid4()), "author": "bot", "text": text, "reply_to_seq": reply_to_seq}
    return api.post(f"/v1/chat/conversations/{visitor.conversation_id}/messages", json=body,
                    headers=headers or shop.device.headers)  # fmt: skip


def _settle(api: TestClient) -> None:
    """Let the responder look for due tasks (and do nothing if none are due)."""
    api.app.state.chat.responder.wake()  # type: ignore[attr-defined]
    time.sleep(0.4)


def test_the_desktop_agent_leases_the_task_and_answers(api: TestClient):
    shop = setup_workshop(api, profile=sample_profile(api.app.state.ctx.clock()))  # type: ignore[attr-defined]
    assert _tasks(api, shop) == {"tasks": [], "lead_limit_reached": False}  # the agent is present from now on
    visitor = start_visitor(api, shop.key)
    polled: dict[str, Any] = {}
    poller = threading.Thread(target=lambda: polled.update(_tasks(api, shop, wait=10)))
    started = time.monotonic()
    poller.start()
    time.sleep(0.3)  # the long poll is waiting now
    say(api, visitor, "Hallo, wann haben Sie geöffnet?")
    poller.join(15)
    assert time.monotonic() - started < 5, "the long poll was not woken"
    (task,) = polled["tasks"]
    assert task["reply_to_seq"] == 1 and task["conversation"]["id"] == visitor.conversation_id
    assert [m["text"] for m in task["messages"]] == ["Hallo, wann haben Sie geöffnet?"]
    _settle(api)
    assert authors(api, visitor) == ["visitor"]  # leased: the server keeps quiet
    assert _tasks(api, shop)["tasks"] == []  # and nobody else gets it
    draft = api.post(f"/v1/chat/conversations/{visitor.conversation_id}/draft",
                     json={"reply_to_seq": 1, "text": "Wir haben"}, headers=shop.device.headers)  # fmt: skip
    assert draft.status_code == 204
    assert _answer(api, shop, visitor, "Ohne reply_to_seq", None).status_code == 422
    assert _answer(api, shop, visitor, "Als Inhaber", 1, headers=shop.tenant.headers).status_code == 403
    client_id = str(uuid.uuid4())
    sent = _answer(api, shop, visitor, "Montag bis Freitag 8 bis 17 Uhr.", 1, client_id)
    assert sent.status_code == 201 and sent.json()["author"] == "bot" and sent.json()["seq"] == 2
    assert _answer(api, shop, visitor, "Montag bis Freitag 8 bis 17 Uhr.", 1, client_id).json() == sent.json()
    twice = _answer(api, shop, visitor, "Noch eine Antwort", 1)
    assert twice.status_code == 409 and twice.json()["code"] == "bot_muted"
    assert authors(api, visitor) == ["visitor", "bot"]


def test_the_server_answers_itself_when_no_desktop_is_there(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    visitor = start_visitor(api, shop.key)
    say(api, visitor, "Was kostet ein Ölwechsel?")
    answer = wait_for_author(api, visitor, "bot")
    assert "ab 89,00 €" in answer["text"] and answer["quick_replies"]
    english = start_visitor(api, shop.key, language="en")
    say(api, english, "How much is an oil change?")
    assert "€89.00" in wait_for_author(api, english, "bot")["text"]
    # Without a public profile the server cannot answer: a notice, and staff take over.
    bare = setup_workshop(api, name="Werkstatt ohne Profil")
    lonely = start_visitor(api, bare.key)
    say(api, lonely, "Hallo?")
    assert "Telefonnummer oder E-Mail-Adresse" in wait_for_author(api, lonely, "system")["text"]
    assert page(api, lonely)["status"] == "waiting_staff"


def test_the_server_steps_in_when_the_agent_does_not_claim_or_answer_in_time(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    _tasks(api, shop)  # present, but it will not poll again in time
    unclaimed = start_visitor(api, shop.key)
    say(api, unclaimed, "Was kostet ein Ölwechsel?")
    _settle(api)
    assert authors(api, unclaimed) == ["visitor"]  # the agent has chat_agent_claim_seconds to take it
    clock.advance(seconds=4)
    api.app.state.chat.responder.wake()  # type: ignore[attr-defined]
    assert "89,00" in wait_for_author(api, unclaimed, "bot")["text"]
    stalled = start_visitor(api, shop.key)
    say(api, stalled, "Was kostet HU/AU?")
    (task,) = _tasks(api, shop)["tasks"]
    clock.advance(seconds=10)
    _settle(api)
    assert authors(api, stalled) == ["visitor"]  # the lease (20 s) still runs
    clock.advance(seconds=11)
    api.app.state.chat.responder.wake()  # type: ignore[attr-defined]
    assert "139,00" in wait_for_author(api, stalled, "bot")["text"]
    late = _answer(api, shop, stalled, "Zu spät", task["reply_to_seq"])
    assert late.status_code == 409 and late.json()["code"] == "bot_muted"


def test_staff_takeover_mutes_the_bot(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    _tasks(api, shop)
    visitor = start_visitor(api, shop.key)
    say(api, visitor, "Mein Auto macht komische Geräusche.")
    (task,) = _tasks(api, shop)["tasks"]
    staff = api.post(f"/v1/chat/conversations/{visitor.conversation_id}/messages",
                     json={"client_id": str(uuid.uuid4()), "author": "staff", "text": "Hier ist Herr Berger."},
                     headers=shop.tenant.headers)  # fmt: skip
    assert staff.status_code == 201 and page(api, visitor)["status"] == "staff"
    draft = api.post(f"/v1/chat/conversations/{visitor.conversation_id}/draft",
                     json={"reply_to_seq": task["reply_to_seq"], "text": "Das"},
                     headers=shop.device.headers)  # fmt: skip
    assert draft.status_code == 409 and draft.json()["code"] == "bot_muted"
    muted = _answer(api, shop, visitor, "Ich bin der Bot", task["reply_to_seq"])
    assert muted.status_code == 409
    say(api, visitor, "Danke, Herr Berger!")
    assert _tasks(api, shop)["tasks"] == []
    clock.advance(seconds=60)
    _settle(api)
    assert authors(api, visitor) == ["visitor", "staff", "visitor"]
    # Handing back to the bot reopens the unanswered message as a task.
    back = api.post(f"/v1/chat/conversations/{visitor.conversation_id}/status", json={"status": "bot"},
                    headers=shop.device.headers)  # fmt: skip
    assert back.status_code == 200 and back.json()["status"] == "bot"
    (reopened,) = _tasks(api, shop)["tasks"]
    assert reopened["reply_to_seq"] == 3
    taken = api.post(f"/v1/chat/conversations/{visitor.conversation_id}/status", json={"status": "staff"},
                     headers=shop.tenant.headers)  # fmt: skip
    assert taken.json()["status"] == "staff"
    assert page(api, visitor)["messages"][-1]["text"] == "Ein Mitarbeiter ist jetzt für Sie da."
    assert _answer(api, shop, visitor, "Zu spät", 3).status_code == 409


class TakeoverDuringReply:
    """An assistant during whose (slow) model call a person takes the conversation over."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def __call__(self, _profile: Any) -> TakeoverDuringReply:
        return self

    def reply(self, conversation: Any, _executor: Any, *, on_delta: Any = None) -> AssistantReply:
        if on_delta is not None:
            on_delta("Einen Moment")
        with self.runtime.ctx.db.sessions() as session:
            row = service.lock(session, conversation.id)
            self.runtime.run(session, row.organization_id,
                             lambda tx: service.set_status(tx, service.lock(tx.session, conversation.id),
                                                           ChatStatus.STAFF))  # fmt: skip
        return AssistantReply(text="Das sollte niemand lesen.")


def test_a_takeover_between_the_model_call_and_the_send_wins(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    runtime = api.app.state.chat  # type: ignore[attr-defined]
    runtime.responder.assistant_factory = TakeoverDuringReply(runtime)
    visitor = start_visitor(api, shop.key)
    say(api, visitor, "Was kostet ein Ölwechsel?")
    wait_until(lambda: page(api, visitor)["status"] == "staff", what="the takeover")
    _settle(api)
    messages = page(api, visitor)["messages"]
    assert [m["author"] for m in messages] == ["visitor", "system"]
    assert "Das sollte niemand lesen." not in str(messages)
    assert not runtime.events.live(visitor.conversation_id).typing  # switched off in finally


def test_handoffs_by_visitor_and_bot(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    visitor = start_visitor(api, shop.key)
    pressed = api.post("/v1/widget/handoff", headers=visitor.headers)
    assert pressed.status_code == 200 and pressed.json()["status"] == "waiting_staff"
    assert [m["author"] for m in pressed.json()["messages"]] == ["system"]
    say(api, visitor, "Hallo?")
    _settle(api)
    assert authors(api, visitor) == ["system", "visitor"]  # waiting for staff: no bot
    asking = start_visitor(api, shop.key)
    say(api, asking, "Ich möchte mit einem Menschen sprechen")
    answer = wait_for_author(api, asking, "bot")
    wait_until(lambda: page(api, asking)["status"] == "waiting_staff", what="the bot's handoff")
    assert answer["text"] and authors(api, asking) == ["visitor", "bot"]
    listed = api.get("/v1/chat/conversations", params={"status": "waiting_staff"}, headers=shop.tenant.headers)
    assert {c["id"] for c in listed.json()} == {visitor.conversation_id, asking.conversation_id}
    assert {c["handoff_reason"] for c in listed.json()} >= {"visitor"}


def test_bookings_and_messages_reach_the_desktop_through_the_chat_stream(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    grant_plan(api.app, shop.tenant.organization_id, "enterprise")  # type: ignore[arg-type]
    other_desk = register_device(api, shop.tenant, add_location(api, shop.tenant, "Filiale"))
    visitor = start_visitor(api, shop.key)
    for text, author_count in (("Ich möchte einen Termin für einen Ölwechsel", 2), ("1", 4),
                               ("Erika Muster, 0171 2345678", 6)):  # fmt: skip
        say(api, visitor, text)
        wait_until(lambda count=author_count: len(authors(api, visitor)) >= count, what=f"an answer to {text!r}")
    pulled = api.get("/v1/sync/pull", params={"streams": "chat"}, headers=shop.device.headers).json()
    entities = {(c["entity"], c["entity_id"]): c["data"] for c in pulled["changes"]}
    (booking,) = [data for (entity, _id), data in entities.items() if entity == "chat_booking"]
    assert booking["service_code"] == "OE-0001" and booking["contact"]["phone"] == "0171 2345678"
    assert booking["service_name"] == "Ölwechsel inkl. Filter" and booking["start"].endswith("08:00:00")
    conversation = entities[("chat_conversation", visitor.conversation_id)]
    assert conversation["is_lead"] and conversation["contact"]["name"] == "Erika Muster"
    texts = [d["text"] for (entity, _id), d in entities.items() if entity == "chat_message"]
    assert texts[0] == "Ich möchte einen Termin für einen Ölwechsel" and len(texts) == 6
    # The desktop's own assistant books through the API (idempotent by client_id).
    body = {"client_id": str(uuid.uuid4()), "service_code": "HU-0001", "start": "2026-12-01T09:00:00",
            "end": "2026-12-01T10:00:00", "contact": {"name": "Max", "email": "max@example.de"}}  # fmt: skip
    url = f"/v1/chat/conversations/{visitor.conversation_id}/bookings"
    first = api.post(url, json=body, headers=shop.device.headers)
    assert first.status_code == 201 and api.post(url, json=body, headers=shop.device.headers).json() == first.json()
    assert first.json()["client_id"] == body["client_id"] and booking["client_id"] is None  # the server's own
    assert api.post(url, json=body, headers=shop.tenant.headers).status_code == 403
    after = api.get("/v1/sync/pull", params={"streams": "chat", "since": pulled["next_since"]},
                    headers=shop.device.headers).json()  # fmt: skip
    assert [c["entity_id"] for c in after["changes"] if c["entity"] == "chat_booking"] == [first.json()["id"]]
    # The other location's desktop sees none of it; the snapshot holds the current records.
    assert api.get("/v1/sync/pull", params={"streams": "chat"}, headers=other_desk.headers).json()["changes"] == []
    snapshot = api.get("/v1/sync/snapshot", params={"streams": "chat"}, headers=shop.device.headers).json()
    assert sum(r["entity"] == "chat_booking" for r in snapshot["records"]) == 2
