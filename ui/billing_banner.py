"""The subscription banner at the top of the main window, and the wiring of the owner's login.

The banner follows the offline entitlement (``sync.entitlements``; the SyncController re-evaluates it
after every round and at start-up), so it works without a connection:

- ``past_due`` within the payment grace: "Zahlung überfällig – bitte Zahlungsdaten bis {Datum}
  aktualisieren, sonst wechselt CarBot in den Lesemodus." (amber);
- the subscription has ended (``cancelled``, or ``past_due`` after the grace): "Lesemodus: Ihr Abo ist
  beendet. …" (red);
- a trial that ends within ``TRIAL_HINT_DAYS`` days: a hint (blue). The entitlement does not carry the
  trial's end, so it comes from the owner's last overview (Einstellungen → Abo), kept in the preferences.

Each banner has a button to Einstellungen → Abo. A read-only mode caused only by being offline too long
is not a subscription matter; the status bar's sync banner explains that one.

``install_billing(window)`` is the one call the main window makes: it adds the banner, shares the Abo
page's ``OwnerAccount`` and feeds the reports' location filter from ``sync.rollups_client`` (through
``sync.owner_session.OwnerRollups``) while an owner or auditor is logged in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.i18n import _
from app.plans import SubscriptionStatus, is_read_only
from sync.entitlements import EntitlementState
from sync.owner_session import OwnerRollups, OwnerSession
from sync.protocol_billing import BillingOverview
from ui.prefs import Pref
from ui.views.settings.subscription_texts import local_date
from ui.workers.owner_account import OwnerAccount

TRIAL_HINT_DAYS = 3
TRIAL_ENDS_AT = Pref("billing/trial_ends_at", "")
"""End of the trial as ISO text, from the owner's last overview (the entitlement does not carry it)."""


class BannerKind(StrEnum):
    """Which banner shows."""

    PAST_DUE = "past_due"
    READ_ONLY = "read_only"
    TRIAL_ENDING = "trial_ending"


@dataclass(frozen=True)
class BillingNotice:
    """A banner to show: its kind and German text."""

    kind: BannerKind
    text: str


def billing_notice(
    state: EntitlementState | None, *, now: dt.datetime, trial_ends_at: dt.datetime | None = None
) -> BillingNotice | None:
    """The banner for the entitlement ``state`` at ``now`` (pure), or None."""
    ent = state.entitlement if state is not None else None
    if ent is None:
        return None  # not registered: the status bar asks for the registration
    if is_read_only(ent.status, now=now, grace_until=ent.grace_until):
        return BillingNotice(
            BannerKind.READ_ONLY,
            _(
                "Lesemodus: Ihr Abo ist beendet. Alle Daten bleiben erhalten, Rechnungen können weiterhin gedruckt "
                "werden."
            ),
        )
    if ent.status is SubscriptionStatus.PAST_DUE and ent.grace_until is not None:
        return BillingNotice(
            BannerKind.PAST_DUE,
            _(
                "Zahlung überfällig – bitte Zahlungsdaten bis {date} aktualisieren, sonst wechselt CarBot in den "
                "Lesemodus."
            ).format(date=local_date(ent.grace_until)),
        )
    if ent.status is SubscriptionStatus.TRIALING and trial_ends_at is not None:
        if now < trial_ends_at <= now + dt.timedelta(days=TRIAL_HINT_DAYS):
            return BillingNotice(
                BannerKind.TRIAL_ENDING,
                _(
                    "Ihre Testphase endet am {date}. Unter Einstellungen → Abo schließen Sie ein Abo ab, damit "
                    "CarBot ohne Unterbrechung weiterläuft."
                ).format(date=local_date(trial_ends_at)),
            )
    return None


COLOURS = {
    BannerKind.PAST_DUE: ("#fff3e0", "#e65100"),
    BannerKind.READ_ONLY: ("#ffebee", "#b71c1c"),
    BannerKind.TRIAL_ENDING: ("#e3f2fd", "#0d47a1"),
}


