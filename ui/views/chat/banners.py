"""The Chat tab's banners: the plan's lead limit is reached, or the workplace is not registered yet."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.i18n import _
from ui.views.chat import style


class Banner(QFrame):
    """A coloured strip with a text and an optional button."""

    clicked = Signal()

    def __init__(self, name: str, css: str, button_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatBanner")
        self.setProperty("banner", name)
        self.setStyleSheet(css)
        self.label = QLabel("")
        self.label.setObjectName(f"{name}Text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.label, 1)
        self.button: QPushButton | None = None
        if button_text:
            self.button = QPushButton(button_text.replace("&", "&&"))  # "Sync & Konto", not a mnemonic
            self.button.setObjectName(f"{name}Button")
            self.button.clicked.connect(self.clicked)
            layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def set_text(self, text: str) -> None:
        """Show ``text`` ("" hides the banner)."""
        self.label.setText(text)
        self.setVisible(bool(text))


def lead_limit_text(plan_name: str = "", limit: int | None = None) -> str:
    """The owner's banner text when the month's leads reached the plan's limit."""
    if plan_name and limit is not None:
        head = _(
            "Das Lead-Kontingent Ihres Tarifs „{plan}“ ({limit} Leads im Monat) ist erreicht – "
            "der Bot antwortet nicht mehr."
        ).format(plan=plan_name, limit=limit)
    elif limit is not None:
        head = _(
            "Das Lead-Kontingent Ihres Tarifs ({limit} Leads im Monat) ist erreicht – der Bot antwortet nicht mehr."
        ).format(limit=limit)
    else:
        head = _("Das Lead-Kontingent Ihres Tarifs ist erreicht – der Bot antwortet nicht mehr.")
    tail = _(
        "Das Kontaktformular im Widget nimmt weiter Anfragen an; bitte antworten Sie selbst oder wechseln Sie "
        "in einen größeren Tarif (Einstellungen → Abo)."
    )
    return f"{head} {tail}"


def not_registered_text() -> str:
    """The banner text while this workplace is not registered with a CarBot server."""
    return _(
        "Chat ist erst nach der Anmeldung am CarBot-Server verfügbar. Melden Sie diesen Arbeitsplatz unter "
        "Einstellungen → Sync & Konto an; danach erscheinen hier die Chats aus dem Website-Widget."
    )


class Banners(QWidget):
    """Both banners, stacked; ``setup_requested`` when the registration button is pressed."""

    setup_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.not_registered = Banner("notRegistered", style.INFO_BANNER_CSS, _("Zu Sync & Konto"))
        self.not_registered.clicked.connect(self.setup_requested)
        self.lead_limit = Banner("leadLimit", style.WARNING_BANNER_CSS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.not_registered)
        layout.addWidget(self.lead_limit)

    def show_state(self, *, registered: bool, lead_limit: str) -> None:
        """Show the registration banner when not registered, the lead banner when its text is not empty."""
        self.not_registered.set_text("" if registered else not_registered_text())
        self.lead_limit.set_text(lead_limit if registered else "")
        self.setVisible(not registered or bool(lead_limit))
