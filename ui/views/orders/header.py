"""Top of the order editor: number, status chip, the allowed status buttons, plate and customer, and the
red KVA overrun banner with "Zustimmung erfassen"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import formatting
from app.i18n import _
from app.services.work_orders import TRANSITIONS, WorkOrderDTO
from ui.views.counter.style import SECONDARY_TEXT, html_escape, local_timestamp
from ui.views.counter.vehicle_card import PLATE_CSS
from ui.views.orders.style import BANNER_OK, BANNER_RED, DANGER_BUTTON, ORDER_ACTIONS, money, order_chip_css

# The vehicle card's plate, smaller, as a button that opens the vehicle card.
SMALL_PLATE_CSS = (
    PLATE_CSS.replace("QLabel", "QPushButton").replace("font-size: 22pt", "font-size: 14pt").replace("14px", "10px")
)


def allowed_actions(status: str) -> list[str]:
    """The status buttons to show: exactly the transitions the service allows from ``status``."""
    return [
        action
        for action, _text, _tip, sources, target in ORDER_ACTIONS
        if status in sources and (status, target) in TRANSITIONS
    ]


class OrderHeader(QWidget):
    """Number, chip and status buttons; ``action_requested`` carries "open", "start", … ."""

    back_requested = Signal()
    action_requested = Signal(str)
    customer_requested = Signal(int)
    vehicle_requested = Signal(int)
    estimate_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.back = QPushButton(_("← Aufträge"))
        self.back.setToolTip(_("Zurück zur Auftragsliste (Esc)"))
        self.back.clicked.connect(self.back_requested)
        self.title = QLabel("")
        self.title.setObjectName("orderTitle")
        self.title.setStyleSheet("font-size: 17pt; font-weight: 600; color: #263238;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chip = QLabel("")
        self.chip.setObjectName("orderStatus")
        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.back)
        top.addWidget(self.title)
        top.addWidget(self.chip)
        top.addStretch(1)
        for action, text, tip, _sources, _target in ORDER_ACTIONS:
            button = QPushButton(_(text))
            button.setObjectName(f"action_{action}")
            button.setToolTip(_(tip))
            button.clicked.connect(lambda _checked=False, a=action: self.action_requested.emit(a))
            if action == "cancel":
                button.setStyleSheet(DANGER_BUTTON)
            self.buttons[action] = button
            top.addWidget(button)
        self.plate = QPushButton("")
        self.plate.setObjectName("orderPlate")
        self.plate.setStyleSheet(SMALL_PLATE_CSS)
        self.plate.setCursor(Qt.CursorShape.PointingHandCursor)
        self.plate.setToolTip(_("Fahrzeugkarte öffnen"))
        self.plate.clicked.connect(self._emit_vehicle)
        self.details = QLabel("")
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
        self._order: WorkOrderDTO | None = None

    def set_order(self, order: WorkOrderDTO) -> None:
        """Show number, status, the allowed buttons and who the order is for."""
        self._order = order
        self.title.setText(_("Auftrag {number}").format(number=order.number))
        self.chip.setText(order.status_label)
        self.chip.setStyleSheet(order_chip_css(order.status))
        allowed = allowed_actions(order.status)
        for action, button in self.buttons.items():
            button.setVisible(action in allowed)
        self.plate.setText(order.plate or _("ohne Fahrzeug"))
        self.plate.setVisible(order.vehicle_id is not None)
        parts = [f'<a href="customer:{order.customer_id}" style="color:#1565c0">{html_escape(order.customer_name)}</a>']
        if order.date_of_service:
            parts.append(_("Leistungsdatum {date}").format(date=formatting.date(order.date_of_service)))
        if order.estimate_number:
            estimate = order.overrun.estimate_net
            kva = (
                _("KVA {number} über {amount} netto").format(number=order.estimate_number, amount=money(estimate))
                if estimate is not None
                else _("KVA {number}").format(number=order.estimate_number)
            )
            link = f'<a href="estimate:{order.estimate_id}" style="color:#1565c0">{html_escape(kva)}</a>'
            parts.append(link + (" " + _("(verbindlich)") if order.overrun.binding else ""))
        self.details.setText(
            f'<span style="font-size:12pt">{parts[0]}</span>'
            f'<span style="color:{SECONDARY_TEXT}"> · {" · ".join(parts[1:])}</span>'
            if len(parts) > 1
            else f'<span style="font-size:12pt">{parts[0]}</span>'
        )

    def _link(self, link: str) -> None:
        kind, _sep, ident = link.partition(":")
        if kind == "customer" and ident.isdigit():
            self.customer_requested.emit(int(ident))
        elif kind == "estimate" and ident.isdigit():
            self.estimate_requested.emit(int(ident))

    def _emit_vehicle(self) -> None:
        if self._order is not None and self._order.vehicle_id is not None:
            self.vehicle_requested.emit(self._order.vehicle_id)


class OverrunBanner(QFrame):
    """Red while the order exceeds its KVA without approval; green once the customer approved."""

    approval_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overrunBanner")
        self.text = QLabel("")
        self.text.setObjectName("overrunText")
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 11pt;")
        self.button = QPushButton(_("Zustimmung erfassen …"))
        self.button.setObjectName("approvalButton")
        self.button.setToolTip(_("Zustimmung des Kunden mit Zeit, Weg und Mitarbeiter erfassen"))
        self.button.clicked.connect(self.approval_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def set_order(self, order: WorkOrderDTO) -> None:
        """Show the overrun state (hidden when the order is within its KVA or has none)."""
        overrun = order.overrun
        if not overrun.exceeded or order.status in ("invoiced", "cancelled"):
            self.hide()
            return
        if overrun.blocked:
            self.setStyleSheet(BANNER_RED)
            allowed = (
                _("verbindlicher KVA")
                if overrun.binding
                else _("erlaubt {percent} %").format(percent=formatting.number(overrun.threshold or 0, 1))
            )
            over = (
                _("{percent} % mehr").format(percent=formatting.number(overrun.percent, 1))
                if overrun.percent is not None
                else _("über dem KVA")
            )
            call = (
                _("Bitte den Kunden anrufen ({phone}) – abrechnen erst nach seiner Zustimmung.").format(
                    phone=html_escape(order.approval_phone)
                )
                if order.approval_phone
                else _("Bitte den Kunden anrufen – abrechnen erst nach seiner Zustimmung.")
            )
            text = _(
                "<b>Kostenvoranschlag überschritten:</b> jetzt {projected} netto statt {estimate} ({over}, {allowed})."
            ).format(
                projected=money(overrun.projected_net),
                estimate=money(overrun.estimate_net) if overrun.estimate_net is not None else "–",
                over=over,
                allowed=allowed,
            )
            text += " " + call
            self.button.show()
        else:
            self.setStyleSheet(BANNER_OK)
            last = order.approvals[-1] if order.approvals else None
            text = _("<b>Überschreitung freigegeben</b> bis {amount} netto").format(
                amount=money(overrun.approved_net) if overrun.approved_net is not None else "–"
            )
            if last is not None:
                text += _(" – {when}, {channel}, aufgenommen von {user}").format(
                    when=local_timestamp(last.at.isoformat()),
                    channel=last.channel_label,
                    user=html_escape(last.user),
                )
                if last.note:
                    text += f" („{html_escape(last.note)}“)"
            self.button.hide()
        self.text.setText(text)
        self.show()
