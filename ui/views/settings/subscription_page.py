"""Einstellungen → Abo: the owner logs in, sees plan, status, usage and Stripe's invoices, and manages the
subscription (issue 8).

Not logged in: a login box (server, e-mail, password – the password is never kept; the owner's refresh
token goes to the OS keyring, see ``sync.owner_session``). Logged in: "Ihr Abo" (plan, status in German,
interval, trial or period end, cancellation and scheduled-downgrade notes), the usage bars, the plan cards
with prices from the overview's ``plans`` (the server's ``app.plans``; nothing here states a price), the
actions (trial/subscribe via Stripe Checkout, switch plan with a confirmation that says whether it applies
now or at the period end, cancel, take the cancellation back, Stripe portal) and the invoice list.
Checkout, portal and invoices are Stripe pages opened in the browser (``QDesktopServices.openUrl``); the
desktop never holds a Stripe secret. Every network call runs through the TaskRunner (``OwnerAccount``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _
from sync import local
from sync.owner_session import OWNER_ONLY, OwnerSession
from sync.protocol_billing import BillingOverview, Interval
from ui.context import UiContext
from ui.errors import error_text
from ui.views.settings import subscription_texts as texts
from ui.views.settings.subscription_widgets import InvoiceTable, OwnerLoginBox, PlanCard, PlansBox, UsageBar
from ui.workers.owner_account import OwnerAccount

ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"


class SubscriptionPage(QWidget):
    """The "Abo" page of the settings (loads itself when first shown)."""

    def __init__(self, ctx: UiContext, *, account: OwnerAccount | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account = account or OwnerAccount(ctx, parent=self)
        self.overview: BillingOverview | None = None
        self.confirm_box: QMessageBox | None = None
        self.opened_urls: list[str] = []
        self._loaded_once = False
        content = QWidget()
        self.column = QVBoxLayout(content)
        self.column.setContentsMargins(0, 0, 12, 0)
        self.column.setSpacing(12)
        self.message = QLabel("")
        self.message.setObjectName("aboMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.column.addWidget(self.message)
        self._build_login_box()
        self._build_account_bar()
        self._build_status_box()
        self._build_plans_box()
        self._build_invoices_box()
        self.column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.account.session_changed.connect(self._session_changed)
        self.account.overview_changed.connect(self.show_overview)
        self._session_changed(self.account.session)
        self._say("", ok=True)

    # --- building ---------------------------------------------------------------------------------

    def _build_login_box(self) -> None:
        self.login_box = OwnerLoginBox()
        self.login_box.submitted.connect(self._login)
        self.server_edit = self.login_box.server_edit
        self.column.addWidget(self.login_box)

    def _build_account_bar(self) -> None:
        self.account_bar = QWidget()
        self.who = QLabel("")
        self.who.setObjectName("ownerWho")
        self.refresh_button = self._button(_("Aktualisieren"), "aboRefresh", self.refresh)
        self.logout_button = self._button(_("Abmelden"), "ownerLogout", self.logout)
        row = QHBoxLayout(self.account_bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.who, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.logout_button)
        self.column.addWidget(self.account_bar)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text.replace("&", "&&"))  # a single "&" would mark a keyboard shortcut
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _build_status_box(self) -> None:
        self.status_box = QGroupBox(_("Ihr Abo"))
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        rows = (("plan", _("Tarif")), ("status", _("Status")), ("interval", _("Abrechnung")), ("date", _("Laufzeit")))
        for key, title in rows:
            label = QLabel("–")
            label.setObjectName(f"abo_{key}")
            self.values[key] = label
            form.addRow(title, label)
        self.date_title = form.labelForField(self.values["date"])
        self.values["status"].setStyleSheet("font-weight: 600;")
        self.notes = QLabel("")
        self.notes.setObjectName("aboNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("background: #fff3e0; color: #e65100; padding: 6px;")
        self.leads_bar = UsageBar(_("Leads diesen Monat"), "leads")
        self.locations_bar = UsageBar(_("Standorte"), "locations")
        self.cancel_button = self._button(_("Kündigen"), "aboCancel", self.ask_cancel)
        self.resume_button = self._button(_("Kündigung zurücknehmen"), "aboResume", self.resume)
        self.portal_button = self._button(_("Zahlungsdaten & Rechnungen (Stripe-Portal)"), "aboPortal", self.portal)
        actions = QHBoxLayout()
        for button in (self.portal_button, self.cancel_button, self.resume_button):
            actions.addWidget(button)
        actions.addStretch(1)
        box = QVBoxLayout(self.status_box)
        box.addLayout(form)
        box.addWidget(self.notes)
        box.addSpacing(6)
        box.addWidget(self.leads_bar)
        box.addWidget(self.locations_bar)
        box.addLayout(actions)
        self.column.addWidget(self.status_box)

    def _build_plans_box(self) -> None:
        self.plans_box = PlansBox()
        self.plans_box.chosen.connect(self.choose)
        self.plans_box.interval_changed.connect(self._show_cards)
        self.monthly, self.yearly = self.plans_box.monthly, self.plans_box.yearly
        self.column.addWidget(self.plans_box)

    def _build_invoices_box(self) -> None:
        self.invoices_box = QGroupBox(_("Rechnungen von CarBot (Stripe)"))
        self.invoices = InvoiceTable()
        self.invoices.link_clicked.connect(self.open_url)
        self.no_invoices = QLabel(_("Noch keine Rechnungen."))
        self.no_invoices.setStyleSheet("color: #607d8b;")
        box = QVBoxLayout(self.invoices_box)
        box.addWidget(self.invoices)
        box.addWidget(self.no_invoices)
        self.column.addWidget(self.invoices_box)

    # --- loading ----------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Load when first shown (the settings view only loads its own pages)."""
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.load()

    def load(self) -> None:
        """Restore a kept login (keyring) and fetch the overview; prefill the server address."""
        if not self.server_edit.text():
            db = self.ctx.services.db
            self.ctx.runner.run(lambda: local.state(db).server_url, self._prefill_server, lambda _exc: None)
        self.account.restore(lambda session: self.refresh() if session is not None else None)

    def _prefill_server(self, url: str) -> None:
        if url and not self.server_edit.text():
            self.server_edit.setText(url)

    def refresh(self) -> None:
        """Fetch the overview again."""
        if self.account.session is None:
            return
        self._say(_("Abo wird geladen …"), ok=True)
        self.refresh_button.setEnabled(False)
        self.account.load(lambda _o: self._say("", ok=True), self._failed)

    def _session_changed(self, session: OwnerSession | None) -> None:
        logged_in = session is not None
        self.login_box.setVisible(not logged_in)
        for widget in (self.account_bar, self.status_box, self.plans_box, self.invoices_box):
            widget.setVisible(logged_in)
        if session is not None:
            role = _(texts.ROLE_LABELS.get(session.role, session.role))
            self.who.setText(
                _("Angemeldet als {email} ({role}) · {organization}").format(
                    email=session.email, role=role, organization=session.organization_name
                )
            )
            self.server_edit.setText(session.server_url)
        self.show_overview(self.account.overview)

    # --- showing ----------------------------------------------------------------------------------

    def show_overview(self, overview: BillingOverview | None) -> None:
        """Fill every box from ``overview`` (None: nothing known yet)."""
        self.overview = overview
        self.refresh_button.setEnabled(True)
        if overview is None:
            for label in self.values.values():
                label.setText("–")
            self.notes.hide()
            self._enable_actions(cancel=False, resume=False, portal=False)
            return
        v = self.values
        v["plan"].setText(overview.plan_name)
        v["status"].setText(texts.status_text(overview))
        v["interval"].setText(texts.interval_text(overview.interval))
        date_title, date_value = texts.dates_text(overview)
        if isinstance(self.date_title, QLabel):
            self.date_title.setText(date_title)
        v["date"].setText(date_value)
        notes = texts.notes(overview)
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.leads_bar.set_usage(texts.usage(overview.usage.leads_this_month, overview.usage.leads_limit))
        locations = texts.usage(overview.usage.locations, overview.usage.locations_limit, warn_at_limit=False)
        self.locations_bar.set_usage(locations)
        running = texts.running(overview)
        self._enable_actions(
            cancel=running and not overview.cancel_at_period_end,
            resume=overview.cancel_at_period_end and overview.effective_status != "cancelled",
            portal=texts.has_subscription(overview) or bool(overview.invoices),
        )
        self._show_cards()
        self.invoices.set_invoices(overview.invoices)
        self.invoices.setVisible(bool(overview.invoices))
        self.no_invoices.setVisible(not overview.invoices)

    def _is_owner(self) -> bool:
        return self.account.session is not None and self.account.session.is_owner

    def _enable_actions(self, *, cancel: bool, resume: bool, portal: bool) -> None:
        owner = self._is_owner()
        tip = "" if owner else _(OWNER_ONLY)
        buttons = ((self.cancel_button, cancel), (self.resume_button, resume), (self.portal_button, portal))
        for button, visible in buttons:
            button.setVisible(visible)
            button.setEnabled(owner)
            button.setToolTip(tip)

    @property
    def cards(self) -> dict[str, PlanCard]:
        """The plan cards by plan id."""
        return self.plans_box.cards

    def interval(self) -> Interval:
        """The interval chosen above the cards: "month" or "year"."""
        return self.plans_box.interval()

    def _show_cards(self) -> None:
        if self.overview is not None:
            self.plans_box.show_overview(self.overview, owner=self._is_owner())

    # --- actions ----------------------------------------------------------------------------------

    def login(self) -> None:
        """The login box's button (checks the form, then logs in in the background)."""
        self.login_box.submit()

    def _login(self, server: str, email: str, password: str) -> None:
        self._say(_("Verbinde mit {url} …").format(url=server), ok=True)
        self.account.login(server, email, password, self._logged_in, self._login_failed)

    def _logged_in(self, _session: OwnerSession) -> None:
        self.login_box.finished(ok=True)
        self.refresh()

    def _login_failed(self, exc: BaseException) -> None:
        self.login_box.finished(ok=False)
        self._say(error_text(exc), ok=False)

    def logout(self) -> None:
        """Log the owner out (the desktop's own sync is not affected)."""
        self.account.logout()
        self._say(_("Abgemeldet."), ok=True)

    def choose(self, plan_id: str) -> None:
        """A plan card's button: Checkout without a running subscription, else a confirmed switch."""
        overview = self.overview
        if overview is None or plan_id not in self.cards:
            return
        plan, interval = self.cards[plan_id].plan, self.interval()
        action = texts.card_action(overview, plan, interval)
        if action.action == "checkout":
            self._say(_("Die Bezahlseite wird vorbereitet …"), ok=True)
            self.account.call(
                lambda c: c.checkout(plan.id, interval, trial=action.trial),
                lambda url: self._opened(url, checkout=True),
                self._failed,
            )
        elif action.action == "change":
            upgrade = texts.change_kind(overview, plan.id, interval) is texts.ChangeKind.UPGRADE
            title = _("Tarif jetzt wechseln") if upgrade else _("Tarif zum Laufzeitende wechseln")
            done = _("Der Tarif wurde gewechselt.") if upgrade else _("Der Tarifwechsel ist vorgemerkt.")
            self._confirm(
                title,
                texts.change_question(overview, plan, interval),
                _("Tarif wechseln"),
                lambda: self._apply(lambda c: c.change(plan.id, interval), done),
            )

    def ask_cancel(self) -> None:
        """Confirm, then cancel at the end of the period."""
        overview = self.overview
        if overview is None:
            return
        date = texts.local_date(overview.current_period_end) or "–"
        question = _(
            "Das Abo zum {date} kündigen? Bis dahin bleibt alles nutzbar. Danach arbeitet CarBot im Lesemodus: Es "
            "wird nichts gelöscht, Rechnungen können weiterhin gedruckt werden."
        ).format(date=date)
        done = _("Das Abo ist zum {date} gekündigt.").format(date=date)
        self._confirm(
            _("Abo kündigen"),
            question,
            _("Zum {date} kündigen").format(date=date),
            lambda: self._apply(lambda c: c.cancel(), done),
        )

    def resume(self) -> None:
        """Take the cancellation back."""
        self._apply(lambda c: c.resume(), _("Die Kündigung wurde zurückgenommen. Das Abo läuft weiter."))

    def portal(self) -> None:
        """Open the Stripe customer portal (payment details, invoices) in the browser."""
        self._say(_("Das Stripe-Portal wird geöffnet …"), ok=True)
        self.account.call(lambda c: c.portal(), lambda url: self._opened(url, checkout=False), self._failed)

    def _apply(self, fn: Callable[[Any], BillingOverview], success: str) -> None:
        self._say(_("Wird an den Server übertragen …"), ok=True)
        self.account.apply(fn, lambda _o: self._say(success, ok=True), self._failed)

    def _confirm(self, title: str, text: str, yes: str, action: Callable[[], None]) -> None:
        """A window-modal question (``open``, never a nested event loop); ``action`` on yes."""
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setObjectName("aboConfirm")
        box.button(QMessageBox.StandardButton.Yes).setText(yes)
        box.button(QMessageBox.StandardButton.Cancel).setText(_("Abbrechen"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: action() if result == QMessageBox.StandardButton.Yes else None)
        self.confirm_box = box
        box.open()

    def _opened(self, url: str, *, checkout: bool) -> None:
        if not self.open_url(url):
            return
        if checkout:
            text = _("Die Bezahlseite von Stripe ist im Browser geöffnet. Nach dem Abschluss hier auf „Aktualisieren“.")
            self._say(text, ok=True)
        else:
            self._say(_("Das Stripe-Portal ist im Browser geöffnet."), ok=True)

    def open_url(self, url: str) -> bool:
        """Open a Stripe page in the browser (http/https only)."""
        qurl = QUrl(url)
        if qurl.scheme() not in ("https", "http"):
            self._say(_("Die Adresse „{url}“ wird nicht geöffnet.").format(url=url), ok=False)
            return False
        self.opened_urls.append(url)
        QDesktopServices.openUrl(qurl)
        return True

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._say(error_text(exc), ok=False)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setStyleSheet(f"color: {OK_COLOUR if ok else ERROR_COLOUR};")
