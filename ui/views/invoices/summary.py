"""Invoice previews as HTML for a QTextBrowser: the draft (from the order, before a number exists) and
the issued document (from its frozen InvoiceDocument, when Qt's PDF module is not installed).

The issued summary uses the same totals and notes as the PDF (``app.pdf.invoice_totals``), so what the
counter sees matches the paper; the archived PDF itself stays the legal document.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from app import formatting
from app.i18n import N_, _
from app.invoice_document import DocLine, InvoiceDocument
from app.services.customers import CustomerDTO
from app.services.order_lines import LineDTO
from app.services.settings import WorkshopSettings
from app.services.work_orders import WorkOrderDTO
from ui.views.counter.style import html_escape as esc
from ui.views.orders.style import amount, percent

FINALIZE_NOTE = N_(
    "Erst „Festschreiben“ vergibt die Nummer, erzeugt das PDF mit E-Rechnung und archiviert es unveränderbar (GoBD)."
)
PAGE_CSS = """
body { background: #ffffff; color: #212121; font-size: 10pt; }
h1 { color: %(accent)s; font-size: 17pt; margin: 0; }
h2 { font-size: 14pt; margin: 14px 0 6px 0; }
.muted { color: #607d8b; font-size: 9pt; }
table.lines { border-collapse: collapse; }
table.lines th { background: #eceff1; text-align: left; padding: 4px 6px; }
table.lines td { padding: 4px 6px; border-bottom: 1px solid #e0e0e0; }
.num { text-align: right; }
.draft { color: #c62828; font-weight: 600; font-size: 11pt; }
"""


def _money(value: Decimal | None) -> str:
    return "" if value is None else formatting.money(value)


def table_html(head: Iterable[tuple[str, bool]], rows: Iterable[Iterable[str]]) -> str:
    """A lines table; ``head`` is (title, right-aligned)."""
    heads = list(head)
    html = ['<table class="lines" width="100%" cellspacing="0"><tr>']
    html += [f"<th{' class=num align=right' if right else ''}>{esc(title)}</th>" for title, right in heads]
    html.append("</tr>")
    for cells in rows:
        html.append("<tr>")
        for (_title, right), cell in zip(heads, cells, strict=True):
            html.append(f"<td{' class=num align=right' if right else ''}>{cell}</td>")
        html.append("</tr>")
    html.append("</table>")
    return "".join(html)


def totals_html(rows: Iterable[tuple[str, str, bool]]) -> str:
    """The totals block at the right: (label, amount text, strong) per row."""
    html = ['<table width="100%" cellspacing="0"><tr><td width="45%"></td><td><table width="100%" cellspacing="2">']
    for label, value, strong in rows:
        style = ' style="font-weight:700; font-size:12pt; border-top:1px solid #263238"' if strong else ""
        html.append(f'<tr><td{style}>{esc(label)}</td><td align="right"{style}>{esc(value)}</td></tr>')
    html.append("</table></td></tr></table>")
    return "".join(html)


def page_html(
    accent: str, seller: str, seller_line: str, address: list[str], info: list[tuple[str, str]], body: str
) -> str:
    """A letter-like page: the seller on top, the address left, the information block right, then ``body``."""
    info_rows = "".join(
        f'<tr><td class="muted">{esc(label)}</td><td>&nbsp;&nbsp;{esc(value)}</td></tr>'
        for label, value in info
        if value
    )
    return (
        f"<html><head><style>{PAGE_CSS % {'accent': accent}}</style></head><body>"
        f'<h1>{esc(seller)}</h1><div class="muted">{esc(seller_line)}</div><hr/>'
        '<table width="100%"><tr>'
        f'<td valign="top" width="55%">{"<br/>".join(esc(p) for p in address if p)}</td>'
        f'<td valign="top"><table cellspacing="1">{info_rows}</table></td>'
        f"</tr></table>{body}</body></html>"
    )


def _draft_quantity(line: LineDTO) -> str:
    if line.kind == "labour":
        return _("{aw} AW").format(aw=amount(line.aw))
    if line.kind == "discount":
        return _("{percent} %").format(percent=amount(line.discount_percent)) if line.discount_percent else ""
    return f"{amount(line.quantity, 3)} {line.unit_label}".strip()


def draft_html(order: WorkOrderDTO, workshop: WorkshopSettings, customer: CustomerDTO | None) -> str:
    """The invoice draft as it will be issued: the order's lines (without proposed ones) and totals."""
    seller_line = " · ".join(p for p in (workshop.street, f"{workshop.postcode} {workshop.city}".strip()) if p)
    address = (
        [customer.display_name, customer.data.street, f"{customer.data.postcode} {customer.data.city}"]
        if customer
        else []
    )
    info = [
        (_("Rechnungsnummer"), _("wird beim Festschreiben vergeben")),
        (_("Leistungsdatum"), formatting.date(order.date_of_service)),
        (_("Kundennummer"), customer.number if customer else ""),
        (_("Auftrag"), order.number),
        (_("Kennzeichen"), order.plate),
        (
            _("Kilometerstand"),
            _("{km} km").format(km=formatting.number(order.mileage_in, 0)) if order.mileage_in else "",
        ),
    ]
    rows = [
        (
            str(line.position),
            esc(line.part_no),
            esc(line.text),
            esc(_draft_quantity(line)),
            esc(_money(workshop.aw_price if line.kind == "labour" else line.unit_price_net)),
            esc(percent(line.vat_rate)) if line.kind != "discount" else "",
            esc(_money(line.net)),
        )
        for line in order.lines
        if not line.proposed
    ]
    table = table_html(
        [
            (_("Pos."), False),
            (_("Art.-Nr."), False),
            (_("Bezeichnung"), False),
            (_("Menge"), True),
            (_("Einzelpreis"), True),
            (_("USt"), True),
            (_("Gesamt netto"), True),
        ],
        rows,
    )
    totals = order.totals
    total_rows = [(_("Nettobetrag"), _money(totals.net), False), (_("Umsatzsteuer"), _money(totals.tax), False)]
    if totals.altteil_tax:
        total_rows.append((_("darin Altteilsteuer"), _money(totals.altteil_tax), False))
    total_rows.append((_("Gesamtbetrag"), _money(totals.gross), True))
    body = (
        f"<h2>{esc(_('Rechnungsentwurf'))}</h2>"
        f'<p class="draft">{esc(_("ENTWURF – noch nicht festgeschrieben, keine Rechnungsnummer."))}</p>'
        f"{table}<br/>{totals_html(total_rows)}"
        f'<p class="muted">{esc(_(FINALIZE_NOTE))}</p>'
    )
    return page_html(workshop.accent_color or "#1f4e79", workshop.name, seller_line, address, info, body)


def doc_lines_html(lines: Iterable[DocLine]) -> str:
    """The printed lines of an issued document (invoice or KVA) as an HTML table."""
    rows = [
        (
            str(line.position),
            esc(line.part_no),
            esc(line.text),
            esc(f"{amount(line.quantity, 3)} {line.unit_label}".strip()),
            esc(_money(line.unit_price_net)),
            esc(percent(line.vat_rate)),
            esc(_money(line.net)),
        )
        for line in lines
    ]
    return table_html(
        [
            (_("Pos."), False),
            (_("Art.-Nr."), False),
            (_("Bezeichnung"), False),
            (_("Menge"), True),
            (_("Einzelpreis"), True),
            (_("USt"), True),
            (_("Gesamt netto"), True),
        ],
        rows,
    )


def document_html(doc: InvoiceDocument, accent: str = "#1f4e79") -> str:
    """An issued invoice or Storno from its frozen document (same totals and notes as the PDF)."""
    from app.pdf.invoice_totals import notes, payment_text, printed_lines, total_lines

    seller = doc.seller
    seller_line = " · ".join(p for p in (seller.street, f"{seller.postcode} {seller.city}", seller.phone) if p.strip())
    buyer = doc.buyer
    vehicle = doc.vehicle
    info = [
        (_("Rechnungsnummer"), doc.number),
        (_("Rechnungsdatum"), formatting.date(doc.issue_date)),
        (_("Leistungsdatum"), formatting.date(doc.service_date)),
        (_("Kundennummer"), doc.customer_number),
        (_("Auftrag"), doc.order_number),
        (_("Kennzeichen"), vehicle.plate),
        (_("Fahrzeug"), vehicle.make_model),
        (_("Kilometerstand"), _("{km} km").format(km=formatting.number(vehicle.mileage, 0)) if vehicle.mileage else ""),
    ]
    table = doc_lines_html(printed_lines(doc))
    totals = [(t.label, _money(t.amount), t.strong) for t in total_lines(doc)]
    title = _("Stornorechnung Nr. {number}") if doc.is_storno else _("Rechnung Nr. {number}")
    texts = [*notes(doc), payment_text(doc)]
    body = f"<h2>{esc(title.format(number=doc.number))}</h2>{table}<br/>{totals_html(totals)}" + "".join(
        f"<p>{esc(text)}</p>" for text in texts if text
    )
    return page_html(
        accent, seller.name, seller_line, [buyer.name, buyer.street, f"{buyer.postcode} {buyer.city}"], info, body
    )
