"""The invoice list of the counter: filters Alle / Offen / Überfällig / Storniert, a search box, and the
actions PDF öffnen, PDF speichern, Zahlung erfassen, Mahnung erstellen and Stornieren.

All invoices are loaded at once (one query, ``app.services.invoice_queries``) and filtered in memory by
``InvoiceFilterProxy``; the list reloads when invoices, customers or vehicles change.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import formatting
from app.changes import Changes
from app.errors import WorkshopError
from app.i18n import N_, _
from app.services.dunning import ReminderDTO
from app.services.invoice_queries import InvoiceRow, invoice_rows
from ui.context import UiContext
from ui.errors import show_error
from ui.views.counter.editor_base import ERROR_COLOUR
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.invoices import files
from ui.views.invoices.cancel_dialog import CancelInvoiceDialog
from ui.views.invoices.model import COL, FILTERS, InvoiceFilterProxy, InvoiceTableModel, search_texts
from ui.views.invoices.payment_dialog import PaymentDialog
from ui.views.invoices.preview import InvoicePreviewDialog, PdfPreviewDialog
from ui.views.orders.dialogs import confirm, open_dialog
from ui.views.orders.segments import SegmentedSwitch
from ui.views.orders.style import DANGER_BUTTON, SECTION_TITLE

FILTER_TITLES = (
    ("all", N_("Alle")),
    ("open", N_("Offen")),
    ("overdue", N_("Überfällig")),
    ("cancelled", N_("Storniert")),
)


class InvoicesPage(QWidget):
    """Every issued invoice and Storno; ``rows_loaded`` is True once the first query arrived."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog: QDialog | None = None
        self.loaded = False
        self._totals = (Decimal("0.00"), Decimal("0.00"))  # open, overdue
        self._stale = True
        self._generation = 0
        self.model = InvoiceTableModel(self)
        self.proxy = InvoiceFilterProxy(self.model, self)
        title = QLabel(_("Rechnungen"))
        title.setStyleSheet(SECTION_TITLE)
        self.filters = SegmentedSwitch()
        for key, text in FILTER_TITLES:
            self.filters.add(key, _(text))
        self.filters.buttons["open"].setToolTip(_("Offene Rechnungen, auch die überfälligen"))
        self.filters.changed.connect(self.set_status_filter)
        self.search = QLineEdit()
        self.search.setObjectName("invoiceSearch")
        self.search.setPlaceholderText(_("Rechnungsnr., Kunde, Kennzeichen, Auftrag …"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(360)
        self.search.textChanged.connect(self._search_changed)
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(title)
        top.addWidget(self.filters)
        top.addStretch(1)
        top.addWidget(self.search)
        self.table = self._build_table()
        self.summary = QLabel("")
        self.summary.setObjectName("invoiceSummary")
        self.summary.setStyleSheet(f"color: {SECONDARY_TEXT};")
        self.message = QLabel("")
        self.message.setObjectName("invoiceMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.actions: dict[str, QPushButton] = {}
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        for key, text, tip, slot in (
            ("open_pdf", N_("PDF öffnen"), N_("Das archivierte PDF anzeigen, drucken (Enter)"), self.open_pdf),
            ("save_pdf", N_("PDF speichern …"), N_("Das archivierte PDF als Datei speichern"), self.save_pdf),
            (
                "pay",
                N_("Zahlung erfassen …"),
                N_("Bar, Girocard, Überweisung oder SEPA – auch aufgeteilt"),
                self.record_payment,
            ),
            ("remind", N_("Mahnung erstellen"), N_("Zahlungserinnerung bzw. nächste Mahnstufe"), self.create_reminder),
            ("cancel", N_("Stornieren …"), N_("Stornorechnung erstellen (GoBD: nie ändern)"), self.cancel_invoice),
        ):
            button = QPushButton(_(text))
            button.setObjectName(f"invoice_{key}")
            button.setToolTip(_(tip))
            button.clicked.connect(slot)
            self.actions[key] = button
            bottom.addWidget(button)
        self.actions["cancel"].setStyleSheet(DANGER_BUTTON)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        ctx.bus.operation_did_execute.connect(self._on_changes)
        self._update_actions()

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("invoiceTable")
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setSortingEnabled(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(28)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        head = table.horizontalHeader()
        head.setSortIndicator(COL["date"], Qt.SortOrder.DescendingOrder)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(COL["customer"], QHeaderView.ResizeMode.Stretch)
        for key, width in (("number", 150), ("date", 100), ("plate", 120), ("gross", 110), ("paid", 110)):
            table.setColumnWidth(COL[key], width)
        for key, width in (("open", 110), ("due", 100), ("status", 230)):
            table.setColumnWidth(COL[key], width)
        table.doubleClicked.connect(lambda _index: self.open_pdf())
        table.activated.connect(lambda _index: self.open_pdf())
        table.selectionModel().selectionChanged.connect(lambda *_a: self._update_actions())
        return table

    # --- data --------------------------------------------------------------------------------------------

    def ensure_loaded(self) -> None:
        """Load the rows if they are missing or outdated (called when the page is shown)."""
        if self._stale:
            self.load()

    def load(self) -> None:
        """Query every invoice in the background."""
        self._stale = False
        self._generation += 1
        generation, db, today = self._generation, self.ctx.services.db, self.ctx.today()

        def fetch() -> tuple[list[InvoiceRow], list[str]]:
            rows = invoice_rows(db, today=today)
            return rows, search_texts(rows)  # folded here, off the GUI thread

        self.ctx.query(fetch, lambda result: self._loaded(generation, *result), parent=self)

    def _loaded(self, generation: int, rows: list[InvoiceRow], haystacks: list[str]) -> None:
        if generation != self._generation:
            return
        selected = self.current_row()
        self.model.set_rows(rows, haystacks)
        head = self.table.horizontalHeader()
        self.model.sort(head.sortIndicatorSection(), head.sortIndicatorOrder())
        self.proxy.set_filter()
        self.loaded = True
        self._totals = (
            sum((r.open for r in rows if r.payable), Decimal("0.00")),
            sum((r.open for r in rows if r.status == "overdue"), Decimal("0.00")),
        )
        counts = Counter(row.status for row in rows)
        for key, text in FILTER_TITLES:
            statuses = FILTERS[key]
            count = len(rows) if statuses is None else sum(counts[s] for s in statuses)
            self.filters.buttons[key].setText(f"{_(text)} ({formatting.number(count, 0)})")
        self._after_filter()
        if selected is not None:
            self.select_invoice(selected.id)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.invoices or changes.customers or changes.vehicles:
            self._stale = True
            if self.isVisible():
                self.load()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Load lazily: the list costs nothing until the counter opens it."""
        super().showEvent(event)
        self.ensure_loaded()

    def set_status_filter(self, key: str) -> None:
        """Alle / Offen / Überfällig / Storniert."""
        self.filters.set_current(key)
        self.proxy.set_filter(status_filter=key)
        self._after_filter()

    def _search_changed(self, text: str) -> None:
        self.proxy.set_filter(search=text)
        self._after_filter()

    def _after_filter(self) -> None:
        open_total, overdue = self._totals
        self.summary.setText(
            _("{shown} von {total} Rechnungen · offen gesamt {open} · davon überfällig {overdue}").format(
                shown=formatting.number(self.proxy.rowCount(), 0),
                total=formatting.number(len(self.model.rows), 0),
                open=formatting.money(open_total),
                overdue=formatting.money(overdue),
            )
        )
        if self.proxy.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)
        self._update_actions()

    # --- selection ---------------------------------------------------------------------------------------

    def current_row(self) -> InvoiceRow | None:
        """The selected invoice."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.proxy.row_dto(rows[0].row()) if rows else None

    def select_invoice(self, invoice_id: int) -> bool:
        """Select the invoice with ``invoice_id`` if it is shown."""
        for row in range(self.proxy.rowCount()):
            dto = self.proxy.row_dto(row)
            if dto is not None and dto.id == invoice_id:
                self.table.selectRow(row)
                self.table.scrollTo(self.proxy.index(row, 0))
                return True
        return False

    def _update_actions(self) -> None:
        row = self.current_row()
        self.actions["open_pdf"].setEnabled(row is not None)
        self.actions["save_pdf"].setEnabled(row is not None)
        self.actions["pay"].setEnabled(row is not None and row.payable)
        self.actions["remind"].setEnabled(row is not None and row.status == "overdue")
        self.actions["cancel"].setEnabled(row is not None and row.kind == "invoice" and row.status != "cancelled")

    def say(self, text: str, *, error: bool = False) -> None:
        """A line above the actions."""
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR if error else '#2e7d32'}; font-weight: 600;")
        self.message.setVisible(bool(text))

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, WorkshopError):
            self.say(exc.message, error=True)
        else:
            show_error(parent=self, exc=exc)

    # --- actions -----------------------------------------------------------------------------------------

    def open_pdf(self) -> InvoicePreviewDialog | None:
        """Show the archived PDF (print and save from there)."""
        row = self.current_row()
        if row is None:
            return None
        self.say("")
        return open_dialog(self, InvoicePreviewDialog(self.ctx, row.id, number=row.number, parent=self))

    def save_pdf(self) -> None:
        """Save the archived PDF byte for byte."""
        row = self.current_row()
        if row is None:
            return
        invoices, number = self.ctx.services.invoices, row.number
        kind = _("Stornorechnung") if row.kind == "storno" else _("Rechnung")

        def chosen(path: str) -> None:
            self.ctx.runner.run(
                lambda: Path(path).write_bytes(invoices.pdf(number)),
                lambda _size: self.say(_("Gespeichert: {path}").format(path=path)),
                self._failed,
            )

        files.ask_save_path(self, _("PDF speichern"), f"{kind}_{number}.pdf", chosen)

    def record_payment(self) -> PaymentDialog | None:
        """Zahlung erfassen with the open amount prefilled."""
        row = self.current_row()
        if row is None or not row.payable:
            return None
        self.say("")
        dialog = PaymentDialog(self.ctx, row.id, row.number, row.open, row.customer_name, parent=self)
        dialog.saved.connect(lambda _paid: self.say(_("Zahlung zu {number} gebucht.").format(number=row.number)))
        return open_dialog(self, dialog)

    def cancel_invoice(self) -> CancelInvoiceDialog | None:
        """Stornieren: reason, then the Stornorechnung."""
        row = self.current_row()
        if row is None or row.kind != "invoice" or row.status == "cancelled":
            return None
        self.say("")
        dialog = CancelInvoiceDialog(self.ctx, row, parent=self)
        dialog.saved.connect(
            lambda result: self.say(_("Stornorechnung {number} erstellt.").format(number=result.number))
        )
        return open_dialog(self, dialog)

    def create_reminder(self) -> None:
        """The next reminder level for an overdue invoice; its letter opens for printing."""
        row = self.current_row()
        if row is None or row.status != "overdue":
            return
        payments, settings, invoice_id = self.ctx.services.payments, self.ctx.services.settings, row.id

        def remind() -> tuple[ReminderDTO, bytes, Changes]:
            reminder = payments.create_reminder(invoice_id, user=settings.get().current_user)
            return reminder, payments.reminder_pdf(reminder.id), Changes(invoices=True)

        level = _("Zahlungserinnerung") if row.reminder_level is None else _("nächste Mahnstufe")
        confirm(
            self,
            self,
            _("Mahnung erstellen"),
            _("{level} für Rechnung {number} ({customer}, offen {open}) erstellen?").format(
                level=level, number=row.number, customer=row.customer_name, open=formatting.money(row.open)
            ),
            _("Erstellen"),
            lambda: self.ctx.mutate(remind, self._reminder_created, parent=self, initiator=self, on_error=self._failed),
        )

    def _reminder_created(self, result: tuple[ReminderDTO, bytes, Changes]) -> None:
        reminder, pdf = result[0], result[1]
        self.say(_("{level} zu {number} erstellt.").format(level=reminder.level_name, number=reminder.invoice_number))
        dialog = PdfPreviewDialog(self.ctx, reminder.level_name, parent=self)
        summary = _(
            "<h2>{level}</h2><p>Rechnung {number} · offen {open} · Mahngebühr {fee} · neue Frist {due}</p>"
        ).format(
            level=reminder.level_name,
            number=reminder.invoice_number,
            open=formatting.money(reminder.open_amount),
            fee=formatting.money(reminder.fee),
            due=formatting.date(reminder.new_due_date),
        )
        dialog.set_pdf(pdf, f"{reminder.level_name}_{reminder.invoice_number}.pdf".replace(" ", "_"), summary)
        open_dialog(self, dialog)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Esc clears the search (and stays on this page)."""
        if event.key() == Qt.Key.Key_Escape:
            self.search.clear()
            self.search.setFocus()
            return
        super().keyPressEvent(event)

    def focus(self) -> None:
        """Cursor into the search box."""
        self.search.setFocus()
        self.search.selectAll()
