"""The web chat end to end: real headless Chromium, a real ``carbot server`` process, a real desktop database.

A workshop website on ``localhost`` embeds the widget from the API on ``127.0.0.1`` (a third-party iframe,
as on the internet) with the location's key. The visitor gives consent, asks for the price of an oil
change (the answer carries the catalogue's "ab" price, computed here from the desktop's catalogue),
books an appointment (the pending appointment appears in the desktop's calendar), then staff take the
conversation over and the next visitor message gets no bot answer.

Run twice: ``desktop`` — the desktop's answering loop is online and answers; ``server`` — no desktop is
online, the server's built-in assistant answers from the last uploaded profile and the booking request
reaches the desktop's calendar only when the desktop syncs later.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, FrameLocator, Page, Request, expect

from app.services.appointments import AppointmentService
from app.services.chat_inbox import ChatInboxService
from sync.protocol_chat import ChatStatus, WidgetConfigIn
from tests.e2e.stack import CarbotServer, CuttableProxy, Workshop, WorkshopSite, euro_de

STAFF_TAKEOVER = "Ein Mitarbeiter hat das Gespräch übernommen."
QUIET_SECONDS = 7.0
"""How long the test waits for a bot answer that must not come (the server's claim time is 3 s)."""
SLOT = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\D+(\d{1,2}):(\d{2})")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[CarbotServer]:
    """A fresh ``carbot server`` process."""
    with CarbotServer(tmp_path) as running:
        yield running


@pytest.fixture
def workshop(tmp_path: Path, server: CarbotServer) -> Iterator[Workshop]:
    """The demo desktop, registered with the server, its public profile uploaded."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        shop = Workshop.create(tmp_path, http, server.url)
    try:
        shop.agent.push_profile(force=True)
        yield shop
    finally:
        shop.close()


def _bot_messages(frame: FrameLocator) -> int:
    return frame.locator("#log li.msg--bot[data-seq]").count()


def _ask(frame: FrameLocator, text: str, server: CarbotServer, *, timeout: float = 30_000) -> str:
    """Type ``text`` and send it with Enter; returns the text of the bot's (stored) answer."""
    before = _bot_messages(frame)
    frame.locator("#input").fill(text)
    frame.locator("#input").press("Enter")
    answer = frame.locator("#log li.msg--bot[data-seq]").nth(before)
    try:
        answer.wait_for(timeout=timeout)
    except Exception as exc:  # show what the widget and the server saw
        log = frame.locator("#log").inner_text()
        raise AssertionError(f"no bot answer to {text!r}\nwidget:\n{log}\nserver:\n{server.log_tail()}") from exc
    return str(answer.locator(".text").text_content())


def _open_widget(page: Page, site: WorkshopSite) -> FrameLocator:
    page.goto(site.url)
    launcher = page.locator("button[data-carbot='launcher']")
    launcher.wait_for()
    assert page.locator("iframe").count() == 0  # nothing loads before the click
    launcher.click()
    frame = page.frame_locator("iframe[data-carbot='frame']")
    frame.locator("#consent-accept").wait_for()
    # The consent page is static HTML (German by default); frame.js fills the language list when it has set
    # itself up. Clicking before that would click a button without its handler on a busy machine.
    frame.locator("#lang option").first.wait_for(state="attached")
    return frame


def _pending_appointment(shop: Workshop, start: dt.datetime) -> list[str]:
    """Notes of the pending web-chat appointments starting at ``start`` in the desktop's calendar."""
    return [
        a.notes
        for a in AppointmentService(shop.desktop.db).day(start.date())
        if a.status == "pending" and a.start == start
    ]


@pytest.mark.parametrize("answered_by", ["desktop", "server"])
def test_widget_in_chromium(
    answered_by: str, browser: Browser, server: CarbotServer, workshop: Workshop, tmp_path: Path
) -> None:
    config = workshop.chat.widget_config()  # a fresh location: every site may embed the widget
    assert config.public_key.startswith("wk_") and config.allowed_domains == []
    # The workshop names its website: the frame's CSP (frame-ancestors) must let its page on a
    # non-default port embed the widget, and the REST calls must pass the domain check.
    workshop.chat.update_widget(WidgetConfigIn(allowed_domains=["localhost"]))
    if answered_by == "desktop":
        workshop.start_agent()
    oil_changes = {name: f"ab {euro_de(price)}" for name, price in workshop.oil_change_prices().items()}

    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(_path(request)))
    page = context.new_page()
    try:
        with WorkshopSite(server.url, config.public_key) as site:
            frame = _open_widget(page, site)
            # Consent gate: German by default, nothing sent to the chat API before consent.
            expect(frame.locator("#consent-accept")).to_have_text("Zustimmen und Chat starten")
            expect(frame.locator("#consent-decline")).to_have_text("Ablehnen")
            assert not [path for path in requests if path.startswith("/v1/")], requests
            frame.locator("#consent-accept").click()
            frame.locator("#input").wait_for()

            # 1. The price of an oil change: the first line names a catalogue oil change and its "ab" price.
            answer = _ask(frame, "Was kostet ein Ölwechsel?", server)
            first_line = answer.splitlines()[0]
            named = [name for name in oil_changes if name in first_line]
            assert named, (first_line, oil_changes)
            assert oil_changes[max(named, key=len)] in first_line, (first_line, oil_changes)

            # 2. An appointment: pick the first slot offered, leave name and phone.
            offer = _ask(frame, "Ich möchte einen Termin für einen Ölwechsel.", server)
            first = re.search(r"1\)\s*(.+)", offer)
            assert first, offer
            day, month, year, hour, minute = (int(part) for part in SLOT.search(first.group(1)).groups())  # type: ignore[union-attr]
            start = dt.datetime(year, month, day, hour, minute)
            _ask(frame, "1", server)
            confirmation = _ask(frame, "Max Mustermann, 0171 2345678", server)
            assert "Mustermann" in confirmation, confirmation

            if answered_by == "server":
                assert _pending_appointment(workshop, start) == []  # the desktop was offline: not there yet
            else:
                assert workshop.answered() >= 4, workshop.reports  # every answer came from the desktop
            report = workshop.sync()  # the desktop syncs (later, for the server case)
            notes = _pending_appointment(workshop, start)
            assert len(notes) == 1, (start, report, AppointmentService(workshop.desktop.db).day(start.date()))
            assert "0171 2345678" in notes[0] and "Max Mustermann" in notes[0]

            # 3. Staff take over from the desktop: the widget shows it, the bot stays silent.
            inbox = ChatInboxService(workshop.desktop.db)
            (conversation,) = inbox.conversations()
            workshop.chat.set_status(conversation.id, ChatStatus.STAFF, "Übernommen an der Theke")
            frame.locator("#status", has_text=STAFF_TAKEOVER).wait_for(timeout=15_000)
            workshop.chat.post_message(
                conversation.id, "Guten Tag, hier ist Sandra von der Werkstatt.", author="staff", client_id=uuid.uuid4()
            )
            frame.locator("#log li.msg--staff", has_text="hier ist Sandra").wait_for(timeout=15_000)
            answered_before, bots_before = workshop.answered(), _bot_messages(frame)
            frame.locator("#input").fill("Und was kostet eine Inspektion?")
            frame.locator("#input").press("Enter")
            frame.locator("#log li.msg--visitor[data-seq]", has_text="Inspektion").wait_for(timeout=15_000)
            time.sleep(QUIET_SECONDS)
            assert _bot_messages(frame) == bots_before
            assert frame.locator("#typing").is_hidden()
            assert workshop.answered() == answered_before
            workshop.sync()
            messages = inbox.messages(conversation.id)
            assert messages[-1].author == "visitor" and "Inspektion" in messages[-1].text, messages[-3:]
            assert frame.locator("#log li.draft").count() == 0
    finally:
        context.close()


