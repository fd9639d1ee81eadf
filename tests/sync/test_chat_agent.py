"""The desktop's chat agent against the real hosted API under uvicorn on loopback.

The visitor side uses the widget's REST endpoints with httpx (what the iframe does); the desktop is a
registered device with the demo workshop's master data and catalogue. Covered: the agent answers a
visitor's price question from the catalogue; a staff takeover while the bot "thinks" mutes it silently;
a booking through the tools becomes a pending appointment in the desktop calendar and a lead on the
server (and the pulled copy is not booked twice); a request the desktop did not book arrives by sync
and is imported; an unreachable server makes the loop back off and retry until it answers.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.chat import AssistantReply, BuiltinAssistant, ConversationView, PublicProfile, ToolExecutor, format_price_from
from app.demo import setup_workshop
from app.services.registry import Services
from sync.chat_agent import AgentReport, ChatAgent
from sync.chat_answer import stable_id
from sync.chat_client import ChatClient
from sync.errors import SyncUnavailable
from sync.protocol_chat import BookingIn, ChatStatus, ContactDetails
from sync.server.main import create_app
from tests.server.fixtures import make_settings
from tests.sync.sync_support import Desktop, LiveServer, MemoryKeyring, make_desktop, register_org


class Switch(httpx.BaseTransport):
    """A real transport that fails like a dead network while ``online`` is False."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.online = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("Netzwerk nicht erreichbar", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Visitor:
    """A website visitor talking through the widget's REST endpoints."""

    def __init__(self, base_url: str, location_key: str, language: str = "de") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=20, headers={"Origin": "https://werkstatt.example"})
        body = {"location_key": location_key, "consent": True, "language": language}
        session = self.http.post("/v1/widget/session", json=body)
        assert session.status_code == 200, session.text
        self.conversation_id: str = session.json()["conversation_id"]
        self.http.headers["Authorization"] = f"Bearer {session.json()['token']}"

    def close(self) -> None:
        self.http.close()

    def say(self, text: str) -> int:
        sent = self.http.post("/v1/widget/messages", json={"client_id": str(uuid.uuid4()), "text": text})
        assert sent.status_code == 201, sent.text
        return int(sent.json()["seq"])

    def page(self) -> dict[str, Any]:
        response = self.http.get("/v1/widget/messages", params={"after": 0})
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    def wait_for_bot(self, after_seq: int, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found: list[dict[str, Any]] = [
                m for m in self.page()["messages"] if m["seq"] > after_seq and m["author"] == "bot"
            ]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no bot answer: {self.page()}")


class Scripted:
    """An assistant that runs ``script(conversation, executor)`` and answers with its text (like an LLM would)."""

    def __init__(self, script: Callable[[ConversationView, ToolExecutor], str]) -> None:
        self.script = script
        self.calls = 0

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        self.calls += 1
        text = self.script(conversation, executor)
        if on_delta is not None:
            on_delta(text[:10])
        return AssistantReply(text=text)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(f"sqlite:///{tmp_path / 'server.db'}", chat_agent_claim_seconds=5.0)
    with LiveServer(create_app(settings)) as server:
        yield server


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def desktop(live: LiveServer, tmp_path: Path, keyring: MemoryKeyring) -> Iterator[Desktop]:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        org = register_org(http, live.server.config.app, locations=1)
        made = make_desktop(
            tmp_path / "werkstatt.db", http, keyring, email=org["email"], location_id=org["location_ids"][0]
        )
    services = Services.for_database(made.db)
    setup_workshop(services)
    services.catalog.load_defaults()
    yield made
    made.close()


@pytest.fixture
def chat(desktop: Desktop, live: LiveServer) -> Iterator[ChatClient]:
    with ChatClient(live.url, desktop.client.credentials) as client:
        yield client


@pytest.fixture
def visitor(live: LiveServer, desktop: Desktop) -> Iterator[Callable[[], Visitor]]:
    """Makes visitors of the desktop's location (closed after the test)."""
    made: list[Visitor] = []
    with ChatClient(live.url, desktop.client.credentials) as client:
        key = client.widget_config().public_key

    def make() -> Visitor:
        made.append(Visitor(live.url, key))
        return made[-1]

    yield make
    for one in made:
        one.close()


def _agent(desktop: Desktop, chat: ChatClient, factory: Callable[[PublicProfile], Any] = BuiltinAssistant,
           **kw: Any) -> ChatAgent:  # fmt: skip
    return ChatAgent(desktop.db, chat, factory, poll_wait=1.0, **kw)


@contextmanager
def running(agent: ChatAgent) -> Iterator[list[AgentReport]]:
    """``agent.run_forever`` in a thread; yields its reports once it polled the first time."""
    reports: list[AgentReport] = []
    first = threading.Event()

    def keep(report: AgentReport) -> None:
        reports.append(report)
        first.set()

    agent.on_report = keep
    stop = threading.Event()
    thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        assert first.wait(60), "the agent never finished a round"
        yield reports
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def test_agent_answers_the_price_question_from_the_catalogue(
    desktop: Desktop, chat: ChatClient, visitor: Callable[[], Visitor]
) -> None:
    agent = _agent(desktop, chat)
    guest = visitor()
    with running(agent) as reports:
        seq = guest.say("Was kostet ein Ölwechsel?")
        answer = guest.wait_for_bot(seq)
    assert answer["client_id"] == str(stable_id(guest.conversation_id, seq, "reply"))  # the desktop answered
    named = [s for s in agent.profile().services if s.name in answer["text"]]
    assert named and "Öl" in named[0].name
    assert format_price_from(named[0].price_from_gross, "de") in answer["text"]
    assert answer["quick_replies"]
    assert sum(r.answered for r in reports) == 1 and reports[0].profile_pushed


def test_staff_takeover_mutes_the_bot_silently(
    desktop: Desktop, chat: ChatClient, visitor: Callable[[], Visitor]
) -> None:
    def takeover(conversation: ConversationView, _executor: ToolExecutor) -> str:
        chat.set_status(conversation.id, ChatStatus.STAFF, "Theke übernimmt")  # while the bot is still thinking
        return "Diese Antwort darf der Kunde nie sehen."

    agent = _agent(desktop, chat, lambda _profile: scripted)
    scripted = Scripted(takeover)
    agent.run_once(wait=0)  # present: the server leaves the task to this desktop
    guest = visitor()
    guest.say("Hallo, ist jemand da?")
    report = agent.run_once(wait=10)
    assert (report.tasks, report.muted, report.answered, report.failed) == (1, 1, 0, 0)
    page = guest.page()
    assert page["status"] == "staff"
    assert [m for m in page["messages"] if m["author"] == "bot"] == []  # (a system note of the takeover is fine)
    assert all("nie sehen" not in m["text"] for m in page["messages"])
    assert scripted.calls == 1


def _book_first_slot(conversation: ConversationView, executor: ToolExecutor) -> str:
    found = executor.execute("search_services", {"query": "Ölwechsel"})
    code = found.content["services"][0]["code"]
    slots = executor.execute("find_free_slots", {"service_code": code, "date_from": None})
    start = slots.content["slots"][0]["start"]
    booked = executor.execute("request_appointment", {
        "service_code": code, "start": start, "note": "Bitte Wischwasser auffüllen",
        "contact": {"name": "Eva Berg", "phone": "0171 2345678", "email": None, "vehicle": "VW Golf"},
    })  # fmt: skip
    assert booked.ok, booked.content
    return f"Ihr Terminwunsch ist notiert (Nr. {booked.content['reference']})."


def test_booking_is_a_pending_appointment_and_a_lead(
    desktop: Desktop, chat: ChatClient, visitor: Callable[[], Visitor]
) -> None:
    agent = _agent(desktop, chat, lambda _profile: Scripted(_book_first_slot))
    agent.run_once(wait=0)
    guest = visitor()
    seq = guest.say("Ich hätte gern einen Termin für einen Ölwechsel.")
    report = agent.run_once(wait=10)
    assert (report.answered, report.bookings, report.errors) == (1, 1, [])
    services = Services.for_database(desktop.db)
    pending = [a for a in services.appointments.between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))
               if a.source == "chat"]  # fmt: skip
    assert len(pending) == 1 and pending[0].status == "pending" and pending[0].bay_id is not None
    assert "Eva Berg" in pending[0].title and "0171 2345678" in pending[0].notes
    assert f"Nr. {pending[0].id}" in guest.wait_for_bot(seq)["text"]
    usage = chat.usage()
    assert (usage.leads, usage.conversations) == (1, 1)
    desktop.client.run_once(desktop.db)  # the inbox pulls the conversation and the server's copy of the request
    assert len([a for a in services.appointments.between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))
                if a.source == "chat"]) == 1  # fmt: skip
    inbox = services.chat.conversation(guest.conversation_id)
    assert inbox.is_lead and inbox.appointment_id == pending[0].id and inbox.booking_count == 1
    assert services.chat.bookings(guest.conversation_id)[0].imported


