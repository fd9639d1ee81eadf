"""Einstellungen → "Chat & Assistent": the website widget box (server side through the chat client at the
network edge) and the assistant form (settings file + OS keyring), with "Verbindung testen" against a local
provider speaking the real OpenAI and Anthropic wire formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from app.chat.llm import config as llm_config
from app.chat.llm.config import KEYRING_SERVICE, ApiKeyStore, LlmConfigStore
from app.db import Database
from app.services.registry import Services
from sync import local
from tests.app.chat.llm.fake_provider import FakeProvider, Reply, anthropic_stream, openai_stream
from tests.sync.sync_support import MemoryKeyring
from tests.ui.chat_support import FakeChatServer
from ui import prefs
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.settings.chat_page import ChatSettingsPage, parse_domains
from ui.views.settings.view import SettingsView

SECRET = "sk-test-GEHEIM-4711-abcdefghijklmnop"


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    return shown


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def ctx(db: Database, tmp_path: Path) -> UiContext:
    return UiContext(Services.for_database(db), TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "ui.ini"))


@pytest.fixture
def server() -> FakeChatServer:
    return FakeChatServer()


@pytest.fixture
def page(
    qtbot: Any, ctx: UiContext, tmp_path: Path, keyring: MemoryKeyring, server: FakeChatServer
) -> ChatSettingsPage:
    widget = ChatSettingsPage(
        ctx,
        client_factory=lambda: server,
        config_store=LlmConfigStore(tmp_path / "chat-llm.json"),
        key_store=ApiKeyStore(keyring),
    )
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()  # showing loads
    return widget


def files_containing(folder: Path, secret: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_save_keeps_the_api_key_out_of_files(
    qtbot: Any, ctx: UiContext, tmp_path: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    """Through the real settings tab: the page with the default stores (file path from the environment)."""
    config_file = tmp_path / "config" / "chat-llm.json"
    monkeypatch.setenv("CARBOT_LLM_CONFIG", str(config_file))
    monkeypatch.setattr(llm_config, "_system_keyring", lambda: keyring)
    settings = SettingsView(ctx)
    qtbot.addWidget(settings)
    settings.resize(1300, 800)
    settings.show()
    index = [settings.nav.item(i).text() for i in range(settings.nav.count())].index("Chat & Assistent")
    settings.show_page(index)
    page = settings.pages.currentWidget()
    assert isinstance(page, ChatSettingsPage)
    form = page.assistant
    assert form.provider() == "none" and not form.key_edit.isEnabled()

    form.provider_box.setCurrentIndex(form.provider_box.findData("openai"))
    form.base_url_edit.setText("https://llm.werkstatt-huber.de/v1")
    form.model_edit.setText("gpt-4.1-mini")
    form.budget_edit.setText("35,50")
    form.key_edit.setText(SECRET)
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)

    assert form.message.text() == "Gespeichert."
    assert keyring.secrets == {(KEYRING_SERVICE, "openai"): SECRET}
    stored = json.loads(config_file.read_text(encoding="utf-8"))
    assert (stored["provider"], stored["base_url"], stored["monthly_budget_eur"]) == (
        "openai", "https://llm.werkstatt-huber.de/v1", "35.50"
    )  # fmt: skip
    ctx.prefs.set(prefs.LANGUAGE, "de")  # make sure the INI file exists, too
    db.close()  # flush everything SQLite holds
    assert files_containing(tmp_path, SECRET) == []  # not in the settings file, the database or the INI file
    assert form.key_edit.text() == "" and form.key_state.text() == "Ein Schlüssel ist im Schlüsselbund hinterlegt."


def test_stored_settings_come_back_and_the_key_can_be_removed(
    qtbot: Any, page: ChatSettingsPage, keyring: MemoryKeyring
) -> None:
    form = page.assistant
    form.provider_box.setCurrentIndex(form.provider_box.findData("anthropic"))
    form.budget_edit.setText("1.234,50")
    form.key_edit.setText(SECRET)
    form.save()
    form.provider_box.setCurrentIndex(0)
    page.load()  # as on the next visit

    assert form.provider() == "anthropic" and form.budget_edit.text() == "1.234,50"
    assert form.model_edit.placeholderText() == "claude-haiku-4-5" and form.key_edit.text() == ""
    assert form.forget_button.isVisibleTo(form)
    qtbot.mouseClick(form.forget_button, Qt.MouseButton.LeftButton)
    assert keyring.secrets == {} and form.key_state.text() == "Noch kein Schlüssel hinterlegt."


def test_invalid_values_are_shown_at_their_fields(
    page: ChatSettingsPage, keyring: MemoryKeyring, tmp_path: Path
) -> None:
    form = page.assistant
    form.provider_box.setCurrentIndex(form.provider_box.findData("openai"))
    form.base_url_edit.setText("http://llm.example.de/v1")
    form.key_edit.setText(SECRET)
    form.save()
    assert form.form.fields["base_url"].error.text() == (
        "Die Adresse des KI-Anbieters muss mit https:// beginnen (http:// nur für localhost): "
        "„http://llm.example.de/v1“."
    )
    form.base_url_edit.clear()
    form.budget_edit.setText("viel")
    form.save()
    assert form.form.fields["monthly_budget_eur"].error.text() == "Das KI-Monatsbudget „viel“ ist keine Zahl."
    assert keyring.secrets == {} and not (tmp_path / "chat-llm.json").exists()  # nothing saved


def test_connection_test_against_local_openai_compatible_server(page: ChatSettingsPage, keyring: MemoryKeyring) -> None:
    form = page.assistant
    with FakeProvider() as provider:
        provider.queue(Reply(chunks=openai_stream(["O", "K"])), Reply.error(401, {"message": "Invalid API key"}))
        form.provider_box.setCurrentIndex(form.provider_box.findData("openai"))
        form.base_url_edit.setText(provider.url + "/v1")
        form.model_edit.setText("test-model")
        form.key_edit.setText(SECRET)

        form.test()
        assert form.message.text().startswith("Verbindung in Ordnung: test-model antwortet (")
        request = provider.requests[0]
        assert request.path == "/v1/chat/completions" and request.body["model"] == "test-model"
        assert request.headers["authorization"] == f"Bearer {SECRET}"

        form.test()
        assert form.message.text().startswith("Verbindung fehlgeschlagen: ")
    assert keyring.secrets == {}  # testing never stores the key


def test_connection_test_uses_the_stored_anthropic_key(page: ChatSettingsPage, keyring: MemoryKeyring) -> None:
    keyring.set_password(KEYRING_SERVICE, "anthropic", SECRET)
    form = page.assistant
    with FakeProvider() as provider:
        provider.queue(Reply(chunks=anthropic_stream(["OK"])))
        form.provider_box.setCurrentIndex(form.provider_box.findData("anthropic"))
        form.base_url_edit.setText(provider.url)
        form.test()
        assert form.message.text().startswith("Verbindung in Ordnung: claude-haiku-4-5 antwortet (")
        assert provider.requests[0].headers["x-api-key"] == SECRET


def test_widget_box_before_registration_points_to_sync(
    qtbot: Any, page: ChatSettingsPage, server: FakeChatServer
) -> None:
    opened: list[bool] = []
    page.open_sync = lambda: opened.append(True)
    assert page.state.text().startswith("Chat ist erst nach der Anmeldung am CarBot-Server verfügbar")
    assert page.setup_button.isVisibleTo(page) and not page.details.isEnabled()
    assert server.calls == []
    qtbot.mouseClick(page.setup_button, Qt.MouseButton.LeftButton)
    assert opened == [True]


def test_widget_snippet_key_and_domains(
    qtbot: Any, page: ChatSettingsPage, ctx: UiContext, server: FakeChatServer
) -> None:
    local.register(ctx.services.db, server_url="https://sync.example.de", device_id="dev-1", location_id="loc-1")
    page.load()
    assert not page.setup_button.isVisibleTo(page) and page.details.isEnabled()
    assert page.key_edit.text() == server.widget.public_key
    assert page.snippet.toPlainText() == server.widget.snippet
    qtbot.mouseClick(page.copy_snippet_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == server.widget.snippet

    page.domains.setPlainText("https://www.werkstatt-huber.de/kontakt\nwerkstatt-huber.de\nkein domain!")
    qtbot.mouseClick(page.save_domains_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "„domain!“ ist keine gültige Domain."
    assert [c for c in server.calls if c[0] == "update_widget"] == []

    page.domains.setPlainText("https://www.werkstatt-huber.de/kontakt\nwerkstatt-huber.de")
    qtbot.mouseClick(page.save_domains_button, Qt.MouseButton.LeftButton)
    assert server.calls[-1] == ("update_widget", ["www.werkstatt-huber.de", "werkstatt-huber.de"])
    assert page.message.text() == "Widget-Einstellungen gespeichert."
    assert server.widget.branding.logo_url is None and server.widget.branding.name == "Kfz-Werkstatt Huber"

    page.logo_edit.setText("http://werkstatt-huber.de/logo.png")
    page.privacy_edit.setText("https://www.werkstatt-huber.de/datenschutz")
    qtbot.mouseClick(page.save_domains_button, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith("Logo: bitte eine vollständige https-Adresse angeben")
    assert server.widget.branding.privacy_url is None  # nothing sent
    page.logo_edit.setText(" https://www.werkstatt-huber.de/logo.png ")
    qtbot.mouseClick(page.save_domains_button, Qt.MouseButton.LeftButton)
    branding = server.widget.branding
    assert (branding.logo_url, branding.privacy_url) == (
        "https://www.werkstatt-huber.de/logo.png",
        "https://www.werkstatt-huber.de/datenschutz",
    )
    assert branding.name == "Kfz-Werkstatt Huber"  # the rest of the branding stays as the server had it
    page.load()
    assert page.logo_edit.text() == "https://www.werkstatt-huber.de/logo.png"


def test_only_the_owner_changes_the_assistant(page: ChatSettingsPage, ctx: UiContext) -> None:
    assert page.assistant.provider_box.isEnabled()
    ctx.prefs.set(prefs.ROLE, "counter")
    page.load()
    assert not page.assistant.provider_box.isEnabled() and not page.assistant.save_button.isEnabled()


def test_parse_domains() -> None:
    assert parse_domains("Werkstatt-Huber.de, *.huber.de\nhttps://shop.huber.de:8443/x") == (
        ["werkstatt-huber.de", "*.huber.de", "shop.huber.de:8443"], []
    )  # fmt: skip
    assert parse_domains(" ".join(f"d{i}.de" for i in range(21)))[1] == ["Höchstens 20 Domains sind möglich."]