def test_widget_on_a_phone_lead_form_handoff_and_escaping(
    browser: Browser, server: CarbotServer, workshop: Workshop
) -> None:
    """Polish browser on a phone: full screen, language switch, lead form checks, no HTML from messages, handoff."""
    key = workshop.chat.widget_config().public_key
    context = browser.new_context(locale="pl-PL", viewport={"width": 390, "height": 844}, is_mobile=True)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(_path(request)))
    page = context.new_page()
    try:
        with CuttableProxy(server.port) as line, WorkshopSite(line.url, key) as site:
            frame = _open_widget(page, site)
            box = page.locator("iframe[data-carbot='frame']").bounding_box()
            assert box == {"x": 0, "y": 0, "width": 390, "height": 844}  # full screen below 480 px
            # frame.js sets the texts after the page is visible: wait for them (the HTML default is German)
            expect(frame.locator("#consent-accept")).to_have_text("Zgadzam się i rozpoczynam czat")
            frame.locator("#lang").select_option("de")
            expect(frame.locator("#consent-accept")).to_have_text("Zustimmen und Chat starten")
            frame.locator("#consent-accept").click()
            frame.locator("#input").wait_for()

            # Message text is text: markup shows literally and never runs.
            hostile = '<img src=x onerror="parent.__xss=1"><b>fett</b> https://evil.example'
            frame.locator("#input").fill(hostile)
            frame.locator("#input").press("Enter")
            mine = frame.locator("#log li.msg--visitor[data-seq]").first
            mine.wait_for()
            assert mine.locator(".text").text_content() == hostile
            assert frame.locator("#log img, #log b, #log a").count() == 0

            # Lead form: German inline errors; nothing is sent until phone or e-mail is valid.
            frame.locator("#lead-open").click()
            frame.locator("#lead button[type='submit']").click()
            expect(frame.locator("#e-phone")).to_have_text(
                "Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an."
            )
            frame.locator("#f-name").fill("Erika Muster")
            frame.locator("#f-email").fill("erika@")
            frame.locator("#lead button[type='submit']").click()
            expect(frame.locator("#e-email")).to_have_text("Bitte prüfen Sie die E-Mail-Adresse.")
            assert "/v1/widget/lead" not in requests
            frame.locator("#f-email").fill("erika.muster@example.org")
            frame.locator("#f-vehicle").fill("VW Golf VII, 2016")
            frame.locator("#f-concern").fill("Bremsen quietschen")
            frame.locator("#lead button[type='submit']").click()
            frame.locator("#notice", has_text="Danke! Wir melden uns bei Ihnen.").wait_for(timeout=15_000)
            assert frame.locator("#lead").is_hidden()

            # "Talk to a person" hands the conversation to staff.
            frame.locator("#human", has_text="Mit einem Menschen sprechen").click()
            frame.locator("#status", has_text="Ein Mitarbeiter wird benachrichtigt").wait_for(timeout=15_000)
            assert page.evaluate("() => window.__xss") is None

            workshop.sync()
            (conversation,) = ChatInboxService(workshop.desktop.db).conversations()
            assert conversation.status == "waiting_staff"
            assert conversation.is_lead
            assert conversation.contact is not None and conversation.contact.email == "erika.muster@example.org"

            # Offline for a moment: what staff wrote meanwhile arrives after the reconnect, once, in order.
            line.cut()
            frame.locator("#notice", has_text="Verbindung wird wiederhergestellt").wait_for(timeout=15_000)
            for text in ("Hallo Frau Muster, hier ist Sandra.", "Wir rufen Sie gleich an."):
                workshop.chat.post_message(conversation.id, text, author="staff", client_id=uuid.uuid4())
            line.restore()
            frame.locator("#log li.msg--staff", has_text="gleich an").wait_for(timeout=45_000)
            seqs = frame.locator("#log li[data-seq]").evaluate_all("items => items.map(i => Number(i.dataset.seq))")
            assert seqs == list(range(1, len(seqs) + 1)), seqs

            # The close button inside the frame hides it and brings the launcher back.
            frame.locator("#close").click()
            page.locator("iframe[data-carbot='frame']").wait_for(state="hidden")
            assert page.locator("button[data-carbot='launcher']").is_visible()

            # A site that is not on the allow-list gets no chat.
            workshop.chat.update_widget(WidgetConfigIn(allowed_domains=["huber-kfz.example"]))
            other = context.new_page()
            other.goto(site.url)
            other.locator("button[data-carbot='launcher']").click()
            refused = other.frame_locator("iframe[data-carbot='frame']").locator("body")
            refused.filter(has_text="Das Chat-Widget ist für diese Website nicht freigegeben.").wait_for()
    finally:
        context.close()


def _path(request: Request) -> str:
    return httpx.URL(request.url).path
