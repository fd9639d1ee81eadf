"""Einstellungen → Abo (offscreen): login, status, usage, plan cards, checkout/change/cancel/resume/portal,
invoices and German errors.

Most tests script the hosted API at the network edge (tests/ui/billing_fakes.py, real wire models);
the last ones run against the real hosted API under uvicorn. The browser is never opened:
``QDesktopServices.openUrl`` is recorded. No price is typed here: expected texts come from ``app.plans``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from app import formatting, plans
from app.db import Database
from app.services.registry import Services
from sync import local
from sync.owner_session import OWNER_ONLY, OwnerCredentialStore
from sync.protocol_billing import PAYMENTS_NOT_CONFIGURED
from sync.server.main import create_app
from tests.server.fixtures import PASSWORD, make_settings
from tests.sync.sync_support import LiveServer, MemoryKeyring, register_org
from tests.ui.billing_fakes import NOW, FakeBillingServer
from ui.bus import Bus
from ui.context import UiContext
from ui.prefs import Prefs
from ui.tasks import TaskRunner
from ui.views.settings.subscription_page import SubscriptionPage
from ui.views.settings.view import SettingsView
from ui.workers.owner_account import OwnerAccount

GOOD_PASSWORD = "richtig-richtig"


@pytest.fixture
def ctx(db: Database, tmp_path: Path) -> UiContext:
    return UiContext(Services.for_database(db), TaskRunner(synchronous=True), Bus(), Prefs(tmp_path / "ui.ini"))


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toString()) or True)
    return urls


def make_page(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring, server: Any = None) -> SubscriptionPage:
    transport = httpx.MockTransport(server) if server is not None else None
    store = OwnerCredentialStore("owner:test", backend=keyring)
    page = SubscriptionPage(ctx, account=OwnerAccount(ctx, store=store, transport=transport))
    qtbot.addWidget(page)
    page.resize(1180, 1200)
    page.show()
    return page


def log_in(page: SubscriptionPage, password: str = GOOD_PASSWORD, server: str = "http://srv") -> None:
    box = page.login_box
    box.server_edit.setText(server)
    box.email_edit.setText("inhaber@huber.example")
    box.password_edit.setText(password)
    box.button.click()


def answer(page: SubscriptionPage, yes: bool) -> None:
    box = page.confirm_box
    assert box is not None and box.isVisible()
    box.done(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.Cancel)


def price(plan_id: str, *, yearly: bool = False) -> str:
    plan = plans.plan(plan_id)
    amount = formatting.money(plan.yearly_net if yearly else plan.monthly_net)
    return f"{amount} netto / {'Jahr' if yearly else 'Monat'}"


def test_without_login_only_the_login_box_shows_with_the_sync_server_prefilled(
    qtbot: Any, ctx: UiContext, keyring: MemoryKeyring, db: Database
) -> None:
    local.register(db, server_url="https://sync.carbot.example", device_id="d1", location_id="l1")
    page = make_page(qtbot, ctx, keyring)
    assert page.login_box.isVisible() and not page.status_box.isVisible() and not page.plans_box.isVisible()
    assert page.login_box.server_edit.text() == "https://sync.carbot.example"
    page.login_box.server_edit.setText("ftp://x")
    page.login()
    errors = [label.text() for label in page.login_box.findChildren(type(page.message)) if label.text()]
    assert "Die Adresse muss mit https:// beginnen." in errors and "Bitte das Passwort eingeben." in errors


def test_login_shows_plan_status_dates_usage_and_the_plan_table(
    qtbot: Any, ctx: UiContext, keyring: MemoryKeyring
) -> None:
    server = FakeBillingServer()
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    assert not page.login_box.isVisible() and page.status_box.isVisible()
    assert page.who.text() == "Angemeldet als inhaber@huber.example (Inhaber) · Kfz Huber"
    assert page.login_box.password_edit.text() == ""  # the password is not kept
    entry = keyring.secrets[("carbot-werkstatt-sync", "owner:test")]
    assert "refresh-1" in entry and GOOD_PASSWORD not in entry and "access-1" not in entry
    v = page.values
    assert (v["plan"].text(), v["status"].text(), v["interval"].text()) == ("Starter", "Testphase", "–")
    assert page.date_title.text() == "Testphase endet am"
    trial_end = (NOW + dt.timedelta(days=plans.TRIAL_DAYS)).astimezone().date()
    assert v["date"].text() == trial_end.strftime("%d.%m.%Y")
    assert page.leads_bar.value.text() == f"37 von {plans.limit('starter', 'leads_per_month')}"
    assert page.locations_bar.value.text() == "1 von 1"
    assert [card.price.text() for card in page.cards.values()] == [price(p.id) for p in plans.PLANS]
    assert all(card.button.text() == f"{plans.TRIAL_DAYS} Tage testen" for card in page.cards.values())
    page.yearly.setChecked(True)
    assert page.cards["enterprise"].price.text() == price("enterprise", yearly=True)
    assert page.cards["starter"].badge.isVisibleTo(page) and not page.cards["enterprise"].badge.isVisibleTo(page)
    assert page.no_invoices.isVisibleTo(page) and not page.cancel_button.isVisibleTo(page)


def test_a_wrong_password_is_shown_in_german(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    page = make_page(qtbot, ctx, keyring, FakeBillingServer())
    log_in(page, password="falsch-falsch")
    assert page.message.text() == "E-Mail-Adresse oder Passwort ist falsch."
    assert page.login_box.isVisible() and page.login_box.button.isEnabled() and keyring.secrets == {}


def test_trial_checkout_opens_stripe_in_the_browser_for_the_chosen_interval(
    qtbot: Any, ctx: UiContext, keyring: MemoryKeyring, opened: list[str]
) -> None:
    server = FakeBillingServer()
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    page.yearly.setChecked(True)
    page.cards["professional"].button.click()
    assert server.billing_posts() == [
        ("/v1/billing/checkout", {"plan_id": "professional", "interval": "year", "trial": True})
    ]
    checkout = [r for r in server.requests if r.url.path == "/v1/billing/checkout"][0]
    assert checkout.headers["Idempotency-Key"] and checkout.headers["Authorization"].startswith("Bearer access-")
    assert opened == ["https://checkout.stripe.com/c/pay/professional"]
    assert "im Browser geöffnet" in page.message.text()


def test_an_upgrade_is_confirmed_as_immediate_and_applied(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    server.subscribe("starter")
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    assert page.cards["starter"].button.text() == "Aktueller Tarif" and not page.cards["starter"].button.isEnabled()
    page.cards["enterprise"].button.click()
    assert "sofort" in page.confirm_box.text() and price("enterprise") in page.confirm_box.text()  # type: ignore[union-attr]
    answer(page, yes=False)
    assert server.billing_posts() == []  # cancelled: nothing sent
    page.cards["enterprise"].button.click()
    answer(page, yes=True)
    assert server.billing_posts() == [("/v1/billing/change", {"plan_id": "enterprise", "interval": "month"})]
    assert page.values["plan"].text() == "Enterprise" and page.message.text() == "Der Tarif wurde gewechselt."


def test_a_downgrade_is_confirmed_for_the_period_end_and_shown_as_scheduled(
    qtbot: Any, ctx: UiContext, keyring: MemoryKeyring
) -> None:
    server = FakeBillingServer()
    server.subscribe("enterprise")
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    end = (NOW + dt.timedelta(days=20)).astimezone().date().strftime("%d.%m.%Y")
    page.cards["professional"].button.click()
    question = page.confirm_box.text()  # type: ignore[union-attr]
    assert f"zum Ende des laufenden Zeitraums am {end}" in question and "„Enterprise“ unverändert" in question
    answer(page, yes=True)
    assert page.values["plan"].text() == "Enterprise"
    assert f"Wechsel zum Tarif „Professional“ zum {end} vorgemerkt." in page.notes.text()
    assert page.cards["professional"].button.text() == "Vorgemerkt"


def test_a_plan_with_too_few_locations_cannot_be_chosen(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    server.subscribe("enterprise", locations=2)
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    for plan_id in ("starter", "professional"):
        card = page.cards[plan_id]
        assert not card.button.isEnabled()
        assert card.note.text().endswith("umfasst 1 Standort; Ihre Organisation hat 2.")
    assert page.locations_bar.value.text() == "2 (unbegrenzt)"


def test_cancel_to_the_period_end_and_take_it_back(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    server.subscribe("professional", "year")
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    assert page.yearly.isChecked()  # the page starts on the subscription's own interval
    end = (NOW + dt.timedelta(days=20)).astimezone().date().strftime("%d.%m.%Y")
    assert page.cancel_button.isVisibleTo(page) and not page.resume_button.isVisibleTo(page)
    page.cancel_button.click()
    assert page.confirm_box is not None and f"zum {end} kündigen" in page.confirm_box.text()
    answer(page, yes=True)
    assert page.notes.text().startswith(f"Gekündigt zum {end}.") and page.date_title.text() == "Läuft bis"
    assert page.resume_button.isVisibleTo(page) and not page.cancel_button.isVisibleTo(page)
    page.resume_button.click()
    assert not server.state["cancel_at_period_end"] and page.cancel_button.isVisibleTo(page)
    assert [p for p, _b in server.billing_posts()] == ["/v1/billing/cancel", "/v1/billing/resume"]


def test_portal_and_invoices_open_in_the_browser(
    qtbot: Any, ctx: UiContext, keyring: MemoryKeyring, opened: list[str]
) -> None:
    server = FakeBillingServer()
    invoice = {"id": "in_1", "number": "CB-0001", "created": NOW.isoformat(), "total_cents": 123456,
               "currency": "eur", "status": "paid", "hosted_invoice_url": "https://invoice.stripe.com/i/1",
               "invoice_pdf": "https://pay.stripe.com/invoice/1/pdf"}  # fmt: skip
    server.subscribe("professional", invoices=[invoice])
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    table = page.invoices
    assert table.rowCount() == 1 and table.item(0, 0).text() == "CB-0001"
    assert table.item(0, 2).text() == "1.234,56\xa0€" and table.item(0, 3).text() == "bezahlt"
    table.cellWidget(0, 4).linkActivated.emit("https://pay.stripe.com/invoice/1/pdf")  # type: ignore[attr-defined]
    page.portal_button.click()
    assert opened == ["https://pay.stripe.com/invoice/1/pdf", "https://billing.stripe.com/p/session/test"]
    assert not page.open_url("javascript:alert(1)") and len(opened) == 2


def test_an_auditor_sees_everything_but_cannot_change_it(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer(role="auditor")
    server.subscribe("professional")
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    assert "(Prüfer)" in page.who.text() and page.values["plan"].text() == "Professional"
    buttons = [card.button for card in page.cards.values()] + [page.cancel_button, page.portal_button]
    assert all(not b.isEnabled() and b.toolTip() == OWNER_ONLY for b in buttons)


def test_status_texts_for_past_due_and_read_only(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    server.subscribe("professional", grace_until=NOW + dt.timedelta(days=3))
    server.state["status"] = "past_due"
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    grace = (NOW + dt.timedelta(days=3)).astimezone().date().strftime("%d.%m.%Y")
    assert page.values["status"].text() == "Zahlung überfällig"
    assert f"Zahlungsdaten bis {grace} im Stripe-Portal" in page.notes.text()
    server.state.update(status="cancelled", read_only=True)
    page.refresh_button.click()
    assert page.values["status"].text() == "Lesemodus" and "Rechnungen können weiterhin gedruckt" in page.notes.text()
    assert page.cards["professional"].button.text() == "Abonnieren"  # the subscription has ended


def test_a_server_without_payments_answers_in_german(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    page = make_page(qtbot, ctx, keyring, FakeBillingServer(configured=False))
    log_in(page)
    page.cards["starter"].button.click()
    assert page.message.text() == PAYMENTS_NOT_CONFIGURED


def test_logout_forgets_the_session(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    page = make_page(qtbot, ctx, keyring, server)
    log_in(page)
    page.logout_button.click()
    assert page.login_box.isVisible() and not page.status_box.isVisible() and keyring.secrets == {}
    assert server.bodies[-1] == ("/v1/auth/logout", {"refresh_token": "refresh-1"})


def test_a_kept_session_is_restored_when_the_page_is_shown(qtbot: Any, ctx: UiContext, keyring: MemoryKeyring) -> None:
    server = FakeBillingServer()
    first = make_page(qtbot, ctx, keyring, server)
    log_in(first)
    second = make_page(qtbot, ctx, keyring, server)  # "restart": a new page, same keyring
    assert second.values["plan"].text() == "Starter" and not second.login_box.isVisible()


# --- against the real hosted API ------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(f"sqlite:///{tmp_path / 'server.db'}"))) as server:
        yield server


def test_the_abo_page_of_the_settings_against_the_live_server(
    qtbot: Any, ctx: UiContext, live: LiveServer, monkeypatch: pytest.MonkeyPatch, keyring: MemoryKeyring
) -> None:
    from sync import credentials

    monkeypatch.setattr(credentials, "_system_keyring", lambda: keyring)
    with httpx.Client(base_url=live.url, timeout=30) as http:
        org = register_org(http, live.server.config.app, locations=1)
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    view.resize(1300, 900)
    view.show()
    titles = [view.nav.item(i).text() for i in range(view.nav.count())]
    index = titles.index("Abo")
    view.show_page(index)
    page = view.pages.widget(index)
    assert isinstance(page, SubscriptionPage) and page.login_box.isVisible()
    page.login_box.server_edit.setText(live.url)
    page.login_box.email_edit.setText(org["email"])
    page.login_box.password_edit.setText(PASSWORD)
    page.login_box.button.click()  # synchronous runner: the real HTTP round trips happen here
    assert page.values["plan"].text() == "Starter" and page.values["status"].text() == "Testphase"
    assert page.locations_bar.value.text() == "1 von 1"
    assert [card.price.text() for card in page.cards.values()] == [price(p.id) for p in plans.PLANS]
    assert any(account.startswith("owner:") for _service, account in keyring.secrets)
    page.cards["professional"].button.click()
    assert page.message.text() == PAYMENTS_NOT_CONFIGURED  # no Stripe on this server
    assert page.message.styleSheet().endswith("#c62828;")  # shown as an error
    page.logout_button.click()  # ends the session on the server and closes the connection
    assert page.login_box.isVisible() and not any(a.startswith("owner:") for _s, a in keyring.secrets)
