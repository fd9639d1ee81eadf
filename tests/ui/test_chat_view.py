"""The Chat tab against a real migrated database filled the way the sync client fills it, with the chat
server stand-in (``chat_support.FakeChatServer``) at the network edge: inbox, unread badge and tab title,
takeover, staff replies with Enter, banners, links, the calendar jump and the notifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QTabWidget, QWidget

from app.db import Database
from app.services.appointments import AppointmentInput
from app.services.customers import CustomerInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput
from sync import local
from sync.protocol_chat import ContactDetails
from tests.ui.chat_support import FakeChatServer
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.calendar.view import CalendarView
from ui.views.chat.inbox import SUMMARY_ROLE
from ui.views.chat.view import ChatView, install
from ui.views.settings.chat_page import ChatSettingsPage


class Window:
    """The part of the main window ``install`` wires the tab into: tabs, the calendar, the sync page link."""

    TAB_COUNTER, TAB_CALENDAR, TAB_DIAGNOSIS, TAB_CHAT, TAB_REPORTS, TAB_SETTINGS = range(6)

    def __init__(self, ctx: UiContext) -> None:
        self.tabs = QTabWidget()
        self.calendar = CalendarView(ctx)
        self.sync_settings_opened = 0
        for index, title in enumerate(("Theke", "Termine", "Diagnose", "Chat", "Berichte", "Einstellungen")):
            self.tabs.addTab(self.calendar if index == self.TAB_CALENDAR else QWidget(), title)

    def open_sync_settings(self) -> None:
        self.sync_settings_opened += 1


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Error dialogs would block the run: recorded instead."""
    shown: list[str] = []

    def record(box: QMessageBox) -> int:
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    return shown


def ago(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


@pytest.fixture
def server() -> FakeChatServer:
    """Three conversations as the hosted API holds them."""
    srv = FakeChatServer()
    srv.conversation("c-anna", status="waiting_staff", minutes_ago=3,
                     contact=ContactDetails(name="Anna Huber", phone="0171 2345678", vehicle="VW Golf 7"))  # fmt: skip
    srv.say("c-anna", "visitor", "Was kostet ein Ölwechsel?")
    srv.say("c-anna", "bot", "Ein Ölwechsel kostet bei uns ab 89,00 €.")
    srv.say("c-anna", "visitor", "Kann ich bitte mit jemandem sprechen? <script>alert(1)</script>")
    srv.conversation("c-bot", minutes_ago=60)
    srv.say("c-bot", "visitor", "Habt ihr samstags offen?", at=ago(59))
    srv.say("c-bot", "bot", "Samstags haben wir von 9 bis 13 Uhr geöffnet.", at=ago(58))
    srv.conversation("c-old", status="closed", minutes_ago=60 * 24 * 3)
    srv.say("c-old", "visitor", "Danke, bis morgen!", at=ago(60 * 24 * 3 - 1))
    return srv


@pytest.fixture
def registered(db: Database, server: FakeChatServer) -> Database:
    """A registered desktop that has pulled the server's chat stream."""
    local.register(db, server_url="https://sync.example.de", device_id="dev-1", location_id="loc-1")
    server.sync_into(db)
    return db


@pytest.fixture
def ctx(registered: Database, tmp_path: Path, server: FakeChatServer) -> UiContext:
    context = UiContext(
        Services.for_database(registered), TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "ui.ini")
    )

    def sync_round() -> None:  # what the SyncController does when a view asks for a round
        if server.sync_into(registered):
            context.bus.chat_synced.emit(None)

    context.bus.sync_requested.connect(sync_round)
    return context


@pytest.fixture
def window(qtbot: Any, ctx: UiContext) -> Iterator[Window]:
    win = Window(ctx)
    qtbot.addWidget(win.tabs)
    yield win


@pytest.fixture
def view(qtbot: Any, ctx: UiContext, server: FakeChatServer, window: Window) -> ChatView:
    chat = install(window, ctx, client_factory=lambda: server)
    window.tabs.removeTab(window.TAB_CHAT)
    window.tabs.insertTab(window.TAB_CHAT, chat, "Chat")
    chat.reload()  # the title was set on the placeholder; now on the real tab
    window.tabs.resize(1366, 760)
    window.tabs.show()
    window.tabs.setCurrentIndex(window.TAB_CHAT)
    return chat


def acts(server: FakeChatServer) -> list[tuple[Any, ...]]:
    """What the desktop did on the server (without the lead-count look-ups)."""
    return [call for call in server.calls if call[0] != "usage"]