class BillingBanner(QFrame):
    """A full-width strip with the text and a "Zum Abo" button."""

    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("billingBanner")
        self.notice: BillingNotice | None = None
        self.label = QLabel("")
        self.label.setObjectName("billingBannerText")
        self.label.setWordWrap(True)
        self.button = QPushButton(_("Zum Abo"))
        self.button.setObjectName("billingBannerButton")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.open_requested.emit)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()

    def set_notice(self, notice: BillingNotice | None) -> None:
        """Show ``notice`` (None hides the banner)."""
        self.notice = notice
        if notice is None:
            self.hide()
            return
        background, colour = COLOURS[notice.kind]
        self.setStyleSheet(
            f"QFrame#billingBanner {{ background: {background}; border-bottom: 1px solid {colour}; }}"
            f"QLabel#billingBannerText {{ color: {colour}; font-weight: 600; }}"
        )
        self.label.setText(notice.text)
        self.show()


def _parse_moment(text: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class BillingWiring(QObject):
    """Keeps the banner, the owner's account and the reports' roll-up source in step."""

    def __init__(
        self,
        window: Any,
        account: OwnerAccount,
        banner: BillingBanner,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__(window)
        self.window = window
        self.account = account
        self.banner = banner
        self.now = now
        self.entitlement: EntitlementState | None = None
        self.rollups: OwnerRollups | None = None
        account.overview_changed.connect(self._overview_changed)
        account.session_changed.connect(self._session_changed)
        banner.open_requested.connect(self.open_subscription_page)

    def entitlement_changed(self, status: Any) -> None:
        """A new sync status (``ui.sync_status.SyncStatus``): re-decide the banner."""
        self.entitlement = getattr(status, "entitlement", None)
        self.update_banner()

    def update_banner(self) -> None:
        """Show the banner for the current entitlement and the kept trial end."""
        trial_ends = _parse_moment(self.window.prefs.get(TRIAL_ENDS_AT)) if self.window.prefs else None
        self.banner.set_notice(billing_notice(self.entitlement, now=self.now(), trial_ends_at=trial_ends))

    def _overview_changed(self, overview: BillingOverview | None) -> None:
        if overview is None:
            return
        ends = overview.trial_ends_at.isoformat() if overview.trial_ends_at is not None else ""
        self.window.prefs.set(TRIAL_ENDS_AT, ends)
        self.update_banner()

    def _session_changed(self, session: OwnerSession | None) -> None:
        old, self.rollups = self.rollups, self.account.rollups() if session is not None else None
        reports = getattr(self.window, "reports", None)
        if reports is not None and hasattr(reports, "set_rollups"):
            reports.set_rollups(self.rollups)
        if old is not None:
            old.close()

    def open_subscription_page(self) -> None:
        """Einstellungen → Abo."""
        settings, page = self.window.settings, subscription_page(self.window)
        if settings is None or page is None:
            return
        self.window.tabs.setCurrentIndex(self.window.TAB_SETTINGS)
        settings.show_page(settings.pages.indexOf(page))

    def shutdown(self) -> None:
        """Close the connections (app close)."""
        if self.rollups is not None:
            self.rollups.close()
        self.account.shutdown()


def subscription_page(window: Any) -> Any:
    """The Abo page of the window's settings view, or None."""
    from ui.views.settings.subscription_page import SubscriptionPage  # noqa: PLC0415 - the views load late

    settings = getattr(window, "settings", None)
    pages = getattr(settings, "pages", None)
    if pages is None:
        return None
    for index in range(pages.count()):
        if isinstance(pages.widget(index), SubscriptionPage):
            return pages.widget(index)
    return None


def install_billing(window: Any) -> BillingWiring:
    """Put the banner above the tabs, share the Abo page's login, follow the sync status (the main window)."""
    page = subscription_page(window)
    account = page.account if page is not None else OwnerAccount(window.ctx, parent=window)
    banner = BillingBanner()
    # The banner sits above the tabs, full width: the central widget becomes banner + tabs.
    tabs = window.takeCentralWidget()
    container = QWidget()
    container.setObjectName("billingContainer")
    column = QVBoxLayout(container)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(banner)
    column.addWidget(tabs, 1)
    window.setCentralWidget(container)
    wiring = BillingWiring(window, account, banner)
    sync = getattr(window, "sync", None)
    if sync is not None:
        sync.status_changed.connect(wiring.entitlement_changed)
        wiring.entitlement_changed(sync.status)
    account.restore(lambda session: account.load() if session is not None else None)
    window.billing = wiring
    return wiring
