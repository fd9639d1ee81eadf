"""The in-app chat agent of the open main window against the real hosted API under uvicorn on loopback.

The desktop database is registered as a device (credentials in an in-memory keyring, the LLM settings in
a file under tmp_path); the main window runs with the real background TaskRunner and SyncController. A
visitor writes through the widget's REST endpoints, exactly as the iframe does. Proven: the DESKTOP answers
(the bot message carries the agent's deterministic ``client_id``, and the server knows the agent was
there); closing the window ends the agent thread within 3 s although a 20 s long poll is open; a booking
by the agent refreshes the calendar and, through a sync round, the Chat tab; saved LLM settings change the
status bar; with the workplace preference off no agent thread runs and the server answers itself.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app.changes import Changes
from app.chat import AssistantReply, ConversationView, ToolExecutor, build_profile, format_price_from
from app.chat.llm import config as llm_config
from app.chat.llm.config import ApiKeyStore, LlmConfig, LlmConfigStore
from app.db import Database
from app.demo import setup_workshop
from app.services.registry import Services
from sync import credentials, local
from sync.chat_answer import DrySink, local_now, stable_id
from sync.chat_client import ChatClient
from sync.server.chat.runtime import runtime_of
from sync.server.main import create_app
from tests.server.fixtures import PASSWORD, make_settings
from tests.sync.sync_support import LiveServer, MemoryKeyring, register_org
from ui.main import build_context
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.views.chat.view import ChatView
from ui.views.settings.chat_page import ChatSettingsPage
from ui.workers.chat_agent_runner import RUN_AGENT, AgentState, ChatAgentRunner

WAIT_MS = 30_000
THREAD_NAME = "carbot-chat-agent"


class Visitor:
    """A website visitor talking through the widget's REST endpoints."""

    def __init__(self, base_url: str, location_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=20, headers={"Origin": "https://werkstatt.example"})
        session = self.http.post("/v1/widget/session", json={"location_key": location_key, "consent": True,
                                                             "language": "de"})  # fmt: skip
        assert session.status_code == 200, session.text
        self.conversation_id: str = session.json()["conversation_id"]
        self.http.headers["Authorization"] = f"Bearer {session.json()['token']}"

    def say(self, text: str) -> int:
        sent = self.http.post("/v1/widget/messages", json={"client_id": str(uuid.uuid4()), "text": text})
        assert sent.status_code == 201, sent.text
        return int(sent.json()["seq"])

    def bot_answer(self, after_seq: int, timeout: float = 20.0, authors: tuple[str, ...] = ("bot",)) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page = self.http.get("/v1/widget/messages", params={"after": after_seq})
            assert page.status_code == 200, page.text
            found = [m for m in page.json()["messages"] if m["author"] in authors]
            if found:
                return dict(found[0])
            time.sleep(0.1)
        raise AssertionError("no bot answer")


class BookFirstSlot:
    """An assistant (as an LLM would act) that books the first free oil-change slot through the tools."""

    def reply(
        self, conversation: ConversationView, executor: ToolExecutor, *, on_delta: Callable[[str], None] | None = None
    ) -> AssistantReply:
        del conversation, on_delta
        code = executor.execute("search_services", {"query": "Ölwechsel"}).content["services"][0]["code"]
        start = executor.execute("find_free_slots", {"service_code": code, "date_from": None}).content["slots"][0]
        booked = executor.execute("request_appointment", {
            "service_code": code, "start": start["start"], "note": "",
            "contact": {"name": "Eva Berg", "phone": "0171 2345678", "email": None, "vehicle": "VW Golf"},
        })  # fmt: skip
        assert booked.ok, booked.content
        return AssistantReply(text=f"Ihr Terminwunsch ist notiert (Nr. {booked.content['reference']}).")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    # The server waits 5 s for the desktop to claim a task before it answers itself (default 3 s).
    settings = make_settings(f"sqlite:///{tmp_path / 'server.db'}", chat_agent_claim_seconds=5.0)
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
def keyrings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[MemoryKeyring, MemoryKeyring]:
    """Device credentials and LLM keys in memory; the LLM settings file under tmp_path (never the user's)."""
    device, llm = MemoryKeyring(), MemoryKeyring()
    monkeypatch.setattr(credentials, "_system_keyring", lambda: device)
    monkeypatch.setattr(llm_config, "_system_keyring", lambda: llm)
    monkeypatch.setenv("CARBOT_LLM_CONFIG", str(tmp_path / "chat-llm.json"))
    return device, llm


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    return shown


@pytest.fixture
def workshop(db: Database, server: LiveServer, keyrings: tuple[MemoryKeyring, MemoryKeyring]) -> str:
    """The demo workshop with its catalogue, registered as a device; returns the location id."""
    services = Services.for_database(db)
    setup_workshop(services)
    services.catalog.load_defaults()
    store = credentials.CredentialStore(f"device:{Path(str(db.path)).resolve()}", backend=keyrings[0])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        org = register_org(http, server.server.config.app, locations=1)
        reg = credentials.register_device(http, store, email=org["email"], password=PASSWORD, location=None, name="T")
    local.register(db, server_url=reg.server_url, device_id=reg.device_id, location_id=reg.location_id)
    return reg.location_id