def test_request_taken_elsewhere_arrives_by_sync(
    desktop: Desktop, chat: ChatClient, visitor: Callable[[], Visitor]
) -> None:
    guest = visitor()
    start = dt.datetime.combine(dt.date.today() + dt.timedelta(days=7), dt.time(10, 0))
    chat.post_booking(guest.conversation_id, BookingIn(
        client_id=uuid.uuid4(), service_code="OE-0002", start=start, end=start + dt.timedelta(minutes=30),
        contact=ContactDetails(name="Jan Kurz", email="jan@example.de"), note="",
    ))  # fmt: skip
    report = desktop.client.run_once(desktop.db)
    assert report.chat_changes >= 2 and report.chat_bookings_imported == 1
    services = Services.for_database(desktop.db)
    day = [a for a in services.appointments.day(start.date()) if a.source == "chat"]
    assert len(day) == 1 and day[0].status == "pending" and day[0].start == start
    assert desktop.client.run_once(desktop.db).chat_bookings_imported == 0


def test_offline_server_backs_off_and_retries(
    desktop: Desktop, live: LiveServer, visitor: Callable[[], Visitor]
) -> None:
    switch = Switch()
    with ChatClient(live.url, desktop.client.credentials, transport=switch) as chat:
        switch.online = False
        agent = _agent(desktop, chat)
        with pytest.raises(SyncUnavailable) as info:
            agent.run_once(wait=0)
        assert "Keine Verbindung zum Server" in info.value.message
        errors: list[str] = []
        agent.on_error = errors.append
        stop = threading.Event()
        thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while len(errors) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(errors) >= 2 and thread.is_alive()
            reports: list[AgentReport] = []
            polled, answered = threading.Event(), threading.Event()

            def keep(report: AgentReport) -> None:
                reports.append(report)
                polled.set()
                if report.answered:
                    answered.set()

            agent.on_report = keep
            switch.online = True
            assert polled.wait(90), "the loop did not come back after the network returned"
            assert reports[0].profile_pushed
            guest = visitor()
            seq = guest.say("Wann haben Sie geöffnet?")
            assert answered.wait(30)
            assert guest.wait_for_bot(seq)["client_id"] == str(stable_id(guest.conversation_id, seq, "reply"))
        finally:
            stop.set()
            thread.join(30)


def test_cli_widget_and_one_agent_round(
    desktop: Desktop, keyring: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from app.cli import main
    from sync import credentials

    monkeypatch.setattr(credentials, "_system_keyring", lambda: keyring)  # the device's credentials
    monkeypatch.setenv("CARBOT_LLM_CONFIG", str(tmp_path / "kein-llm.json"))
    db = str(tmp_path / "werkstatt.db")
    assert main(["--db", db, "chat", "widget"]) == 0
    out = capsys.readouterr().out
    assert "Öffentlicher Schlüssel: wk_" in out and "<script" in out
    assert main(["--db", db, "chat", "agent", "--once", "--wait", "0"]) == 0
    assert "Werkstattdaten" in capsys.readouterr().out  # the first round uploads the public profile
