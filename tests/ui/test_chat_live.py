"""The Chat tab against the real hosted API on loopback (uvicorn): a visitor writes through the widget
routes, the desktop pulls the chat stream with its real sync client, staff take over and answer with
Enter through the real ``ChatClient`` – and the visitor reads the answer."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.services.registry import Services
from sync.chat_client import ChatClient
from sync.server.main import create_app
from tests.server.fixtures import make_settings
from tests.sync.sync_support import LiveServer, MemoryKeyring, make_desktop, register_org
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.chat.view import ChatView


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    return shown


def test_staff_answer_reaches_the_visitor_through_the_real_server(qtbot: Any, tmp_path: Path, boxes: list[str]) -> None:
    with (
        LiveServer(create_app(make_settings(f"sqlite:///{tmp_path / 'server.db'}"))) as live,
        httpx.Client(base_url=live.url, timeout=30) as http,
    ):
        org = register_org(http, live.server.config.app, locations=1)
        desk = make_desktop(tmp_path / "theke.db", http, MemoryKeyring(), email=org["email"],
                            location_id=org["location_ids"][0])  # fmt: skip
        chat = ChatClient(live.url, desk.client.credentials)  # one device session: no competing token refreshes
        try:
            key = chat.widget_config().public_key
            started = http.post("/v1/widget/session", json={"location_key": key, "consent": True, "language": "de"})
            assert started.status_code == 200, started.text
            visitor = {"Authorization": f"Bearer {started.json()['token']}"}
            question = {"client_id": str(uuid.uuid4()), "text": "Kann ich mit jemandem sprechen?"}
            sent = http.post("/v1/widget/messages", headers=visitor, json=question)
            assert sent.status_code == 201, sent.text
            desk.client.run_once(desk.db)

            ctx = UiContext(
                Services.for_database(desk.db), TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "u.ini")
            )

            def sync_round() -> None:  # what the SyncController does when the tab asks for a round
                report = desk.client.run_once(desk.db)
                if report.chat_changes:
                    ctx.bus.chat_synced.emit(report)

            ctx.bus.sync_requested.connect(sync_round)
            view = ChatView(ctx, client_factory=lambda: chat)
            qtbot.addWidget(view)
            view.resize(1200, 700)
            view.show()
            conversation_id = started.json()["conversation_id"]
            assert view.inbox.select(conversation_id)
            texts = [b.text for b in view.pane.messages.bubbles]
            assert "Kann ich mit jemandem sprechen?" in texts
            assert view.banners.lead_limit.label.text() == ""  # a fresh organisation: far from its lead limit

            view.pane.reply.edit.setPlainText("Guten Tag, hier ist die Werkstatt. Wie können wir helfen?")
            qtbot.keyClick(view.pane.reply.edit, Qt.Key.Key_Return)

            assert boxes == []
            assert view.pane.chip.text() == "Mitarbeiter"
            last = view.pane.messages.bubbles[-1]
            assert (last.author, last.text) == ("staff", "Guten Tag, hier ist die Werkstatt. Wie können wir helfen?")
            assert view.overlay.messages == {} and view.overlay.statuses == {}  # pulled from the server already
            page = http.get("/v1/widget/messages", params={"after": 0}, headers=visitor).json()
            assert page["status"] == "staff"
            assert page["messages"][-1]["author"] == "staff"
            assert page["messages"][-1]["text"] == "Guten Tag, hier ist die Werkstatt. Wie können wir helfen?"
        finally:
            chat.close()
            desk.close()