def rows(view: ChatView) -> list[tuple[str, str, int]]:
    return [(r.id, r.status, r.unread) for r in (view.inbox.model.data(view.inbox.model.index(i), SUMMARY_ROLE)
                                                 for i in range(view.inbox.model.rowCount()))]  # fmt: skip


def test_inbox_lists_conversations_with_unread_badges_and_title(
    qtbot: Any, view: ChatView, window: Window, ctx: UiContext
) -> None:
    assert rows(view) == [("c-anna", "waiting_staff", 2), ("c-bot", "bot", 1)]  # "Offen": newest first
    assert window.tabs.tabText(window.TAB_CHAT) == "Chat (3)"
    assert view.inbox.count_label.text() == "1 warten"
    anna = view.inbox.model.data(view.inbox.model.index(0))
    assert (
        anna == "Anna Huber – Wartet auf Mitarbeiter – Kann ich bitte mit jemandem sprechen? <script>alert(1)</script>"
    )
    view.inbox.set_filter("all")
    assert [r[0] for r in rows(view)] == ["c-anna", "c-bot", "c-old"]
    view.inbox.set_filter("waiting_staff")
    assert [r[0] for r in rows(view)] == ["c-anna"]

    view.inbox.select("c-anna")  # reading the conversation on the visible tab marks it read

    assert ctx.services.chat.conversation("c-anna").unread == 0
    assert window.tabs.tabText(window.TAB_CHAT) == "Chat (1)"
    pane = view.pane
    assert pane.title.text() == "Anna Huber" and pane.chip.text() == "Wartet auf Mitarbeiter"
    assert pane.lead.isVisibleTo(pane) and "0171 2345678" in pane.details.text()
    text = pane.messages.toPlainText()
    assert "Was kostet ein Ölwechsel?" in text and "ab 89,00 €" in text
    assert "<script>alert(1)</script>" in text  # escaped: shown as typed, never interpreted
    assert [b.author for b in pane.messages.bubbles] == ["visitor", "bot", "visitor"]
    assert pane.reply.quick_buttons and pane.reply.quick_buttons[0].toolTip().startswith("Vielen Dank")


def test_takeover_sends_status_staff_and_the_bot_stops(qtbot: Any, view: ChatView, server: FakeChatServer) -> None:
    view.inbox.select("c-bot")
    pane = view.pane
    assert pane.chip.text() == "Bot" and pane.take_button.isEnabled() and not pane.bot_button.isEnabled()

    qtbot.mouseClick(pane.take_button, Qt.MouseButton.LeftButton)

    assert acts(server)[-1] == ("status", "c-bot", "staff")
    assert server.conversations["c-bot"].status == "staff"
    assert pane.chip.text() == "Mitarbeiter"  # pulled by the round the view asked for
    assert not pane.take_button.isEnabled() and pane.bot_button.isEnabled()
    assert view.overlay.statuses == {}  # the pulled data caught up

    qtbot.mouseClick(pane.bot_button, Qt.MouseButton.LeftButton)
    assert acts(server)[-1] == ("status", "c-bot", "bot") and pane.chip.text() == "Bot"
    qtbot.mouseClick(pane.close_button, Qt.MouseButton.LeftButton)
    assert acts(server)[-1] == ("status", "c-bot", "closed")
    assert pane.closed_hint.isVisibleTo(pane) and not pane.reply.isVisibleTo(pane)


def test_enter_sends_a_staff_message_shift_enter_makes_a_new_line(
    qtbot: Any, view: ChatView, server: FakeChatServer
) -> None:
    view.inbox.select("c-bot")
    edit = view.pane.reply.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "Ja, samstags von 9 bis 13 Uhr.")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(edit, "Bis dann")  # QTest types ASCII only
    assert acts(server) == []  # nothing sent yet

    qtbot.keyClick(edit, Qt.Key.Key_Return)

    text = "Ja, samstags von 9 bis 13 Uhr.\nBis dann"
    assert acts(server) == [("status", "c-bot", "staff"), ("message", "c-bot", "staff", text)]  # takeover first
    assert edit.toPlainText() == ""
    assert view.pane.messages.bubbles[-1].author == "staff" and view.pane.messages.bubbles[-1].text == text
    assert view.pane.chip.text() == "Mitarbeiter"


def test_a_failed_send_keeps_the_text(qtbot: Any, view: ChatView, server: FakeChatServer, boxes: list[str]) -> None:
    view.inbox.select("c-anna")
    server.offline = True
    view.pane.reply.edit.setPlainText("Wir rufen Sie gleich an.")
    qtbot.keyClick(view.pane.reply.edit, Qt.Key.Key_Enter)
    assert boxes == ["Keine Verbindung zum Server."]
    assert view.pane.reply.edit.toPlainText() == "Wir rufen Sie gleich an." and view.pane.reply.send_button.isEnabled()
    assert view.pane.messages.bubbles[-1].author == "visitor"


