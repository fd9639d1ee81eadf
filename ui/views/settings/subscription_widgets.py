"""Building blocks of Einstellungen → Abo: a usage bar, a plan card and the Stripe invoice table.

They only display what ``subscription_texts`` computes from a ``BillingOverview``; clicks leave as
signals, so the page decides what happens (and every network call stays in the page's task runner).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import plans
from app.i18n import _
from sync.owner_session import OWNER_ONLY
from sync.protocol_billing import BillingOverview, Interval, InvoiceOut, PlanOut
from ui.views.settings import subscription_texts as texts
from ui.widgets.form import ValidatedForm

MUTED = "#607d8b"
ACCENT = "#1565c0"
BAD = "#c62828"
WARN = "#ef6c00"


class UsageBar(QWidget):
    """ "Leads diesen Monat: 42 von 100" with a bar (red at the limit)."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setMinimumWidth(160)
        self.bar = QProgressBar()
        self.bar.setObjectName(f"usage_{name}_bar")
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.bar.setRange(0, 100)
        self.value = QLabel("–")
        self.value.setObjectName(f"usage_{name}")
        self.value.setMinimumWidth(120)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addWidget(self.bar, 1)
        row.addWidget(self.value)

    def set_usage(self, usage: texts.Usage) -> None:
        """Show ``usage``."""
        self.value.setText(usage.text)
        self.bar.setValue(usage.percent)
        colour = {"over": BAD, "warn": WARN}.get(usage.level, ACCENT)
        self.bar.setStyleSheet(
            f"QProgressBar {{ border: 1px solid #cfd8dc; border-radius: 4px; background: #eceff1; }}"
            f"QProgressBar::chunk {{ background: {colour}; border-radius: 4px; }}"
        )
        self.value.setStyleSheet(f"color: {colour}; font-weight: 600;" if usage.level != "ok" else "")