@pytest.fixture
def prefs(tmp_path: Path) -> Prefs:
    return Prefs(tmp_path / "ui.ini")


@pytest.fixture
def open_window(qtbot: Any, db: Database, prefs: Prefs, workshop: str) -> Iterator[Callable[[], MainWindow]]:
    del workshop
    made: list[MainWindow] = []

    def make() -> MainWindow:
        win = MainWindow(prefs=prefs)
        win.attach(build_context(Services.for_database(db), prefs=prefs))  # real background runner
        win.resize(1366, 820)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        for timer in win.findChildren(QTimer):  # the closed window's views must not reload into later tests
            timer.stop()


def first_free_oil_change_day(db: Database) -> dt.date:
    """The day ``BookFirstSlot`` will book (the same tools on the same data, nothing booked)."""
    now = dt.datetime.now(dt.UTC)
    profile = build_profile(Services.for_database(db), now=now)
    tools = ToolExecutor(profile, DrySink(), conversation_id="probe", language="de", now_local=local_now(now))
    code = tools.execute("search_services", {"query": "Ölwechsel"}).content["services"][0]["code"]
    start = tools.execute("find_free_slots", {"service_code": code, "date_from": None}).content["slots"][0]["start"]
    return dt.datetime.fromisoformat(start).date()


def chat_tab(win: MainWindow) -> ChatView:
    view = win.tabs.widget(MainWindow.TAB_CHAT)
    assert isinstance(view, ChatView)
    return view


def agent_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def widget_key(win: MainWindow, server: LiveServer) -> str:
    with ChatClient(server.url, win.sync.device_session()) as chat:  # the window's one device session
        return chat.widget_config().public_key


def wait_active(qtbot: Any, runner: ChatAgentRunner, server: LiveServer, location_id: str) -> None:
    """Until the agent pushed the profile and its long poll told the server it is there."""
    qtbot.waitUntil(lambda: runner.status.state is AgentState.ACTIVE, timeout=WAIT_MS)
    runtime = runtime_of(server.server.config.app)
    qtbot.waitUntil(lambda: runtime.agent_present(location_id), timeout=WAIT_MS)


def test_the_open_app_answers_the_web_chat_and_stops_on_close(
    qtbot: Any, open_window: Callable[[], MainWindow], server: LiveServer, workshop: str, db: Database,
    boxes: list[str],
) -> None:  # fmt: skip
    win = open_window()
    runner = win.chat_agent
    wait_active(qtbot, runner, server, workshop)
    assert runner.label is not None and runner.label.isVisible()
    qtbot.waitUntil(lambda: runner.label.text() == "Chat-Assistent: aktiv (eingebaut)", timeout=WAIT_MS)
    assert len(agent_threads()) == 1

    guest = Visitor(server.url, widget_key(win, server))
    try:
        seq = guest.say("Was kostet ein Ölwechsel?")
        answer = guest.bot_answer(seq)
    finally:
        guest.http.close()
    assert answer["client_id"] == str(stable_id(guest.conversation_id, seq, "reply"))  # the desktop answered
    profile = build_profile(Services.for_database(db), now=dt.datetime.now(dt.UTC))
    oil = [s for s in profile.services if s.name in answer["text"]]
    assert oil and "Öl" in oil[0].name
    assert format_price_from(oil[0].price_from_gross, "de") in answer["text"]
    qtbot.waitUntil(lambda: runner.status.answered == 1, timeout=WAIT_MS)
    assert "(1 Antwort seit dem Start)" in runner.label.toolTip()

    # The answer asked for a sync round: the Chat tab shows the conversation with the desktop's answer.
    chat_view = chat_tab(win)
    qtbot.waitUntil(lambda: chat_view.inbox.select(guest.conversation_id), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: answer["text"] in [b.text for b in chat_view.pane.messages.bubbles], timeout=WAIT_MS)

    qtbot.wait(500)  # the agent is back in its 20 s long poll
    thread = agent_threads()[0]
    started = time.monotonic()
    win.close()
    thread.join(3.0 - (time.monotonic() - started))
    assert not thread.is_alive(), "the agent thread outlived the window by more than 3 s"
    assert time.monotonic() - started < 3.0
    assert runner.worker is None and agent_threads() == []
    assert boxes == []