def test_lead_limit_banner(qtbot: Any, ctx: UiContext, server: FakeChatServer, window: Window) -> None:
    server.leads = 100  # Starter: 100 leads a month
    chat = install(window, ctx, client_factory=lambda: server)
    qtbot.addWidget(chat)
    banner = chat.banners.lead_limit
    assert banner.isVisibleTo(chat)
    assert banner.label.text().startswith(
        "Das Lead-Kontingent Ihres Tarifs (100 Leads im Monat) ist erreicht – der Bot antwortet nicht mehr."
    )
    assert not chat.banners.not_registered.isVisibleTo(chat)

    server.offline = True  # offline the desktop still knows from the newest conversation the server stopped
    server.conversation("c-new", minutes_ago=0, bot_stopped_by_limit=True)
    server.sync_into(ctx.services.db)
    later = install(window, ctx, client_factory=lambda: server)
    qtbot.addWidget(later)
    assert later.banners.lead_limit.isVisibleTo(later) and later.lead_limit_reached is False


def test_not_registered_banner_leads_to_sync_settings(qtbot: Any, db: Database, tmp_path: Path) -> None:
    ctx = UiContext(Services.for_database(db), TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "ui.ini"))
    server = FakeChatServer()
    window = Window(ctx)
    chat = install(window, ctx, client_factory=lambda: server)
    qtbot.addWidget(chat)
    banner = chat.banners.not_registered
    assert banner.isVisibleTo(chat)
    assert banner.label.text().startswith("Chat ist erst nach der Anmeldung am CarBot-Server verfügbar")
    assert server.calls == []  # an unregistered desktop never asks the server
    assert banner.button is not None and banner.button.text() == "Zu Sync && Konto"  # shown as "Zu Sync & Konto"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    assert window.sync_settings_opened == 1


def test_booking_request_opens_the_calendar_day(
    qtbot: Any, view: ChatView, window: Window, ctx: UiContext, server: FakeChatServer
) -> None:
    day = ctx.today() + dt.timedelta(days=3)
    server.booking("c-anna", dt.datetime.combine(day, dt.time(9, 0)))
    server.sync_into(ctx.services.db)
    ctx.services.chat.import_bookings()  # as the sync client does after a pull of the chat stream
    ctx.bus.chat_synced.emit(None)
    view.inbox.select("c-anna")
    pane = view.pane
    assert (
        pane.booking.isVisibleTo(pane)
        and "Ölwechsel" in pane.booking.text()
        and "als Anfrage im Kalender" in pane.booking.text()
    )
    assert pane.calendar_button.isVisibleTo(pane)

    qtbot.mouseClick(pane.calendar_button, Qt.MouseButton.LeftButton)

    assert window.tabs.currentIndex() == window.TAB_CALENDAR
    assert window.calendar.current_date == day
    assert any(a.status == "pending" for a in ctx.services.appointments.day(day))


def test_link_to_customer_vehicle_and_appointment(qtbot: Any, view: ChatView, ctx: UiContext) -> None:
    services = ctx.services
    customer, _changes = services.customers.create(
        CustomerInput(first_name="Anna", last_name="Huber", phone="0171 2345678")
    )
    vehicle, _changes = services.vehicles.create(
        VehicleInput(customer_id=customer.id, plate="M-AH 1234", make="VW", model="Golf")
    )
    start = dt.datetime.combine(ctx.today() + dt.timedelta(days=2), dt.time(10, 0))
    appointment = services.appointments.book(
        AppointmentInput(start=start, end=start + dt.timedelta(hours=1), vehicle_id=vehicle.id, title="Inspektion"),
        force=True,  # whatever weekday the test runs on
    ).appointment
    services.appointments.book(
        AppointmentInput(start=start, end=start + dt.timedelta(hours=1), title="Fremd"), force=True
    )
    view.inbox.select("c-anna")
    dialog = view.open_link_dialog()
    assert dialog is not None and dialog.search.text() == "Anna Huber"  # pre-filled with the visitor's name
    dialog.search.setText("M AH 1234")
    dialog.search.search_now()
    vehicle_hit = next(h for h in dialog.search.hits if h.kind == "vehicle")
    dialog.search.picked.emit(vehicle_hit)
    assert "M-AH 1234" in dialog.picked_label.text()
    box = dialog.appointment_box
    assert [box.itemData(i) for i in range(box.count())] == [None, appointment.id]  # the vehicle's appointment
    box.setCurrentIndex(1)
    dialog.accept_choice()

    summary = services.chat.conversation("c-anna")
    assert (summary.customer_id, summary.vehicle_id, summary.appointment_id) == (
        customer.id,
        vehicle.id,
        appointment.id,
    )
    links = view.pane.links.text()
    assert "Kunde: Anna Huber" in links and "M-AH 1234" in links and "Inspektion" in links
    assert view.pane.calendar_button.isVisibleTo(view.pane)  # the linked appointment's day
    assert view.pane.appointment_target() == (appointment.start.date(), appointment.id)