class PlanCard(QFrame):
    """One plan: name, price for the chosen interval, limits, features and its button."""

    chosen = Signal(str)  # plan id

    def __init__(self, plan: PlanOut, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setObjectName(f"plan_{plan.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLabel(plan.name)
        self.name.setStyleSheet("font-size: 13pt; font-weight: 600; color: #263238;")
        self.price = QLabel("")
        self.price.setObjectName(f"price_{plan.id}")
        self.price.setStyleSheet("font-size: 12pt; font-weight: 600; color: #37474f;")
        self.other_price = QLabel("")
        self.other_price.setStyleSheet(f"color: {MUTED};")
        self.badge = QLabel(_("Ihr Tarif"))
        self.badge.setStyleSheet(f"color: white; background: {ACCENT}; padding: 1px 6px; border-radius: 3px;")
        self.badge.hide()
        lines = texts.limits_lines(plan) + texts.feature_lines(plan)
        details = QLabel("<br>".join(f"• {line}" for line in lines))
        details.setWordWrap(True)
        details.setTextFormat(Qt.TextFormat.RichText)
        details.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Wrapped rich text in a row of cards under-reports its height: reserve the lines it may need.
        rows = sum(1 + len(line) // 40 for line in lines)
        details.setMinimumHeight(details.fontMetrics().lineSpacing() * rows + 4)
        self.button = QPushButton("")
        self.button.setObjectName(f"choose_{plan.id}")
        self.button.clicked.connect(lambda: self.chosen.emit(self.plan.id))
        head = QHBoxLayout()
        head.addWidget(self.name)
        head.addStretch(1)
        head.addWidget(self.badge)
        column = QVBoxLayout(self)
        column.addLayout(head)
        column.addWidget(self.price)
        column.addWidget(self.other_price)
        self.note = QLabel("")
        self.note.setObjectName(f"note_{plan.id}")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {BAD};")
        self.note.hide()
        column.addWidget(details, 1)
        column.addWidget(self.note)
        column.addWidget(self.button)

    def show_state(self, *, yearly: bool, current: bool, button: str, enabled: bool, tip: str, note: str = "") -> None:
        """Price for the interval, the "Ihr Tarif" badge and the button."""
        main = self.plan.yearly_net if yearly else self.plan.monthly_net
        self.price.setText(texts.price_text(main, yearly=yearly))
        self.other_price.setText(
            _("entspricht {monthly} zzgl. USt.").format(monthly=texts.price_text(main / 12, yearly=False))
            if yearly
            else _("zzgl. USt.")
        )
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.badge.setVisible(current)
        border = ACCENT if current else "#cfd8dc"
        self.setStyleSheet(
            f"QFrame#plan_{self.plan.id} {{ border: 2px solid {border}; border-radius: 6px; background: white; }}"
        )
        self.button.setText(button)
        self.button.setEnabled(enabled)
        self.button.setToolTip(tip)


class InvoiceTable(QTableWidget):
    """Stripe's invoices: number, date, amount, status and links (opened through ``link_clicked``)."""

    link_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setObjectName("stripeInvoices")
        self.setHorizontalHeaderLabels([_("Nummer"), _("Datum"), _("Betrag"), _("Status"), _("Beleg")])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def set_invoices(self, invoices: list[InvoiceOut]) -> None:
        """Fill the table, newest first."""
        rows = sorted(invoices, key=lambda i: i.created, reverse=True)
        self.setRowCount(len(rows))
        for row, invoice in enumerate(rows):
            values = (
                invoice.number or invoice.id,
                texts.local_date(invoice.created),
                texts.invoice_amount(invoice),
                texts.invoice_status(invoice),
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, item)
            links = []
            view_text, pdf_text = _("Ansehen"), _("PDF")  # outside the f-strings, so they are extracted
            if invoice.hosted_invoice_url:
                links.append(f'<a href="{escape(invoice.hosted_invoice_url)}">{escape(view_text)}</a>')
            if invoice.invoice_pdf:
                links.append(f'<a href="{escape(invoice.invoice_pdf)}">{escape(pdf_text)}</a>')
            label = QLabel(" · ".join(links) or "–")
            label.setObjectName(f"invoiceLinks_{row}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setContentsMargins(6, 0, 6, 0)
            label.linkActivated.connect(self.link_clicked.emit)
            self.setCellWidget(row, 4, label)
        self.resizeRowsToContents()
        height = self.horizontalHeader().height() + self.verticalHeader().length() + 2 * self.frameWidth()
        self.setFixedHeight(min(300, height))


class OwnerLoginBox(QGroupBox):
    """Server, e-mail and password of the owner; ``submitted`` after the form checked out."""

    submitted = Signal(str, str, str)  # server url, e-mail, password

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Als Inhaber anmelden"), parent)
        self.setMaximumWidth(620)
        self.form = ValidatedForm()
        self.server_edit = self._line("server_url", _("Server-Adresse"), "https://sync.carbot.de")
        self.email_edit = self._line("email", _("E-Mail"), "inhaber@werkstatt.de")
        self.password_edit = self._line("password", _("Passwort"), "")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(self.submit)
        note = QLabel(
            _(
                "Das Abo verwaltet der Inhaber mit seinem eigenen Konto. Das Passwort wird nicht gespeichert; die "
                "Anmeldung bleibt im Schlüsselbund des Systems, bis Sie sich abmelden."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {MUTED};")
        self.button = QPushButton(_("Anmelden"))
        self.button.setObjectName("ownerLogin")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        box = QVBoxLayout(self)
        box.addLayout(self.form)
        box.addWidget(note)
        box.addLayout(buttons)

    def _line(self, name: str, title: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"owner_{name}")
        edit.setPlaceholderText(placeholder)
        self.form.add(name, title, edit)
        return edit

    def submit(self) -> None:
        """Check the fields (German errors next to them), then emit ``submitted``."""
        if not self.button.isEnabled():
            return
        self.form.clear_errors()
        server = self.server_edit.text().strip().rstrip("/")
        problems = []
        if not server.startswith(("https://", "http://")):
            problems.append(("server_url", _("Die Adresse muss mit https:// beginnen.")))
        if "@" not in self.email_edit.text():
            problems.append(("email", _("Bitte eine gültige E-Mail-Adresse angeben.")))
        if not self.password_edit.text():
            problems.append(("password", _("Bitte das Passwort eingeben.")))
        if problems:
            self.form.show_errors(problems)
            return
        self.button.setEnabled(False)
        self.submitted.emit(server, self.email_edit.text().strip(), self.password_edit.text())

    def finished(self, *, ok: bool) -> None:
        """The login ended: enable the button again; forget the password after a success."""
        self.button.setEnabled(True)
        if ok:
            self.password_edit.clear()


class PlansBox(QGroupBox):
    """ "Tarife": the interval choice and one card per plan of the overview's plan table."""

    chosen = Signal(str)  # plan id
    interval_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Tarife"), parent)
        self.cards: dict[str, PlanCard] = {}
        self.monthly = QRadioButton(_("monatlich"))
        self.monthly.setObjectName("intervalMonth")
        self.yearly = QRadioButton(
            _("jährlich – Sie zahlen {months} statt 12 Monate").format(months=plans.YEARLY_MONTHS)
        )
        self.yearly.setObjectName("intervalYear")
        self.monthly.setChecked(True)
        self.group = QButtonGroup(self)
        self.group.addButton(self.monthly)
        self.group.addButton(self.yearly)
        self.group.buttonToggled.connect(lambda *_args: self.interval_changed.emit())
        choice = QHBoxLayout()
        choice.addWidget(QLabel(_("Abrechnung:")))
        choice.addWidget(self.monthly)
        choice.addWidget(self.yearly)
        choice.addStretch(1)
        self.row = QHBoxLayout()
        self.row.setSpacing(12)
        hint = QLabel(
            _(
                "Alle Preise netto zzgl. gesetzlicher USt. Bezahlung per Karte oder SEPA-Lastschrift über Stripe; "
                "die USt-IdNr. können Sie dort angeben."
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {MUTED};")
        box = QVBoxLayout(self)
        box.addLayout(choice)
        box.addLayout(self.row)
        box.addWidget(hint)

    def interval(self) -> Interval:
        """ "month" or "year", as chosen."""
        return "year" if self.yearly.isChecked() else "month"

    def show_overview(self, overview: BillingOverview, *, owner: bool) -> None:
        """Cards for the overview's plans with prices for the chosen interval and the right buttons."""
        if not self.cards and overview.interval == "year":
            self.yearly.setChecked(True)  # start on the subscription's own interval
        if [card.plan for card in self.cards.values()] != overview.plans:
            for card in self.cards.values():
                self.row.removeWidget(card)
                card.deleteLater()
            self.cards = {}
            for plan in overview.plans:
                card = PlanCard(plan)
                card.chosen.connect(self.chosen.emit)
                self.cards[plan.id] = card
                self.row.addWidget(card, 1)
                card.show()  # the layout would only show it on the next event loop turn
        interval = self.interval()
        for plan_id, card in self.cards.items():
            action = texts.card_action(overview, card.plan, interval)
            card.show_state(
                yearly=interval == "year",
                current=plan_id == overview.plan_id,
                button=action.text,
                enabled=action.action is not None and owner,
                tip=action.tip if owner else _(OWNER_ONLY),
                note=action.note,
            )
