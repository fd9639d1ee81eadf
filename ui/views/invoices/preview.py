"""Previews of documents: any PDF (print, save, open in the PDF viewer) and the invoice flow on top of it –
draft → "Festschreiben" → the issued, archived PDF → "Drucken", "PDF speichern …", "Zahlung erfassen …".

Pages are shown as images when Qt's PDF module is installed; otherwise a faithful HTML summary of the
same document appears, and "Im PDF-Programm öffnen" shows the archived PDF itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.errors import WorkshopError
from app.i18n import _
from app.invoice_document import InvoiceDocument
from app.services.customers import CustomerDTO
from app.services.settings import WorkshopSettings
from app.services.work_orders import WorkOrderDTO
from ui.context import UiContext
from ui.errors import error_text, show_error
from ui.views.counter.editor_base import ERROR_COLOUR
from ui.views.counter.style import SECONDARY_TEXT
from ui.views.invoices import files
from ui.views.invoices.summary import document_html, draft_html
from ui.views.orders.dialogs import open_dialog
from ui.views.orders.style import PRIMARY_BUTTON, money


@dataclass(frozen=True)
class IssuedInvoice:
    """What the preview of an issued invoice shows."""

    number: str
    pdf: bytes
    document: InvoiceDocument
    open_amount: Decimal
    accent: str


class PdfPreviewDialog(QDialog):
    """A document on screen with "Drucken …", "PDF speichern …" and "Im PDF-Programm öffnen"."""

    def __init__(self, ctx: UiContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dialog: QDialog | None = None
        self.pdf: bytes = b""
        self.file_name = "dokument.pdf"
        self.html = ""
        self.pages: list[Any] | None = None
        self.setWindowTitle(title)
        self.resize(980, 860)
        self.browser = QTextBrowser()
        self.browser.setObjectName("previewText")
        self.browser.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.browser.setStyleSheet(
            "QTextBrowser { background: #ffffff; padding: 28px 40px; border: 1px solid #cfd8dc; }"
        )
        self.page_box = QWidget()
        self.page_layout = QVBoxLayout(self.page_box)
        self.page_layout.setSpacing(16)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        scroll.setStyleSheet("QScrollArea { background: #78909c; }")
        scroll.setWidget(self.page_box)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.browser)
        self.stack.addWidget(scroll)
        self.message = QLabel("")
        self.message.setObjectName("previewMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.print_button = QPushButton(_("Drucken …"))
        self.print_button.setToolTip(_("Drucken (Strg+P)"))
        self.print_button.setShortcut("Ctrl+P")
        self.print_button.clicked.connect(self.print_document)
        self.save_button = QPushButton(_("PDF speichern …"))
        self.save_button.setToolTip(_("Das archivierte PDF speichern (Strg+S)"))
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save_pdf)
        self.external_button = QPushButton(_("Im PDF-Programm öffnen"))
        self.external_button.clicked.connect(self.open_external)
        self.close_button = QPushButton(_("Schließen"))
        self.close_button.clicked.connect(self.reject)
        self.buttons = QHBoxLayout()
        for button in (self.print_button, self.save_button, self.external_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)
        layout.addLayout(self.buttons)
        self._set_file_buttons(False)

    def _set_file_buttons(self, enabled: bool) -> None:
        for button in (self.print_button, self.save_button, self.external_button):
            button.setVisible(enabled)

    def show_html(self, html: str) -> None:
        """Show an HTML page (a draft, or the summary without Qt's PDF module)."""
        self.html = html
        self.browser.setHtml(html)
        self.stack.setCurrentIndex(0)

    def set_pdf(self, pdf: bytes, file_name: str, fallback_html: str) -> None:
        """Show the PDF's pages (or ``fallback_html``) and offer print, save and open."""
        self.pdf, self.file_name, self.html = pdf, file_name, fallback_html
        self.pages = files.render_pages(pdf)
        if self.pages:
            while self.page_layout.count():
                item = self.page_layout.takeAt(0)
                if item is not None and item.widget() is not None:
                    item.widget().deleteLater()
            for image in self.pages:
                label = QLabel()
                label.setPixmap(QPixmap.fromImage(image))
                label.setStyleSheet("background: white; border: 1px solid #455a64;")
                self.page_layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
            self.stack.setCurrentIndex(1)
        else:
            self.show_html(fallback_html)
        self._set_file_buttons(True)

    def say(self, text: str, *, error: bool = False) -> None:
        """A line above the buttons (green for done, red for problems)."""
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR if error else '#2e7d32'}; font-weight: 600;")
        self.message.setVisible(bool(text))

    def print_document(self) -> None:
        """Choose a printer (window-modal), then print the pages or the summary."""
        if self.pdf:
            files.ask_printer(self, self._print_to)

    def _print_to(self, printer: QPrinter) -> None:
        try:
            if self.pages:
                files.print_pages(printer, self.pages)
            else:
                files.print_html(printer, self.html)
        except OSError as exc:
            self.say(str(exc), error=True)
            return
        self.say(_("An den Drucker gesendet."))

    def save_pdf(self) -> None:
        """Save the archived PDF byte for byte."""
        if self.pdf:
            files.ask_save_path(self, _("PDF speichern"), self.file_name, self._save_to)

    def _save_to(self, path: str) -> None:
        pdf = self.pdf
        self.ctx.runner.run(
            lambda: Path(path).write_bytes(pdf),
            lambda _size: self.say(_("Gespeichert: {path}").format(path=path)),
            lambda exc: self.say(_("Speichern fehlgeschlagen: {error}").format(error=exc), error=True),
            uses_db=False,
        )

    def open_external(self) -> None:
        """Open the PDF in the system's PDF viewer."""
        if self.pdf and not files.open_externally(self.pdf, self.file_name):
            self.say(_("Kein PDF-Programm gefunden – bitte „PDF speichern …“ verwenden."), error=True)