def test_new_visitor_message_and_waiting_staff_notify(
    qtbot: Any, view: ChatView, ctx: UiContext, server: FakeChatServer
) -> None:
    posted: list[str] = []
    ctx.bus.status_message_posted.connect(posted.append)
    view.inbox.select("c-anna")
    server.say("c-bot", "visitor", "Und was kostet die HU?")
    server.conversation("c-neu", status="waiting_staff", minutes_ago=0)
    server.say("c-neu", "visitor", "Bitte rufen Sie mich zurück.")
    server.sync_into(ctx.services.db)

    ctx.bus.chat_synced.emit(None)

    texts = sorted(n.text for n in view.notifier.shown)
    assert texts == ["Besucher c-bot hat geschrieben.", "Besucher c-neu möchte mit einem Mitarbeiter sprechen."]
    assert sorted(posted) == [
        "Chat wartet auf Mitarbeiter: Besucher c-neu möchte mit einem Mitarbeiter sprechen.",
        "Neue Chat-Nachricht: Besucher c-bot hat geschrieben.",
    ]  # offscreen there is no tray: the status bar says it


def test_render_offscreen(qtbot: Any, view: ChatView, tmp_path: Path) -> None:
    view.inbox.select("c-anna")
    view.pane.reply.edit.setPlainText("Guten Tag Frau Huber, ich rufe Sie in 5 Minuten an.")
    path = tmp_path / "chat.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 10_000


def test_main_window_shows_the_chat_tab_on_the_one_device_session(
    qtbot: Any, registered: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, boxes: list[str]
) -> None:
    from sync import credentials
    from sync.cli import keyring_account
    from tests.sync.sync_support import MemoryKeyring
    from ui.main import build_context
    from ui.main_window import MainWindow

    keyring = MemoryKeyring()
    monkeypatch.setattr(credentials, "_system_keyring", lambda: keyring)  # never the OS keyring
    assert registered.path is not None
    store = credentials.CredentialStore(keyring_account(Path(registered.path)), backend=keyring)
    store.save(credentials.DeviceCredentials("http://127.0.0.1:9", "dev-1", "loc-1", "cbr_test"))  # nobody listens
    win = MainWindow(prefs=Prefs(tmp_path / "ui.ini"))
    qtbot.addWidget(win)
    win.attach(build_context(Services.for_database(registered), prefs=win.prefs, synchronous=True))
    win.show()
    chat = win.tabs.widget(win.TAB_CHAT)
    assert isinstance(chat, ChatView)
    assert win.tabs.tabText(win.TAB_CHAT) == "Chat (3)"
    assert chat.banners.not_registered.label.text() == ""  # registered

    # A refresh token rotates on every use: the tab must act on the sync controller's session, not its own.
    session = win.sync.device_session()
    assert chat.client_factory().credentials is session  # type: ignore[attr-defined]
    index = [win.settings.nav.item(i).text() for i in range(win.settings.nav.count())].index("Chat & Assistent")
    win.tabs.setCurrentIndex(win.TAB_SETTINGS)
    win.settings.show_page(index)
    page = win.settings.pages.currentWidget()
    assert isinstance(page, ChatSettingsPage)
    assert page.client_factory().credentials is session
    assert page.state.text().startswith("Die Widget-Einstellungen konnten nicht geladen werden")  # server down
    win.sync.shutdown()
    assert boxes == []  # the chat server is not reachable: no error dialog, no crash


def test_keyboard_moves_through_the_list_and_takes_over(qtbot: Any, view: ChatView, server: FakeChatServer) -> None:
    view.inbox.select("c-anna")
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.pane.reply.edit.setFocus()
    qtbot.keyClick(view.pane.reply.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert view.current_id == "c-bot"
    qtbot.keyClick(view.pane.reply.edit, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    assert acts(server) == [("status", "c-bot", "staff")]
