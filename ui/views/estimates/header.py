"""Top of the KVA editor: number, status chip, the status buttons the service allows (Senden, Annehmen,
Ablehnen), "In Auftrag übernehmen" once accepted, and plate, customer, validity and the order made from it."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import formatting
from app.i18n import N_, _
from app.services.estimates import TRANSITIONS, EstimateDTO
from ui.views.counter.style import SECONDARY_TEXT, html_escape
from ui.views.orders.header import SMALL_PLATE_CSS
from ui.views.orders.style import DANGER_BUTTON, PRIMARY_BUTTON, chip_css

# KVA status → (chip background, chip text colour); the texts are the service's STATUS_LABELS.
ESTIMATE_STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "draft": ("#cfd8dc", "#263238"),
    "sent": ("#1e88e5", "#ffffff"),
    "accepted": ("#2e7d32", "#ffffff"),
    "rejected": ("#eceff1", "#78909c"),
}
EXPIRED_COLOURS = ("#ffe0b2", "#8d4a00")
# (action, button text, tooltip, target status): a button shows where the service's TRANSITIONS allow it.
ESTIMATE_ACTIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "send",
        N_("Senden"),
        N_("Als versendet markieren – übergeben, per Post oder E-Mail geschickt; danach sind Positionen fest"),
        "sent",
    ),
    ("accept", N_("Annehmen"), N_("Der Kunde erteilt den Auftrag zu diesem Kostenvoranschlag"), "accepted"),
    ("reject", N_("Ablehnen"), N_("Der Kunde lehnt den Kostenvoranschlag ab"), "rejected"),
)


def allowed_actions(status: str) -> list[str]:
    """The status buttons to show: exactly the transitions the service allows from ``status``."""
    return [action for action, _text, _tip, target in ESTIMATE_ACTIONS if (status, target) in TRANSITIONS]


class EstimateHeader(QWidget):
    """``action_requested`` carries "send", "accept", "reject" or "convert"."""

    back_requested = Signal()
    action_requested = Signal(str)
    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    order_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.estimate: EstimateDTO | None = None
        self.back = QPushButton(_("← Kostenvoranschläge"))
        self.back.setToolTip(_("Zurück zur Liste der Kostenvoranschläge (Esc)"))
        self.back.clicked.connect(self.back_requested)
        self.title = QLabel("")
        self.title.setObjectName("estimateTitle")
        self.title.setStyleSheet("font-size: 17pt; font-weight: 600; color: #263238;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chip = QLabel("")
        self.chip.setObjectName("estimateStatus")
        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.back)
        top.addWidget(self.title)
        top.addWidget(self.chip)
        top.addStretch(1)
        for action, text, tip, _target in ESTIMATE_ACTIONS:
            button = QPushButton(_(text))
            button.setObjectName(f"estimate_{action}")
            button.setToolTip(_(tip))
            button.clicked.connect(lambda _checked=False, a=action: self.action_requested.emit(a))
            if action == "reject":
                button.setStyleSheet(DANGER_BUTTON)
            self.buttons[action] = button
            top.addWidget(button)
        self.convert_button = QPushButton(_("In Auftrag übernehmen"))
        self.convert_button.setObjectName("convertButton")
        self.convert_button.setStyleSheet(PRIMARY_BUTTON)
        self.convert_button.setToolTip(_("Werkstattauftrag mit allen Positionen anlegen und öffnen"))
        self.convert_button.clicked.connect(lambda: self.action_requested.emit("convert"))
        top.addWidget(self.convert_button)
        self.plate = QPushButton("")
        self.plate.setObjectName("estimatePlate")
        self.plate.setStyleSheet(SMALL_PLATE_CSS)
        self.plate.setCursor(Qt.CursorShape.PointingHandCursor)
        self.plate.setToolTip(_("Fahrzeugkarte öffnen"))
        self.plate.clicked.connect(self._emit_vehicle)
        self.details = QLabel("")
        self.details.setObjectName("estimateDetails")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.linkActivated.connect(self._link)
        second = QHBoxLayout()
        second.setSpacing(12)
        second.addWidget(self.plate, 0, Qt.AlignmentFlag.AlignVCenter)
        second.addWidget(self.details, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addLayout(second)

    def set_estimate(self, estimate: EstimateDTO, today: dt.date) -> None:
        """Show number, status (or "abgelaufen"), the allowed buttons and who the KVA is for."""
        self.estimate = estimate
        self.title.setText(_("Kostenvoranschlag {number}").format(number=estimate.number))
        expired = estimate.is_expired(today)
        if expired:
            self.chip.setText(_("{status} · abgelaufen").format(status=estimate.status_label))
            self.chip.setStyleSheet(chip_css(EXPIRED_COLOURS))
        else:
            self.chip.setText(estimate.status_label)
            self.chip.setStyleSheet(chip_css(ESTIMATE_STATUS_COLOURS.get(estimate.status, ("#cfd8dc", "#263238"))))
        allowed = allowed_actions(estimate.status)
        for action, button in self.buttons.items():
            button.setVisible(action in allowed)
        self.convert_button.setVisible(estimate.status == "accepted" and estimate.work_order_id is None)
        self.plate.setText(estimate.plate or _("ohne Fahrzeug"))
        self.plate.setVisible(estimate.vehicle_id is not None)
        name = html_escape(estimate.customer_name or _("Kunde"))
        parts = []
        if estimate.valid_until is not None:
            parts.append(_("gültig bis {date}").format(date=formatting.date(estimate.valid_until)))
        parts.append(_("verbindlich") if estimate.binding else _("unverbindlich"))
        if estimate.work_order_id is not None:
            order = html_escape(_("Auftrag {number}").format(number=estimate.work_order_number))
            parts.append(f'<a href="order:{estimate.work_order_id}" style="color:#1565c0">{order}</a>')
        self.details.setText(
            f'<span style="font-size:12pt"><a href="customer:{estimate.customer_id}" style="color:#1565c0">'
            f"{name}</a></span>"
            f'<span style="color:{SECONDARY_TEXT}"> · {" · ".join(parts)}</span>'
        )

    def _link(self, link: str) -> None:
        kind, _sep, ident = link.partition(":")
        if not ident.isdigit():
            return
        if kind == "customer":
            self.customer_requested.emit(int(ident))
        elif kind == "order":
            self.order_requested.emit(int(ident))

    def _emit_vehicle(self) -> None:
        if self.estimate is not None and self.estimate.vehicle_id is not None:
            self.vehicle_requested.emit(self.estimate.vehicle_id)