class InvoicePreviewDialog(PdfPreviewDialog):
    """The invoice flow: a draft (``number`` None) until "Festschreiben", then the issued invoice."""

    finalized = Signal(str)  # the new invoice number

    def __init__(
        self,
        ctx: UiContext,
        invoice_id: int,
        *,
        order: WorkOrderDTO | None = None,
        number: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, _("Rechnung"), parent)
        self.invoice_id = invoice_id
        self.order = order
        self.number = number
        self.issued: IssuedInvoice | None = None
        self.finalize_button = QPushButton(_("Festschreiben"))
        self.finalize_button.setObjectName("finalizeButton")
        self.finalize_button.setStyleSheet(PRIMARY_BUTTON)
        self.finalize_button.setToolTip(
            _("Nummer vergeben, PDF mit E-Rechnung erzeugen und unveränderbar archivieren (Strg+Enter)")
        )
        self.finalize_button.setShortcut("Ctrl+Return")
        self.finalize_button.clicked.connect(self.finalize)
        self.pay_button = QPushButton(_("Zahlung erfassen …"))
        self.pay_button.setObjectName("payButton")
        self.pay_button.clicked.connect(self.record_payment)
        self.pay_button.hide()
        self.buttons.insertWidget(self.buttons.count() - 1, self.pay_button)
        self.buttons.insertWidget(self.buttons.count() - 1, self.finalize_button)
        if number is None:
            self.setWindowTitle(_("Rechnungsentwurf – Vorschau"))
            self.close_button.setText(_("Verwerfen"))
            self.close_button.setToolTip(_("Entwurf verwerfen – es wird keine Nummer verbraucht (Esc)"))
            self._load_draft()
        else:
            self.finalize_button.hide()
            self.load_issued(number)

    # --- draft -------------------------------------------------------------------------------------------

    def _load_draft(self) -> None:
        services, order = self.ctx.services, self.order
        self.finalize_button.setDefault(True)

        def fetch() -> tuple[WorkshopSettings, CustomerDTO | None]:
            customer = services.customers.get(order.customer_id) if order is not None else None
            return services.settings.get(), customer

        self.ctx.query(fetch, self._draft_loaded, parent=self)

    def _draft_loaded(self, result: tuple[WorkshopSettings, CustomerDTO | None]) -> None:
        workshop, customer = result
        if self.order is not None:
            self.show_html(draft_html(self.order, workshop, customer))

    def finalize(self) -> None:
        """Assign the number, issue and archive (one transaction in the service)."""
        if self.number is not None or not self.finalize_button.isEnabled():
            return
        invoices, settings, invoice_id = self.ctx.services.invoices, self.ctx.services.settings, self.invoice_id
        self.finalize_button.setEnabled(False)
        self.say("")

        def issue() -> tuple[Any, Changes]:
            result = invoices.finalize(invoice_id, user=settings.get().current_user)
            return result, Changes(invoices=True, orders=True)

        self.ctx.mutate(issue, self._finalized, parent=self, initiator=self, on_error=self._finalize_failed)

    def _finalized(self, result: tuple[Any, Changes]) -> None:
        number = result[0].number
        self.number = number
        self.finalize_button.hide()
        self.close_button.setText(_("Schließen"))
        self.close_button.setToolTip(_("Schließen (Esc)"))
        self.finalized.emit(number)
        self.load_issued(number, announce=True)

    def _finalize_failed(self, exc: BaseException) -> None:
        self.finalize_button.setEnabled(True)
        if not isinstance(exc, WorkshopError):
            show_error(parent=self, exc=exc)
            return
        self.say(error_text(exc), error=True)

    def reject(self) -> None:
        """Esc/Verwerfen on a draft deletes it (no number is used up); otherwise just close."""
        if self.number is None and self.invoice_id:
            invoices, invoice_id = self.ctx.services.invoices, self.invoice_id
            self.invoice_id = 0  # once only, even if Esc is pressed again while deleting
            self.ctx.mutate(
                lambda: invoices.delete_draft(invoice_id), lambda _changes: QDialog.reject(self), parent=self
            )
            return
        super().reject()

    # --- issued ------------------------------------------------------------------------------------------

    def load_issued(self, number: str, *, announce: bool = False) -> None:
        """Load the archived PDF, its document and the open amount."""
        services, invoice_id = self.ctx.services, self.invoice_id

        def fetch() -> IssuedInvoice:
            return IssuedInvoice(
                number=number,
                pdf=services.invoices.pdf(number),
                document=services.invoices.document(number),
                open_amount=services.payments.open_amount(invoice_id),
                accent=services.settings.get().accent_color or "#1f4e79",
            )

        self.ctx.query(fetch, lambda issued: self._issued_loaded(issued, announce), parent=self)

    def _issued_loaded(self, issued: IssuedInvoice, announce: bool) -> None:
        self.issued = issued
        doc = issued.document
        kind = _("Stornorechnung") if doc.is_storno else _("Rechnung")
        self.setWindowTitle(
            _("{kind} {number} – {customer}").format(kind=kind, number=issued.number, customer=doc.buyer.name)
        )
        self.set_pdf(issued.pdf, f"{kind}_{issued.number}.pdf", document_html(doc, issued.accent))
        self.pay_button.setVisible(issued.open_amount > 0)
        if announce:
            self.say(
                _("Rechnung {number} festgeschrieben und archiviert – offen: {open}.").format(
                    number=issued.number, open=money(issued.open_amount)
                )
            )
        elif not self.message.isVisible():
            self.message.setStyleSheet(f"color: {SECONDARY_TEXT};")
            self.message.setText(_("Offen: {open}").format(open=money(issued.open_amount)))
            self.message.setVisible(not doc.is_storno)

    def record_payment(self) -> QDialog | None:
        """Payment at the counter right after invoicing: cash, girocard or split."""
        from ui.views.invoices.payment_dialog import PaymentDialog

        issued = self.issued
        if issued is None or issued.open_amount <= 0:
            return None
        dialog = PaymentDialog(
            self.ctx, self.invoice_id, issued.number, issued.open_amount, issued.document.buyer.name, parent=self
        )
        dialog.saved.connect(lambda _payment: self.load_issued(issued.number))
        dialog.saved.connect(lambda _payment: self.say(_("Zahlung erfasst.")))
        return open_dialog(self, dialog)
