"""The sync status bar and the "Sync & Konto" page against the real hosted API, served by uvicorn on loopback.

The main window runs with the real background TaskRunner (rounds on the network pool); the device
credentials go into an in-memory keyring. The server is stopped and started again on the same port to
show the offline mode and the catching up.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from app.changes import Changes
from app.db import Database
from app.plans import SubscriptionStatus
from app.services.customers import CustomerInput, CustomerService
from app.services.registry import Services
from sync import credentials, local
from sync.client import SyncClient
from sync.server.main import create_app
from sync.server.sync_models import SyncRecord
from tests.server.fixtures import PASSWORD, make_settings
from tests.server.plan_support import grant_plan
from tests.sync.sync_support import LiveServer, MemoryKeyring, make_desktop, register_org
from ui.main import build_context
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.sync_status import Connection, SyncStatus, status_text, status_tooltip
from ui.workers.sync_runner import SyncController

ROUND_TIMEOUT = 20_000


class Server:
    """The hosted API on a fixed loopback port that can be stopped and started again (same database)."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.port = 0
        self.live: LiveServer | None = None

    def start(self) -> None:
        live = LiveServer(create_app(self.settings))
        live.server.config.port = self.port  # 0 the first time; then the same port again
        self.live = live.__enter__()
        self.port = live.port

    def stop(self) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> Any:
        assert self.live is not None
        return self.live.server.config.app

    def records(self, entity: str) -> list[Any]:
        with self.app.state.ctx.db.unit() as s:
            return list(s.scalars(select(SyncRecord).where(SyncRecord.entity == entity)))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(make_settings(f"sqlite:///{tmp_path / 'server.db'}"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def org(server: Server) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return register_org(http, server.app, locations=1)


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """The OS keyring is never touched: CredentialStore falls back to this in-memory backend."""
    backend = MemoryKeyring()
    monkeypatch.setattr(credentials, "_system_keyring", lambda: backend)
    return backend


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Error dialogs would block the run: recorded instead (and asserted empty by the tests)."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    return shown


@pytest.fixture
def window(qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring) -> Iterator[MainWindow]:
    prefs = Prefs(tmp_path / "ui.ini")
    win = MainWindow(prefs=prefs)
    win.attach(build_context(Services.for_database(db), prefs=prefs))  # real background runner
    win.resize(1366, 820)
    win.show()
    qtbot.waitUntil(lambda: win.sync.status is not None and win.sync_label.text().startswith("Sync:"))
    yield win
    win.close()


def click_and_wait(qtbot: Any, win: MainWindow) -> Any:
    """Click the status bar label and wait for the round it starts."""
    with qtbot.waitSignal(win.sync.sync_finished, timeout=ROUND_TIMEOUT) as blocker:
        qtbot.mouseClick(win.sync_label, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def register_through_page(qtbot: Any, win: MainWindow, server: Server, org: dict[str, Any]) -> Any:
    win.open_sync_settings()
    page = win.settings.sync_page
    assert win.settings.pages.currentWidget() is page
    page.server_edit.setText(server.url)
    page.email_edit.setText(org["email"])
    page.password_edit.setText(PASSWORD)
    page.location_edit.setText("Hauptbetrieb")
    page.name_edit.setText("Theke 1")
    with qtbot.waitSignal(win.sync.sync_finished, timeout=ROUND_TIMEOUT) as blocker:
        qtbot.mouseClick(page.register_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def grab(win: MainWindow, path: Path) -> None:
    """The window (page and status bar) as PNG, after the pending layout updates."""
    QApplication.processEvents()
    assert win.grab().save(str(path))
    assert win.statusBar().grab().save(str(path.with_name(f"statusbar-{path.name}")))


def create_customer(qtbot: Any, win: MainWindow, name: str) -> None:
    """As the counter does it: a mutation through the context, announced on the bus."""
    ctx = win.ctx
    assert ctx is not None
    done: list[object] = []
    ctx.mutate(lambda: CustomerService(ctx.services.db).create(CustomerInput(last_name=name)), done.append)
    qtbot.waitUntil(lambda: bool(done))


def test_register_sync_go_offline_and_catch_up(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], db: Database,
    keyring: MemoryKeyring, boxes: list[str], tmp_path: Path,
) -> None:  # fmt: skip
    assert window.sync_label.text() == "Sync: nicht eingerichtet – die Werkstatt arbeitet lokal"

    result = register_through_page(qtbot, window, server, org)

    page = window.settings.sync_page
    state = local.state(db)
    assert result.status.connection is Connection.ONLINE
    assert state.registered and state.pending == 0 and state.last_sync_at is not None
    label = window.sync_label.text()
    assert label.startswith("Sync: online · zuletzt ") and label.endswith(" · keine Änderungen ausstehend")
    assert page.values["device"].text() == state.device_id
    assert page.values["status"].text() == "online"
    assert page.values["location"].text() == "Hauptbetrieb"
    assert not page.values["error"].isVisibleTo(page)
    assert page.values["plan"].text() == "Starter"  # a new organisation starts its trial on Starter
    assert page.values["subscription"].text().startswith("Testphase · voll nutzbar · bestätigt bis ")
    assert page.message.text().startswith("Registriert für den Standort „Hauptbetrieb“.")
    assert page.password_edit.text() == ""  # the password is never kept
    assert keyring.secrets, "the device credentials are in the keyring"

    server.stop()
    offline = click_and_wait(qtbot, window)
    assert offline.status.connection is Connection.OFFLINE
    assert window.sync_label.text() == "Sync: offline – arbeitet lokal weiter (keine Änderungen ausstehend)"
    assert "Letzter Fehler: Keine Verbindung zum Server" in window.sync_label.toolTip()
    assert page.values["status"].text() == "offline – arbeitet lokal weiter"
    assert page.values["error"].text().startswith("Keine Verbindung zum Server")
    shots = tmp_path / "shots"
    shots.mkdir()
    grab(window, shots / "offline.png")

    create_customer(qtbot, window, "Huber")  # no round: the bus refreshes the pending count
    qtbot.waitUntil(lambda: window.sync.status.pending == 1)
    assert window.sync_label.text() == "Sync: offline – arbeitet lokal weiter (1 Änderung ausstehend)"
    create_customer(qtbot, window, "Maier")
    click_and_wait(qtbot, window)
    pending = local.state(db).pending
    assert pending >= 2  # both customers (and the day's figures) wait in the outbox
    assert window.sync_label.text() == f"Sync: offline – arbeitet lokal weiter ({pending} Änderungen ausstehend)"

    server.start()  # same port, same database: the server is back
    back = click_and_wait(qtbot, window)
    assert back.status.connection is Connection.ONLINE and back.report.pushed >= pending
    assert local.state(db).pending == 0
    assert window.sync_label.text().endswith(" · keine Änderungen ausstehend")
    assert sorted(r.data["last_name"] for r in server.records("customer")) == ["Huber", "Maier"]
    assert boxes == []

    grab(window, shots / "online.png")


def test_registration_errors_are_shown_inline(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], db: Database, boxes: list[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    window.open_sync_settings()
    page = window.settings.sync_page
    page.server_edit.setText("sync.example.de")
    page.email_edit.setText("inhaber")
    qtbot.mouseClick(page.register_button, Qt.MouseButton.LeftButton)
    errors = {name: field.error.text() for name, field in page.form.fields.items() if field.error.text()}
    assert errors == {
        "server_url": "Die Adresse muss mit https:// beginnen.",
        "email": "Bitte eine gültige E-Mail-Adresse angeben.",
        "password": "Bitte das Passwort eingeben.",
    }

    page.server_edit.setText(server.url)
    page.email_edit.setText(org["email"])
    page.password_edit.setText("falsches-Passwort-123")
    qtbot.mouseClick(page.register_button, Qt.MouseButton.LeftButton)
    password_error = page.form.fields["password"].error
    qtbot.waitUntil(lambda: password_error.text() != "", timeout=ROUND_TIMEOUT)
    assert password_error.text() == "Anmeldung fehlgeschlagen: E-Mail-Adresse oder Passwort ist falsch."

    page.password_edit.setText(PASSWORD)
    page.location_edit.setText("Filiale Nord")
    qtbot.mouseClick(page.register_button, Qt.MouseButton.LeftButton)
    location_error = page.form.fields["location"].error
    qtbot.waitUntil(lambda: location_error.text() != "", timeout=ROUND_TIMEOUT)
    assert location_error.text() == "Den Standort „Filiale Nord“ gibt es in dieser Organisation nicht."

    page.location_edit.clear()
    page.server_edit.setText("http://127.0.0.1:9")  # nothing listens on the discard port
    qtbot.mouseClick(page.register_button, Qt.MouseButton.LeftButton)
    server_error = page.form.fields["server_url"].error
    qtbot.waitUntil(lambda: server_error.text() != "", timeout=ROUND_TIMEOUT)
    assert server_error.text().startswith("Der Server unter http://127.0.0.1:9 ist nicht erreichbar.")
    grab(window, tmp_path / "register-error.png")
    assert not local.state(db).registered
    assert window.sync_label.text() == "Sync: nicht eingerichtet – die Werkstatt arbeitet lokal"
    assert boxes == []


def test_revoked_device_needs_a_new_registration_and_gets_it(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], db: Database, keyring: MemoryKeyring
) -> None:
    register_through_page(qtbot, window, server, org)
    with httpx.Client(base_url=server.url) as http:
        owner = http.post("/v1/auth/login", json={"email": org["email"], "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {owner['access_token']}"}
        device_id = local.state(db).device_id
        assert http.delete(f"/v1/devices/{device_id}", headers=headers).status_code == 200

    result = click_and_wait(qtbot, window)

    assert result.status.connection is Connection.AUTH_REQUIRED
    assert window.sync_label.text() == "Sync: Anmeldung erforderlich"
    assert "Letzter Fehler: " in window.sync_label.toolTip()
    assert keyring.secrets == {}, "a refused device forgets its credentials"
    assert not window.sync._timer.isActive()
    window.tabs.setCurrentIndex(window.TAB_COUNTER)
    qtbot.mouseClick(window.sync_label, Qt.MouseButton.LeftButton)  # asks for the registration instead
    assert window.tabs.currentIndex() == window.TAB_SETTINGS
    assert window.settings.pages.currentWidget() is window.settings.sync_page
    assert window.settings.sync_page.register_box.title() == "Neu registrieren"

    again = register_through_page(qtbot, window, server, org)
    assert again.status.connection is Connection.ONLINE
    assert local.state(db).device_id != device_id and keyring.secrets


def test_logout_during_a_round_forgets_the_credentials_after_it(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    register_through_page(qtbot, window, server, org)
    page = window.settings.sync_page
    assert page.logout_button.isEnabled() and keyring.secrets
    events: list[str] = []
    forget = keyring.delete_password
    monkeypatch.setattr(keyring, "delete_password", lambda *a: (events.append("keyring cleared"), forget(*a)))
    window.sync.sync_finished.connect(lambda _result: events.append("round finished"))
    real = SyncClient.run_once
    monkeypatch.setattr(SyncClient, "run_once", lambda c, d: (time.sleep(0.5), real(c, d))[1])  # a slow round

    qtbot.mouseClick(page.sync_button, Qt.MouseButton.LeftButton)
    assert window.sync.running
    qtbot.mouseClick(page.logout_button, Qt.MouseButton.LeftButton)
    page.logout_box.button(QMessageBox.StandardButton.Yes).click()  # while the round may still refresh a token
    qtbot.waitUntil(lambda: page.message.text() == "Abgemeldet.", timeout=ROUND_TIMEOUT)

    assert events == ["round finished", "keyring cleared"] and keyring.secrets == {}
    assert window.sync_label.text() == "Sync: Anmeldung erforderlich"
    assert page.values["status"].text() == "Anmeldung erforderlich"
    assert not page.sync_button.isEnabled() and not page.logout_button.isEnabled()
    assert not window.sync._timer.isActive() and window.sync._listener is None


def test_payment_grace_banner_and_settings_announced(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], tmp_path: Path
) -> None:
    register_through_page(qtbot, window, server, org)
    assert window.sync.banner is not None and not window.sync.banner.isVisible()
    announced: list[Changes] = []
    assert window.ctx is not None
    window.ctx.bus.operation_did_execute.connect(lambda changes, _initiator: announced.append(changes))
    grace = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    grant_plan(server.app, org["organization_id"], "professional", SubscriptionStatus.PAST_DUE, grace_until=grace)

    click_and_wait(qtbot, window)

    # Shown once: in the subscription banner above the tabs, not repeated in the status bar.
    QApplication.processEvents()
    billing = window.billing.banner
    assert billing.isVisible() and billing.label.text().startswith("Zahlung überfällig – bitte Zahlungsdaten bis")
    assert not window.sync.banner.isVisible() and window.db_label.isVisible()
    page = window.settings.sync_page
    assert page.values["plan"].text() == "Professional"
    assert page.values["subscription"].text().startswith("Zahlung offen · Zahlungsfrist läuft")
    assert page.banner.isHidden()
    grab(window, tmp_path / "payment-grace.png")
    assert announced == [Changes(settings=True)]  # the plan changed: views refresh
    click_and_wait(qtbot, window)
    assert announced == [Changes(settings=True)]  # nothing new: nothing announced


def registered_desktop(db: Database, server: Server, org: dict[str, Any], keyring: MemoryKeyring) -> None:
    """Register ``db`` as the CLI does (keyring account named after the database file)."""
    store = credentials.CredentialStore(f"device:{Path(str(db.path)).resolve()}", backend=keyring)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        reg = credentials.register_device(http, store, email=org["email"], password=PASSWORD, location=None, name="T")
    local.register(db, server_url=reg.server_url, device_id=reg.device_id, location_id=reg.location_id)


def test_timer_delays_the_first_round_and_never_overlaps(
    qtbot: Any, db: Database, server: Server, org: dict[str, Any], keyring: MemoryKeyring,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    registered_desktop(db, server, org, keyring)
    active, most, rounds = [0], [0], []
    lock = threading.Lock()
    real = SyncClient.run_once

    def slow_round(client: SyncClient, database: Database) -> Any:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.3)  # longer than the interval: ticks arrive while a round runs
            return real(client, database)
        finally:
            with lock:
                active[0] -= 1
                rounds.append(time.monotonic())

    monkeypatch.setattr(SyncClient, "run_once", slow_round)
    ctx = build_context(Services.for_database(db), prefs=Prefs(tmp_path / "ui.ini"))
    controller = SyncController(ctx, first_delay_ms=800, interval_ms=50, listen_for_pokes=False)
    started = time.monotonic()
    controller.start()
    try:
        qtbot.wait(400)
        assert rounds == [] and controller.status.connection is Connection.STARTING
        qtbot.waitUntil(lambda: len(rounds) >= 3, timeout=ROUND_TIMEOUT)
        assert rounds[0] - started >= 0.8 + 0.3
        assert most[0] == 1  # ticks during a round were skipped
        qtbot.waitUntil(lambda: not controller.running)
        assert controller.status.connection is Connection.ONLINE
        assert status_text(controller.status).startswith("Sync: online")
    finally:
        controller.shutdown()
        ctx.runner.shutdown()


def test_a_change_on_another_desktop_arrives_by_poke(
    qtbot: Any, window: MainWindow, server: Server, org: dict[str, Any], db: Database, tmp_path: Path
) -> None:
    register_through_page(qtbot, window, server, org)
    qtbot.waitUntil(lambda: window.sync._listener is not None)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        other = make_desktop(
            tmp_path / "filiale.db", http, MemoryKeyring(), email=org["email"], location_id=org["location_ids"][0]
        )
    try:
        CustomerService(other.db).create(CustomerInput(last_name="Schulz"))
        with qtbot.waitSignal(window.sync.sync_finished, timeout=ROUND_TIMEOUT):  # no click, no tick
            report = other.client.run_once(other.db)
        assert report.acked >= 1
        target = local.state(other.db).cursor
        qtbot.waitUntil(lambda: window.sync.status.cursor == target, timeout=ROUND_TIMEOUT)
        assert window.sync.status.connection is Connection.ONLINE
    finally:
        other.close()


def test_status_texts_and_tooltips() -> None:
    yesterday = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=1)
    base = SyncStatus(Connection.STARTING, server_url="https://sync.example.de", pending=1, last_sync_at=yesterday)
    assert status_text(base) == "Sync: wird gestartet … (1 Änderung ausstehend)"
    failed = replace(base, connection=Connection.FAILED, pending=12, last_error="Der Server meldet einen Konflikt.")
    assert status_text(failed) == "Sync: Fehler – wird erneut versucht (12 Änderungen ausstehend)"
    local_time = yesterday.replace(tzinfo=dt.UTC).astimezone()
    assert status_tooltip(failed).splitlines() == [
        "Server: https://sync.example.de",
        f"Letzte Synchronisation: {local_time:%d.%m.%y}, {local_time:%H:%M}",  # not today: with the date
        "Letzter Fehler: Der Server meldet einen Konflikt.",
        "Klicken, um jetzt zu synchronisieren.",
    ]
    assert status_text(replace(base, connection=Connection.ONLINE, last_sync_at=None)).startswith(
        "Sync: online · zuletzt noch nie"
    )
    assert replace(base, entitlement=None).banner == ""
