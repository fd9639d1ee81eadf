"""The subscription banner of the main window (ui/billing_banner.py), driven by the offline entitlement.

Entitlement tokens are really signed (ES256, a fresh key) and stored in the desktop database the way a
sync pull stores them; the main window reads them at start-up without any server. The last test logs the
owner in against the real hosted API and checks that the reports' location filter is fed from the roll-ups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from PySide6.QtWidgets import QMessageBox

from app.db import Database
from app.plans import SubscriptionStatus
from app.services.registry import Services
from sync import credentials, local
from sync.entitlements import Entitlements, build_claims, encode_entitlement
from sync.owner_session import OwnerRollups
from sync.server.main import create_app
from tests.server.fixtures import PASSWORD, make_settings
from tests.sync.sync_support import LiveServer, MemoryKeyring, register_org
from ui.billing_banner import TRIAL_ENDS_AT, BannerKind, billing_notice, subscription_page
from ui.main import build_context
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.views.settings.subscription_page import SubscriptionPage

ISSUER = "https://api.carbot.test"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
KEY = ec.generate_private_key(ec.SECP256R1())
JWKS = {"keys": [{**ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1", "alg": "ES256", "use": "sig"}]}


def token(status: SubscriptionStatus, *, plan: str = "professional", grace: dt.datetime | None = None,
          issued: dt.datetime = NOW) -> str:  # fmt: skip
    claims = build_claims(issuer=ISSUER, organization_id="org-1", location_id="loc-1", plan_id=plan, status=status,
                          issued_at=issued, grace_until=grace)  # fmt: skip
    return encode_entitlement(claims, KEY, kid="k1")


def state(status: SubscriptionStatus, **kwargs: Any) -> Any:
    policy = Entitlements(issuer=ISSUER)
    policy.restore(token(status, **kwargs), JWKS, now=NOW)
    return policy.current(NOW)


def date(moment: dt.datetime) -> str:
    return moment.astimezone().date().strftime("%d.%m.%Y")


# --- the decision (pure) ------------------------------------------------------------------------------------


def test_past_due_asks_for_the_payment_details_until_the_grace_ends() -> None:
    grace = NOW + dt.timedelta(days=5)
    notice = billing_notice(state(SubscriptionStatus.PAST_DUE, grace=grace), now=NOW)
    assert notice is not None and notice.kind is BannerKind.PAST_DUE
    assert notice.text == (
        f"Zahlung überfällig – bitte Zahlungsdaten bis {date(grace)} aktualisieren, sonst wechselt CarBot in den "
        "Lesemodus."
    )


def test_an_ended_subscription_is_the_read_only_banner() -> None:
    expected = (
        "Lesemodus: Ihr Abo ist beendet. Alle Daten bleiben erhalten, Rechnungen können weiterhin gedruckt werden."
    )
    cancelled = billing_notice(state(SubscriptionStatus.CANCELLED), now=NOW)
    assert cancelled is not None and (cancelled.kind, cancelled.text) == (BannerKind.READ_ONLY, expected)
    grace_over = state(SubscriptionStatus.PAST_DUE, grace=NOW - dt.timedelta(minutes=1))
    notice = billing_notice(grace_over, now=NOW)
    assert notice is not None and notice.kind is BannerKind.READ_ONLY


def test_a_trial_hint_only_in_the_last_three_days() -> None:
    trialing = state(SubscriptionStatus.TRIALING)
    soon = NOW + dt.timedelta(days=2, hours=12)
    notice = billing_notice(trialing, now=NOW, trial_ends_at=soon)
    assert notice is not None and notice.kind is BannerKind.TRIAL_ENDING and date(soon) in notice.text
    assert billing_notice(trialing, now=NOW, trial_ends_at=NOW + dt.timedelta(days=4)) is None
    assert billing_notice(trialing, now=NOW, trial_ends_at=NOW - dt.timedelta(hours=1)) is None
    assert billing_notice(trialing, now=NOW) is None  # the end is unknown until the owner opened the Abo page


def test_no_banner_when_active_offline_too_long_or_unregistered() -> None:
    assert billing_notice(state(SubscriptionStatus.ACTIVE), now=NOW) is None
    old = state(SubscriptionStatus.ACTIVE, issued=NOW - dt.timedelta(days=40))  # offline read-only: not billing
    assert old.read_only and billing_notice(old, now=NOW) is None
    assert billing_notice(None, now=NOW) is None


# --- in the main window ---------------------------------------------------------------------------------------


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(credentials, "_system_keyring", lambda: backend)
    return backend


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    return shown


def store_entitlement(db: Database, entitlement: str) -> None:
    local.register(db, server_url="http://127.0.0.1:9", device_id="dev-1", location_id="loc-1")
    local.apply_changes(db, [], cursor=0, entitlement=entitlement, jwks=JWKS)


def open_window(qtbot: Any, db: Database, tmp_path: Path, prefs: Prefs | None = None) -> MainWindow:
    prefs = prefs or Prefs(tmp_path / "ui.ini")
    win = MainWindow(prefs=prefs)
    win.attach(build_context(Services.for_database(db), prefs=prefs, synchronous=True))
    qtbot.addWidget(win)
    win.resize(1366, 820)
    win.show()
    return win


def test_the_past_due_banner_shows_above_the_tabs_and_leads_to_the_abo_page(
    qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring
) -> None:
    grace = NOW + dt.timedelta(days=4)
    store_entitlement(db, token(SubscriptionStatus.PAST_DUE, grace=grace))
    win = open_window(qtbot, db, tmp_path)
    banner = win.billing.banner
    assert banner.isVisible() and banner.notice.kind is BannerKind.PAST_DUE
    assert f"bis {date(grace)} aktualisieren" in banner.label.text()
    assert banner.y() < win.tabs.y() and win.centralWidget().isAncestorOf(win.tabs)  # above the tabs
    banner.button.click()
    assert win.tabs.currentIndex() == win.TAB_SETTINGS
    assert isinstance(win.settings.pages.currentWidget(), SubscriptionPage)
    assert win.settings.title.text() == "Abo"


def test_the_read_only_banner_and_its_update_after_a_sync_round(
    qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring
) -> None:
    store_entitlement(db, token(SubscriptionStatus.CANCELLED))
    win = open_window(qtbot, db, tmp_path)
    banner = win.billing.banner
    assert banner.isVisible() and banner.label.text().startswith("Lesemodus: Ihr Abo ist beendet.")
    assert "#b71c1c" in banner.styleSheet()
    # The owner subscribed again: the next sync round brings an active entitlement and the banner goes.
    later = NOW + dt.timedelta(seconds=5)
    local.apply_changes(db, [], cursor=0, entitlement=token(SubscriptionStatus.ACTIVE, issued=later), jwks=JWKS)
    win.sync.refresh()
    assert not banner.isVisible()


def test_the_trial_hint_uses_the_trial_end_of_the_last_overview(
    qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring
) -> None:
    store_entitlement(db, token(SubscriptionStatus.TRIALING, plan="starter"))
    prefs = Prefs(tmp_path / "ui.ini")
    prefs.set(TRIAL_ENDS_AT, (NOW + dt.timedelta(days=1, hours=2)).isoformat())
    win = open_window(qtbot, db, tmp_path, prefs)
    banner = win.billing.banner
    assert banner.isVisible() and banner.notice.kind is BannerKind.TRIAL_ENDING
    assert banner.label.text().startswith("Ihre Testphase endet am")
    prefs.set(TRIAL_ENDS_AT, (NOW + dt.timedelta(days=9)).isoformat())
    win.billing.update_banner()
    assert not banner.isVisible()


def test_no_banner_for_an_active_subscription(qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring) -> None:
    store_entitlement(db, token(SubscriptionStatus.ACTIVE))
    win = open_window(qtbot, db, tmp_path)
    assert not win.billing.banner.isVisible() and win.billing.banner.notice is None


# --- the owner's login feeds the reports' location filter --------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(f"sqlite:///{tmp_path / 'server.db'}"))) as server:
        yield server


def test_the_owner_login_feeds_the_reports_location_filter(
    qtbot: Any, db: Database, tmp_path: Path, keyring: MemoryKeyring, live: LiveServer
) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        org = register_org(http, live.server.config.app, locations=2)  # Enterprise, two locations
    local.register(db, server_url=live.url, device_id="dev-1", location_id=org["location_ids"][0])
    win = open_window(qtbot, db, tmp_path)
    assert win.reports.rollups is None  # nobody logged in: no filter
    win.tabs.setCurrentIndex(win.TAB_REPORTS)
    assert not win.reports.header.location_box.isVisibleTo(win.reports)
    page = subscription_page(win)
    assert isinstance(page, SubscriptionPage) and page.account is win.billing.account  # one shared login
    page.login_box.server_edit.setText(live.url)
    page.login_box.email_edit.setText(org["email"])
    page.login_box.password_edit.setText(PASSWORD)
    page.login_box.button.click()
    assert isinstance(win.reports.rollups, OwnerRollups)
    box = win.reports.header.location_box
    assert box.isVisibleTo(win.reports)
    assert [box.itemText(i) for i in range(box.count())] == ["Dieser Standort", "Filiale 2", "Alle Standorte"]
    page.logout_button.click()
    assert win.reports.rollups is None and not box.isVisibleTo(win.reports)