def test_a_booking_by_the_agent_refreshes_calendar_and_chat_tab(
    qtbot: Any, open_window: Callable[[], MainWindow], server: LiveServer, workshop: str, db: Database,
) -> None:  # fmt: skip
    win = open_window()
    runner = win.chat_agent
    runner.assistants = lambda _profile: BookFirstSlot()  # acts through the tools like a cloud LLM
    announced: list[tuple[Changes, object]] = []
    assert win.ctx is not None
    win.ctx.bus.operation_did_execute.connect(lambda changes, initiator: announced.append((changes, initiator)))
    wait_active(qtbot, runner, server, workshop)
    day = first_free_oil_change_day(db)
    win.calendar.current_date = day  # the calendar shows the day the booking will land on, before it
    win.calendar.reload()
    qtbot.waitUntil(lambda: win.calendar.data is not None and win.calendar.data.days == (day,), timeout=WAIT_MS)

    guest = Visitor(server.url, widget_key(win, server))
    try:
        seq = guest.say("Ich hätte gern einen Termin für einen Ölwechsel.")
        answer = guest.bot_answer(seq)
    finally:
        guest.http.close()
    assert answer["client_id"] == str(stable_id(guest.conversation_id, seq, "reply"))
    qtbot.waitUntil(lambda: (Changes(appointments=True), runner) in announced, timeout=WAIT_MS)
    everything = Services.for_database(db).appointments.between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))
    pending = [a for a in everything if a.source == "chat"]
    assert len(pending) == 1 and pending[0].status == "pending" and "Eva Berg" in pending[0].title
    assert f"Nr. {pending[0].id}" in answer["text"]

    assert pending[0].start.date() == day
    qtbot.waitUntil(lambda: win.calendar.data is not None and win.calendar.data.appointment(pending[0].id)
                    is not None, timeout=WAIT_MS)  # fmt: skip  # the calendar reloaded on the announcement …
    chat_view = chat_tab(win)  # … and the sync round brought the conversation
    qtbot.waitUntil(lambda: chat_view.inbox.select(guest.conversation_id), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: answer["text"] in [b.text for b in chat_view.pane.messages.bubbles], timeout=WAIT_MS)


def test_saved_assistant_settings_show_in_the_status_bar(
    qtbot: Any, open_window: Callable[[], MainWindow], server: LiveServer, workshop: str,
    keyrings: tuple[MemoryKeyring, MemoryKeyring],
) -> None:  # fmt: skip
    win = open_window()
    runner = win.chat_agent
    wait_active(qtbot, runner, server, workshop)
    label = runner.label
    assert label is not None
    qtbot.waitUntil(lambda: label.text() == "Chat-Assistent: aktiv (eingebaut)", timeout=WAIT_MS)
    page = next(win.settings.pages.widget(i) for i in range(win.settings.pages.count())
                if isinstance(win.settings.pages.widget(i), ChatSettingsPage))  # fmt: skip

    LlmConfigStore().save(LlmConfig(provider="openai", model="gpt-4o-mini"))
    page.assistant.saved.emit()  # what the form does after "Speichern"
    qtbot.waitUntil(lambda: "kein API-Schlüssel" in label.toolTip(), timeout=WAIT_MS)
    assert label.text() == "Chat-Assistent: aktiv (eingebaut)"  # no key yet: the built-in assistant answers

    ApiKeyStore().set("openai", "sk-test-123")
    assert keyrings[1].get_password(llm_config.KEYRING_SERVICE, "openai") == "sk-test-123"
    page.assistant.saved.emit()
    qtbot.waitUntil(lambda: label.text() == "Chat-Assistent: aktiv (OpenAI: gpt-4o-mini)", timeout=WAIT_MS)
    assert "KI nicht verwendet" not in label.toolTip()
    assert runner.worker is not None and len(agent_threads()) == 1  # the agent itself goes on


def test_switched_off_no_agent_thread_and_the_server_answers(
    qtbot: Any, open_window: Callable[[], MainWindow], server: LiveServer, workshop: str, prefs: Prefs,
) -> None:  # fmt: skip
    prefs.set(RUN_AGENT, False)  # "carbot chat agent" runs on another computer
    win = open_window()
    runner = win.chat_agent
    qtbot.waitUntil(lambda: win.sync.status.location_id == workshop, timeout=WAIT_MS)  # registered: read
    qtbot.wait(300)
    assert runner.worker is None and agent_threads() == []
    assert runner.label is not None and not runner.label.isVisible()
    page = next(win.settings.pages.widget(i) for i in range(win.settings.pages.count())
                if isinstance(win.settings.pages.widget(i), ChatSettingsPage))  # fmt: skip
    assert not page.run_agent.isChecked()

    key = widget_key(win, server)
    guest = Visitor(server.url, key)
    try:
        seq = guest.say("Was kostet ein Ölwechsel?")
        # Nobody polls and no desktop ever pushed the workshop's data: the server answers at once itself.
        notice = guest.bot_answer(seq, authors=("bot", "system"))
        assert notice["author"] == "system"
        assert not runtime_of(server.server.config.app).agent_present(workshop)
        assert agent_threads() == []
    finally:
        guest.http.close()

    page.run_agent.setChecked(True)  # switched on again on the settings page
    assert prefs.get(RUN_AGENT) is True
    wait_active(qtbot, runner, server, workshop)
    assert len(agent_threads()) == 1 and runner.label.isVisible()
    guest = Visitor(server.url, key)
    try:
        seq = guest.say("Was kostet ein Ölwechsel?")
        assert guest.bot_answer(seq)["client_id"] == str(stable_id(guest.conversation_id, seq, "reply"))
    finally:
        guest.http.close()

    thread = agent_threads()[0]
    page.run_agent.setChecked(False)
    thread.join(3.0)
    assert not thread.is_alive() and runner.worker is None and not runner.label.isVisible()
    assert prefs.get(RUN_AGENT) is False
