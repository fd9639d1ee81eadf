"""The printed KVA on screen: the document preview of the invoices (pages as images with Qt's PDF module,
otherwise an HTML summary of the same document) with "Drucken …", "PDF speichern …" and "Im PDF-Programm
öffnen". The PDF is rendered in the background by ``app.services.estimate_document``; the summary uses the
same totals and terms texts as the PDF.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app import formatting
from app.i18n import _
from app.pdf.estimate import EstimateDocument, estimate_notes, terms_texts, total_entries
from app.services.estimate_document import RenderedEstimate, estimate_pdf
from ui.context import UiContext
from ui.views.counter.style import html_escape as esc
from ui.views.invoices.preview import PdfPreviewDialog
from ui.views.invoices.summary import doc_lines_html, page_html, totals_html


def estimate_html(doc: EstimateDocument, accent: str = "#1f4e79") -> str:
    """The KVA as an HTML page: heading, lines, totals, terms and the signature line."""
    from app.pdf.invoice_totals import printed_lines

    seller = doc.seller
    seller_line = " · ".join(p for p in (seller.street, f"{seller.postcode} {seller.city}", seller.phone) if p.strip())
    buyer, vehicle = doc.buyer, doc.vehicle
    info = [
        (_("KVA-Nummer"), doc.number),
        (_("Datum"), formatting.date(doc.issue_date)),
        (_("Gültig bis"), formatting.date(doc.valid_until)),
        (_("Kundennummer"), doc.customer_number),
        (_("Kennzeichen"), vehicle.plate),
        (_("Fahrzeug"), vehicle.make_model),
        (_("Kilometerstand"), _("{km} km").format(km=formatting.number(vehicle.mileage, 0)) if vehicle.mileage else ""),
    ]
    totals = [(entry.label, formatting.money(entry.amount), entry.strong) for entry in total_entries(doc)]
    remarks = "<br/>".join(esc(line) for line in doc.remarks.splitlines() if line.strip())
    texts = [*terms_texts(doc), *estimate_notes(doc)]
    body = (
        f"<h2>{esc(doc.title)}</h2>{doc_lines_html(printed_lines(doc))}<br/>{totals_html(totals)}"
        + (f"<p><b>{esc(_('Hinweise:'))}</b> {remarks}</p>" if remarks else "")
        + "".join(f"<p>{esc(text)}</p>" for text in texts)
        + _signature_html()
    )
    address = [buyer.name, buyer.street, f"{buyer.postcode} {buyer.city}"]
    return page_html(accent, seller.name, seller_line, address, info, body)


def _signature_html() -> str:
    order = _("Ich beauftrage die Arbeiten zu den Bedingungen dieses Kostenvoranschlags.")
    line = "_" * 28
    return (
        f"<p><b>{esc(_('Auftrag erteilt:'))}</b> {esc(order)}</p><br/>"
        f'<table cellspacing="0"><tr><td>{line}</td><td width="40"></td><td>{line}{line[:12]}</td></tr>'
        f'<tr><td class="muted">{esc(_("Datum"))}</td><td></td>'
        f'<td class="muted">{esc(_("Unterschrift des Auftraggebers"))}</td></tr></table>'
    )


class EstimatePreviewDialog(PdfPreviewDialog):
    """Shows KVA ``estimate_id`` as printed; ``rendered`` holds the document and the PDF once loaded."""

    def __init__(self, ctx: UiContext, estimate_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Kostenvoranschlag – Vorschau"), parent)
        self.estimate_id = estimate_id
        self.rendered: RenderedEstimate | None = None
        self.save_button.setToolTip(_("Den Kostenvoranschlag als PDF speichern (Strg+S)"))
        self.show_html(f"<p>{esc(_('Kostenvoranschlag wird erstellt …'))}</p>")
        self.load()

    def load(self) -> None:
        """Render the PDF in the background (database read and ReportLab, never on the GUI thread)."""
        services, estimate_id = self.ctx.services, self.estimate_id

        def fetch() -> tuple[RenderedEstimate, str]:
            return estimate_pdf(services.db, estimate_id), services.settings.get().accent_color or "#1f4e79"

        self.ctx.query(fetch, self._loaded, parent=self)

    def _loaded(self, result: tuple[RenderedEstimate, str]) -> None:
        rendered, accent = result
        self.rendered = rendered
        doc = rendered.document
        self.setWindowTitle(
            _("Kostenvoranschlag {number} – {customer}").format(number=doc.number, customer=doc.buyer.name)
        )
        self.set_pdf(rendered.pdf, rendered.file_name, estimate_html(doc, accent))
