"""The "Sync & Konto" page: register this workplace with the CarBot server, see the sync and the plan.

Left: the connection (status, server, device id, location, plan and subscription from the entitlement,
last sync, pending changes, last error, the entitlement banner) with "Jetzt synchronisieren" and
"Abmelden". Right: the registration form (server, e-mail, password, location, name of the workplace).
The network work runs in the ``SyncController`` (ui/workers/sync_runner.py); the password is never kept.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import formatting, plans
from app.errors import WorkshopError
from app.i18n import N_, _, ngettext
from app.plans import SubscriptionStatus
from sync.credentials import Registration
from sync.entitlements import Mode
from sync.errors import SyncAuthError, SyncUnavailable
from ui.context import UiContext
from ui.errors import error_text
from ui.sync_status import LOCATION_NAME, Connection, SyncStatus, connection_text, when_text
from ui.widgets.form import ValidatedForm

if TYPE_CHECKING:
    from ui.workers.sync_runner import SyncController

ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"
SUBSCRIPTION_LABELS = {
    SubscriptionStatus.TRIALING: N_("Testphase"),
    SubscriptionStatus.ACTIVE: N_("aktiv"),
    SubscriptionStatus.PAST_DUE: N_("Zahlung offen"),
    SubscriptionStatus.CANCELLED: N_("gekündigt"),
}
MODE_LABELS = {
    Mode.ACTIVE: N_("voll nutzbar"),
    Mode.PAYMENT_GRACE: N_("Zahlungsfrist läuft"),
    Mode.OFFLINE_GRACE: N_("offline – Übergangsfrist läuft"),
    Mode.READ_ONLY: N_("Lesemodus"),
    Mode.UNREGISTERED: N_("nicht angemeldet"),
}
_LOCATION_PROMPT = "Bitte den Standort mit --location angeben ({names})."  # sync.credentials' CLI wording


def registration_problem(exc: BaseException, server_url: str) -> tuple[str, str]:
    """(field, German text) for a failed registration; field "" = no single field is to blame."""
    if isinstance(exc, SyncAuthError):
        detail = str(exc.params.get("detail", ""))
        if exc.status == 403:
            return "email", _("Dieses Konto darf keine Arbeitsplätze registrieren ({detail}).").format(detail=detail)
        return "password", _("Anmeldung fehlgeschlagen: {detail}").format(detail=detail)
    if isinstance(exc, SyncUnavailable):
        return "server_url", _(
            "Der Server unter {url} ist nicht erreichbar. Bitte Adresse und Internetverbindung prüfen."
        ).format(url=server_url)
    if not isinstance(exc, WorkshopError):
        return "", error_text(exc)
    if exc.message_id == _LOCATION_PROMPT:
        return "location", _("Bitte einen Standort angeben: {names}").format(names=exc.params.get("names", ""))
    return ("location" if "location" in exc.params else ""), exc.message


def _value_label() -> QLabel:
    label = QLabel("–")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class SyncPage(QWidget):
    """Shows the sync state and registers the workplace; needs ``bind(controller)`` to act."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.controller: SyncController | None = None
        self._build_status_box()
        self._build_register_box()
        row = QHBoxLayout()
        row.setSpacing(16)
        row.addWidget(self.status_box, 1)
        row.addWidget(self.register_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addStretch(1)
        self._set_enabled(False)

    def _build_status_box(self) -> None:
        self.status_box = QGroupBox(_("Verbindung"))
        self.status_box.setMaximumWidth(560)
        self.status_form = form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        rows = (
            ("status", _("Status")),
            ("server", _("Server")),
            ("device", _("Arbeitsplatz-Kennung")),
            ("location", _("Standort")),
            ("plan", _("Tarif")),
            ("subscription", _("Abo")),
            ("last_sync", _("Letzte Synchronisation")),
            ("pending", _("Ausstehende Änderungen")),
            ("error", _("Letzter Fehler")),
        )
        for key, title in rows:
            self.values[key] = _value_label()
            self.values[key].setObjectName(f"sync_{key}")
            form.addRow(title, self.values[key])
        self.values["error"].setStyleSheet(f"color: {ERROR_COLOUR};")
        self.banner = QLabel("")
        self.banner.setObjectName("syncBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3e0; color: #e65100; padding: 6px; font-weight: 600;")
        self.banner.hide()
        self.sync_button = QPushButton(_("Jetzt synchronisieren"))
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.sync_now)
        self.logout_button = QPushButton(_("Abmelden"))
        self.logout_button.setObjectName("syncLogout")
        self.logout_button.setToolTip(_("Die Zugangsdaten dieses Arbeitsplatzes aus dem Schlüsselbund löschen"))
        self.logout_button.clicked.connect(self.ask_logout)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.logout_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self.status_box)
        box.addLayout(form)
        box.addWidget(self.banner)
        box.addLayout(buttons)

    def _build_register_box(self) -> None:
        self.register_box = QGroupBox(_("Arbeitsplatz registrieren"))
        self.register_box.setMaximumWidth(560)
        self.form = ValidatedForm()
        self.server_edit = self._line(self.form, "server_url", _("Server-Adresse"), "https://sync.carbot.de")
        self.email_edit = self._line(self.form, "email", _("E-Mail"), "inhaber@werkstatt.de")
        self.password_edit = self._line(self.form, "password", _("Passwort"), "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.location_edit = self._line(self.form, "location", _("Standort"), _("nur nötig bei mehreren Standorten"))
        self.name_edit = self._line(self.form, "name", _("Name dieses Arbeitsplatzes"), _("z. B. Theke"))
        self.name_edit.setText(platform.node() or _("Arbeitsplatz"))
        note = QLabel(
            _(
                "Mit der E-Mail-Adresse des Inhabers oder der Theke anmelden. Das Passwort wird nicht gespeichert; "
                "der Arbeitsplatz erhält eigene Zugangsdaten im Schlüsselbund des Systems."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #607d8b;")
        self.message = QLabel("")
        self.message.setObjectName("registerMessage")
        self.message.setWordWrap(True)
        self.register_button = QPushButton(_("Gerät registrieren"))
        self.register_button.setObjectName("registerDevice")
        self.register_button.setDefault(True)
        self.register_button.clicked.connect(self.register)
        self.password_edit.returnPressed.connect(self.register)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.register_button, 0, Qt.AlignmentFlag.AlignTop)
        box = QVBoxLayout(self.register_box)
        box.addLayout(self.form)
        box.addWidget(note)
        box.addLayout(buttons)

    @staticmethod
    def _line(form: ValidatedForm, name: str, title: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"sync_{name}")
        edit.setPlaceholderText(placeholder)
        form.add(name, title, edit)
        return edit

    # --- wiring -----------------------------------------------------------------------------------

    def bind(self, controller: SyncController) -> None:
        """Act through ``controller`` and follow its status."""
        self.controller = controller
        controller.status_changed.connect(self.show_status)
        self._set_enabled(True)
        self.show_status(controller.status)

    def load(self) -> None:
        """Re-read the status (when the page is shown)."""
        if self.controller is not None:
            self.controller.refresh()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.register_box, self.sync_button, self.logout_button):
            widget.setEnabled(enabled)

    # --- status -----------------------------------------------------------------------------------

    def show_status(self, status: SyncStatus) -> None:
        """Fill the connection box from ``status``."""
        registered = status.connection is not Connection.UNREGISTERED
        v = self.values
        v["status"].setText(connection_text(status.connection))
        v["server"].setText(status.server_url or "–")
        v["device"].setText(status.device_id or "–")
        name = str(self.ctx.prefs.get(LOCATION_NAME) or "")
        location = status.location_id or ""
        v["location"].setText(name or location or "–")
        v["location"].setToolTip(_("Kennung: {id}").format(id=location) if location else "")
        ent = status.entitlement.entitlement if status.entitlement else None
        if ent is not None and status.entitlement is not None:
            v["plan"].setText(plans.plan(ent.plan_id).name)
            v["subscription"].setText(
                _("{status} · {mode} · bestätigt bis {until}").format(
                    status=_(SUBSCRIPTION_LABELS[ent.status]),
                    mode=_(MODE_LABELS[status.entitlement.mode]),
                    until=formatting.date(ent.expires_at.astimezone().date()),
                )
            )
        else:
            v["plan"].setText(_("noch nicht bekannt") if registered else "–")
            v["subscription"].setText("–")
        v["last_sync"].setText(when_text(status.last_sync_at) if registered else "–")
        v["pending"].setText(str(status.pending) if registered else "–")
        v["error"].setText(status.last_error)
        self.status_form.setRowVisible(v["error"], bool(status.last_error))
        self.banner.setText(status.banner)
        self.banner.setVisible(bool(status.banner))
        can_sync = status.connection not in (Connection.UNREGISTERED, Connection.AUTH_REQUIRED)
        self.sync_button.setEnabled(self.controller is not None and can_sync)
        self.logout_button.setEnabled(self.controller is not None and can_sync)
        self.register_box.setTitle(_("Neu registrieren") if registered else _("Arbeitsplatz registrieren"))
        if not self.server_edit.text() and status.server_url:
            self.server_edit.setText(status.server_url)

    def sync_now(self) -> None:
        """The "Jetzt synchronisieren" button."""
        if self.controller is not None:
            self.controller.sync_now()

    # --- registration -----------------------------------------------------------------------------

    def _problems(self) -> list[tuple[str, str]]:
        server = self.server_edit.text().strip()
        problems: list[tuple[str, str]] = []
        if not server:
            problems.append(("server_url", _("Bitte die Adresse des Servers angeben.")))
        elif not server.startswith(("https://", "http://")):
            problems.append(("server_url", _("Die Adresse muss mit https:// beginnen.")))
        if "@" not in self.email_edit.text():
            problems.append(("email", _("Bitte eine gültige E-Mail-Adresse angeben.")))
        if not self.password_edit.text():
            problems.append(("password", _("Bitte das Passwort eingeben.")))
        if not self.name_edit.text().strip():
            problems.append(("name", _("Bitte einen Namen für diesen Arbeitsplatz angeben.")))
        return problems

    def register(self) -> None:
        """Check the form, then register in the background."""
        if self.controller is None or not self.register_button.isEnabled():
            return
        self.form.clear_errors()
        self._say("", ok=True)
        problems = self._problems()
        if problems:
            self.form.show_errors(problems)
            return
        server = self.server_edit.text().strip().rstrip("/")
        self.register_button.setEnabled(False)
        self._say(_("Verbinde mit {url} …").format(url=server), ok=True)
        self.controller.register(
            server_url=server,
            email=self.email_edit.text().strip(),
            password=self.password_edit.text(),
            location=self.location_edit.text().strip() or None,
            name=self.name_edit.text().strip(),
            on_done=self._registered,
            on_error=lambda exc: self._failed(exc, server),
        )

    def _registered(self, reg: Registration, queued: int) -> None:
        self.register_button.setEnabled(True)
        self.password_edit.clear()
        text = _("Registriert für den Standort „{location}“.").format(location=reg.location_name)
        if queued:
            count = ngettext("{count} Datensatz wird übertragen.", "{count} Datensätze werden übertragen.", queued)
            text = f"{text} {count.format(count=queued)}"
        self._say(text, ok=True)

    def _failed(self, exc: BaseException, server: str) -> None:
        self.register_button.setEnabled(True)
        field, text = registration_problem(exc, server)
        if field and self.form.show_error(field, text):
            self._say("", ok=True)
        else:
            self._say(text, ok=False)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {OK_COLOUR if ok else ERROR_COLOUR};")

    # --- logout -----------------------------------------------------------------------------------

    def ask_logout(self) -> None:
        """Confirm, then forget the credentials (window-modal, not blocking: ``open``)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Abmelden"),
            _(
                "Diesen Arbeitsplatz vom CarBot-Server abmelden? Die Daten bleiben auf diesem Computer; "
                "Änderungen werden erst nach einer neuen Registrierung wieder übertragen."
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("logoutConfirm")
        box.button(QMessageBox.StandardButton.Yes).setText(_("Abmelden"))
        box.button(QMessageBox.StandardButton.Cancel).setText(_("Abbrechen"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: self._logout() if result == QMessageBox.StandardButton.Yes else None)
        box.open()
        self.logout_box = box

    def _logout(self) -> None:
        if self.controller is not None:
            self.controller.logout(lambda: self._say(_("Abgemeldet."), ok=True))
