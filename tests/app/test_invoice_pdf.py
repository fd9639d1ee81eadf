"""Invoice and reminder PDFs: §14 Abs. 4 fields, page breaks with "Übertrag", GiroCode, embedded fonts only,
reproducible bytes, Stornorechnung wording, Kleinbetragsrechnung, reverse charge, §19, dunning levels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import segno.helpers
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from app.errors import ValidationError
from app.invoice_document import InvoiceDocument, LineKind, Party, VehicleInfo
from app.pdf import (
    OpenInvoice,
    PdfStyle,
    ReminderDocument,
    ReminderLevel,
    girocode_payload,
    render_invoice_pdf,
    render_reminder_pdf,
)
from app.pdf import girocode as girocode_module
from app.pdf.girocode import make_qr
from app.pdf.invoice_totals import notes as invoice_notes
from app.tax import InputLine, TaxContext, TaxResult, compute, negated

SELLER = Party(
    name="Kfz-Meisterbetrieb Schrauber GmbH",
    street="Werkstattweg 12",
    postcode="10115",
    city="Berlin",
    vat_id="DE123456789",
    tax_number="27/123/45678",
    email="service@schrauber-kfz.de",
    phone="030 1234567",
)
BUYER = Party(name="Erika Mustermann", street="Lindenallee 3", postcode="12345", city="Musterstadt")
IBAN = "DE02120300000000202051"


def _part(text: str, qty: str, unit: str, price: str, rate: str = "19", **extra: Any) -> InputLine:
    kind = extra.pop("kind", LineKind.PART)
    return InputLine(kind=kind, text=text, quantity=Decimal(qty), unit_label=unit, unit_price_net=Decimal(price),
                     vat_rate=Decimal(rate), **extra)  # fmt: skip


def _labour(text: str, aw: str, aw_per_hour: int, hourly_rate: str) -> InputLine:
    return InputLine(kind=LineKind.LABOUR, text=text, aw=Decimal(aw), aw_per_hour=aw_per_hour,
                     hourly_rate=Decimal(hourly_rate))  # fmt: skip


def _document(inputs: list[InputLine], ctx: TaxContext | None = None, **changes: Any) -> InvoiceDocument:
    """The document the invoice service would issue: lines, breakdown and notes from the real VAT engine."""
    result = compute(inputs, ctx or TaxContext())
    return _from_result(result, **changes)


def _from_result(result: TaxResult, **changes: Any) -> InvoiceDocument:
    doc = InvoiceDocument(
        number="W1-2026-000123", issue_date=dt.date(2026, 11, 27), service_date=dt.date(2026, 11, 25),
        seller=SELLER, buyer=BUYER, lines=result.lines, taxes=result.taxes, net_total=result.net_total,
        tax_total=result.tax_total, gross_total=result.gross_total, due_date=dt.date(2026, 12, 11),
        payment_terms="Zahlbar innerhalb von 14 Tagen ohne Abzug.", iban=IBAN, bic="BYLADEM1001",
        bank_name="Deutsche Kreditbank Berlin", altteil_tax=result.altteil_tax, reverse_charge=result.reverse_charge,
        kleinunternehmer=result.kleinunternehmer, notes=result.notes, customer_number="K-1001",
        vehicle=VehicleInfo(plate="B-CB 1234", vin="WVWZZZ1KZAW000001", mileage=123456, make_model="VW Golf VI"),
    )  # fmt: skip
    return dataclasses.replace(doc, **changes)


def _invoice(extra_lines: int = 0, **changes: Any) -> InvoiceDocument:
    """Labour 6 AW at 12 AW/h and 120 €/h, parts at 19 %, an exchange generator (the engine adds the
    Altteil lines: +19,00 € Altteilsteuer on its 100 € old-part value), one 7 % line, ``extra_lines`` parts."""
    inputs = [
        _labour("Inspektion nach Herstellervorgabe", "6", 12, "120"),
        _part("Ölfilter", "1", "Stk.", "12.90", part_no="W 712/95"),
        _part("Motoröl 5W-30 Longlife III", "4.5", "l", "14.80"),
        _part("Austauschgenerator 140 A", "1", "Stk.", "1000", kind=LineKind.EXCHANGE_PART, part_no="0 986 049 530"),
        _part("Serviceheft (Druckerzeugnis)", "1", "Stk.", "10", rate="7"),
    ]
    inputs += [_part(f"Kleinteil Nr. {i + 1}", "2", "Stk.", "1.25") for i in range(extra_lines)]
    return _document(inputs, **changes)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\u00a0", " ") for page in PdfReader(io.BytesIO(pdf)).pages]


def _text(pdf: bytes) -> str:
    return "\n".join(_pages(pdf))


def test_full_invoice_shows_every_section_14_field() -> None:
    doc = _invoice()
    text = _text(render_invoice_pdf(doc))
    expected = [
        # supplier and customer, name and address (Nr. 1); tax number and VAT id (Nr. 2)
        "Kfz-Meisterbetrieb Schrauber GmbH",
        "Werkstattweg 12",
        "10115 Berlin",
        "Steuernummer",
        "27/123/45678",
        "USt-IdNr. DE123456789",
        "Erika Mustermann",
        "Lindenallee 3",
        "12345 Musterstadt",
        # issue date, number, service date (Nr. 3, 4, 6)
        "Rechnungsdatum\n27.11.2026",
        "Rechnung Nr. W1-2026-000123",
        "Leistungsdatum\n25.11.2026",
        "Kundennummer\nK-1001",
        "Kennzeichen\nB-CB 1234",
        "FIN\nWVWZZZ1KZAW000001",
        "123.456 km",
        # quantity and kind of goods and services (Nr. 5)
        "Inspektion nach Herstellervorgabe",
        "Ölfilter",
        "W 712/95",
        "Motoröl 5W-30 Longlife III",
        "4,5 l",
        "Austauschgenerator 140 A",
        "Serviceheft (Druckerzeugnis)",
        # net per rate, rate and tax per rate, Altteilsteuer, gross (Nr. 7, 8)
        "Nettobetrag 19 %\n 1.139,50 €",
        "Nettobetrag 7 %\n 10,00 €",
        "19 % USt auf 1.139,50 €\n 216,51 €",
        "7 % USt auf 10,00 €\n 0,70 €",
        "Altteilsteuer 19 % (UStAE 10.5 Abs. 3)\n 19,00 €",
        "Gesamtbetrag\n 1.385,71 €",
        # payment terms with due date, bank
        "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
        "bis zum 11.12.2026",
        "IBAN DE02 1203 0000 0000 2020 51",
        "BIC BYLADEM1001",
        "Bequem bezahlen mit GiroCode",
        "Zahlen mit Code",
        "Seite 1 von 1",
    ]
    missing = [item for item in expected if item not in text]
    assert not missing, f"missing on the invoice: {missing}\n---\n{text}"
    # Only the Altteilsteuer is shown, never the old-part value lines themselves.
    assert "Altteilwert" not in text and "Verrechnung Altteil" not in text and "100,00 €" not in text
    # ... and the exchange part says where its position numbers went (the engine numbers them 5 and 6).
    assert "Altteilsteuer siehe unten (Pos. 5–6)" in " ".join(text.split())
    assert "Gutschrift" not in text


def test_labour_line_shows_aw_aw_price_and_total() -> None:
    text = _text(render_invoice_pdf(_invoice()))
    # 12 AW per hour, 120 €/h → AW price 10 €; 6 AW → 60 € (INV-12)
    assert "6 AW\n10,00 €\n19 %\n60,00 €" in text
    assert "6 AW × 10,00 € · 12 AW = 1 Std. · Stundensatz 120,00 €" in " ".join(text.split())


def test_sixty_lines_span_pages_with_carry_over_and_page_numbers() -> None:
    pages = _pages(render_invoice_pdf(_invoice(extra_lines=60)))
    total = len(pages)
    assert total >= 2
    carried: list[Decimal] = []
    for number, page in enumerate(pages, start=1):
        assert f"Seite {number} von {total}" in page
        assert page.count("Gesamt netto") == 1  # the table header is repeated on every page
        amounts = [
            Decimal(a.replace(".", "").replace(",", ".")) for a in re.findall(r"Übertrag\n([\d.]+,\d\d) €", page)
        ]
        if number > 1:
            assert amounts[0] == carried[-1]  # the page starts with the sum the previous page ended with
        if number < total:
            # the first five lines make 1.149,50 €, every small part 2,50 €
            small_parts_so_far = sum(len(re.findall(r"Kleinteil Nr\. \d+\n", p)) for p in pages[:number])
            assert amounts[-1] == Decimal("1149.50") + Decimal("2.50") * small_parts_so_far
            carried.append(amounts[-1])
        else:
            assert "Gesamtbetrag\n 1.564,21 €" in page
    assert len(carried) == total - 1


def test_girocode_payload_follows_epc_069_12() -> None:
    payload = girocode_payload(
        name="Kfz-Meisterbetrieb Schrauber GmbH",
        iban="DE02 1203 0000 0000 2020 51",
        amount=Decimal("123.45"),
        text="W1-2026-000123",
    )
    assert payload == (
        "BCD\n002\n2\nSCT\n\nKfz-Meisterbetrieb Schrauber GmbH\nDE02120300000000202051\nEUR123.45\n\n\nW1-2026-000123"
    )
    # The symbol we draw is the one segno's own EPC helper makes for the same transfer.
    reference = segno.helpers.make_epc_qr(
        name="Kfz-Meisterbetrieb Schrauber GmbH", iban=IBAN, amount=Decimal("123.45"), text="W1-2026-000123"
    )
    assert make_qr(payload).matrix == reference.matrix
    assert make_qr(payload).error == "M"


def test_girocode_amount_always_has_two_decimals_and_is_rounded_half_up() -> None:
    payload = girocode_payload(name="Werkstatt", iban=IBAN, amount=Decimal("238.005"), text="R-1")
    assert payload is not None and payload.split("\n")[7] == "EUR238.01"


@pytest.mark.parametrize(("amount", "iban"), [(Decimal("0"), IBAN), (Decimal("-5.00"), IBAN), (Decimal("10"), "")])
def test_no_girocode_without_amount_due_or_iban(amount: Decimal, iban: str) -> None:
    assert girocode_payload(name="Werkstatt", iban=iban, amount=amount, text="R-1") is None


def test_invalid_iban_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        girocode_payload(name="Werkstatt", iban="DE02120300000000202052", amount=Decimal("1"), text="R-1")
    assert err.value.field == "iban"


def test_invoice_girocode_encodes_amount_due_and_number(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = girocode_module.make_qr
    monkeypatch.setattr(girocode_module, "make_qr", lambda payload: drawn.append(payload) or original(payload))
    doc = _invoice(prepaid=Decimal("1262.26"))
    text = _text(render_invoice_pdf(doc))
    assert drawn == [f"BCD\n002\n2\nSCT\n\n{SELLER.name}\n{IBAN}\nEUR123.45\n\n\nW1-2026-000123"]
    assert "bereits bezahlt\n -1.262,26 €" in text and "Zahlbetrag\n 123,45 €" in text


def test_no_girocode_when_nothing_is_due() -> None:
    doc = _invoice()
    text = _text(render_invoice_pdf(dataclasses.replace(doc, prepaid=doc.gross_total)))
    assert "GiroCode" not in text and "Zahlen mit Code" not in text
    assert "bereits vollständig bezahlt" in text


def _fonts(obj: Any, seen: set[int]) -> list[DictionaryObject]:
    """Every font dictionary reachable from a page or form XObject's resources."""
    found: list[DictionaryObject] = []
    resources = obj.get("/Resources")
    if resources is None or id(resources) in seen:
        return found
    seen.add(id(resources))
    resources = resources.get_object()
    found += [font.get_object() for font in resources.get("/Font", {}).values()]
    for xobject in resources.get("/XObject", {}).values():
        found += _fonts(xobject.get_object(), seen)
    return found


def test_only_embedded_truetype_fonts() -> None:
    for pdf in (render_invoice_pdf(_invoice(extra_lines=60)), render_reminder_pdf(_reminder(2))):
        fonts = [f for page in PdfReader(io.BytesIO(pdf)).pages for f in _fonts(page, set())]
        assert fonts
        for font in fonts:
            assert "Helvetica" not in str(font["/BaseFont"])
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_same_document_renders_the_same_bytes() -> None:
    doc = _invoice(extra_lines=30)
    first = render_invoice_pdf(doc)
    assert render_invoice_pdf(doc) == first
    assert render_invoice_pdf(dataclasses.replace(doc, number="W1-2026-000124")) != first


def test_pdf_metadata_is_german_and_titled() -> None:
    reader = PdfReader(io.BytesIO(render_invoice_pdf(_invoice())))
    assert reader.trailer["/Root"]["/Lang"] == "de-DE"
    assert reader.metadata is not None and reader.metadata.title == "Rechnung W1-2026-000123"


def test_storno_names_the_cancelled_invoice_and_never_says_gutschrift() -> None:
    # As the invoice service issues it: the original's figures negated, its own note and payment terms.
    original = compute([_labour("Inspektion", "6", 12, "120"), _part("Ölfilter", "1", "Stk.", "12.90")], TaxContext())
    storno = _from_result(
        negated(original), number="W1-2026-000124", issue_date=dt.date(2026, 12, 2), is_storno=True,
        cancels=("W1-2026-000123", dt.date(2026, 11, 27)), payment_terms="Der Betrag wird verrechnet bzw. erstattet.",
        notes=("Stornorechnung zur Rechnung Nr. W1-2026-000123 vom 27.11.2026.",),
    )  # fmt: skip
    text = _text(render_invoice_pdf(storno))
    assert "Stornorechnung Nr. W1-2026-000124" in text
    assert "zur Rechnung Nr. W1-2026-000123 vom 27.11.2026" in text
    assert "-6 AW" in text and "-60,00 €" in text and "Gesamtbetrag\n -86,75 €" in text
    assert "Der Betrag wird verrechnet bzw. erstattet." in text
    assert text.count("W1-2026-000123") == 2  # heading and the service's note, not a third time
    assert "gutschrift" not in text.lower()
    assert "GiroCode" not in text
    # Without the service's note the PDF names the cancelled invoice itself.
    assert "Diese Stornorechnung hebt die Rechnung Nr. W1-2026-000123 vom 27.11.2026 auf." in invoice_notes(
        dataclasses.replace(storno, notes=())
    )


def test_small_invoice_shows_gross_per_rate() -> None:
    inputs = [
        _labour("Glühlampe H7 wechseln", "2", 10, "100"),
        _part("Glühlampe H7", "1", "Stk.", "8.40"),
        _part("Serviceheft (Druckerzeugnis)", "1", "Stk.", "10.00", rate="7"),
    ]
    text = _text(render_invoice_pdf(_document(inputs, small_invoice=True)))
    assert "Gesamt\n brutto" in text and "Rechnung Nr. W1-2026-000123" in text
    # 20,00 € × 1,19 = 23,80 €; 8,40 € × 1,19 = 9,996 → 10,00 €; 10,00 € × 1,07 = 10,70 €
    assert "23,80 €" in text and "10,70 €" in text and "9,996" not in text
    assert "Summe 19 % (brutto)\n 33,80 €" in text and "Summe 7 % (brutto)\n 10,70 €" in text
    assert "darin enthalten 19 % USt\n 5,40 €" in text and "Gesamtbetrag\n 44,50 €" in text
    assert "Nettobetrag" not in text and "Gesamt netto" not in text and "Altteilsteuer" not in text


def test_reverse_charge_names_both_vat_ids_once() -> None:
    buyer = Party("Garage Dupont SARL", "1 rue de la Paix", "75002", "Paris", country="FR", vat_id="FR40303265045")
    ctx = TaxContext(customer_business=True, customer_country="FR", customer_vat_id="FR40303265045")
    doc = _document([_part("Bremsen prüfen <vorne> & hinten", "1", "Std.", "120")], ctx, buyer=buyer)
    assert doc.reverse_charge and doc.notes  # the engine's own note is on the document as well
    text = _text(render_invoice_pdf(doc))
    flat = " ".join(text.split())
    assert flat.count("Steuerschuldnerschaft des Leistungsempfängers") == 1
    assert "USt-IdNr. des Leistenden: DE123456789" in flat
    assert "USt-IdNr. des Leistungsempfängers: FR40303265045" in flat
    assert "FRANKREICH" in text and "Gesamtbetrag\n 120,00 €" in text and "USt auf" not in text
    assert "Bremsen prüfen <vorne> & hinten" in text  # user text is escaped, not parsed as markup


def test_kleinunternehmer_shows_the_exemption_and_no_vat() -> None:
    doc = _document([_part("Reifenwechsel", "4", "Stk.", "15")], TaxContext(kleinunternehmer=True))
    text = _text(render_invoice_pdf(doc))
    assert " ".join(text.split()).count("§ 19 UStG") == 1 and "Gesamtbetrag\n 60,00 €" in text
    assert "USt auf" not in text and "%" not in text


def test_customer_number_and_placeholder_reference() -> None:
    doc = _invoice(customer_number="", buyer_reference="K-2002", order_number="A-2026-0042")
    text = _text(render_invoice_pdf(doc))
    assert "Kundennummer\nK-2002" in text and "Auftrag\nA-2026-0042" in text and "Ihre Referenz" not in text
    text = _text(render_invoice_pdf(_invoice(buyer_reference="n/a")))
    assert "Kundennummer\nK-1001" in text and "n/a" not in text
    text = _text(render_invoice_pdf(_invoice(buyer_reference="Leitweg 991-12345-67")))
    assert "Ihre Referenz\nLeitweg 991-12345-67" in text


def test_logo_with_alpha_is_flattened_to_rgb(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 80), (200, 30, 30, 128)).save(logo)
    pdf = render_invoice_pdf(_invoice(), style=PdfStyle(accent="#8B0000", logo_path=logo))
    images = [x.get_object() for x in PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/XObject"].values()]
    assert [img["/ColorSpace"] for img in images] == ["/DeviceRGB"]
    assert "/SMask" not in images[0]


def test_bad_style_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        render_invoice_pdf(_invoice(), style=PdfStyle(accent="blau"))
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("kein Bild")
    with pytest.raises(ValidationError):
        render_invoice_pdf(_invoice(), style=PdfStyle(logo_path=not_an_image))


def _reminder(level: int, fee: str = "5.00") -> ReminderDocument:
    return ReminderDocument(
        level=ReminderLevel(level),
        issue_date=dt.date(2027, 1, 10),
        due_date=dt.date(2027, 1, 24),
        seller=SELLER,
        customer=BUYER,
        fee=Decimal(fee),
        iban=IBAN,
        customer_number="K-1001",
        items=(
            OpenInvoice(
                "W1-2026-000123", dt.date(2026, 11, 27), dt.date(2026, 12, 11), Decimal("1385.71"), Decimal("385.71")
            ),
            OpenInvoice("W1-2026-000150", dt.date(2026, 12, 3), dt.date(2026, 12, 17), Decimal("89.00")),
        ),
    )


def test_second_dunning_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = girocode_module.make_qr
    monkeypatch.setattr(girocode_module, "make_qr", lambda payload: drawn.append(payload) or original(payload))
    text = _text(render_reminder_pdf(_reminder(2)))
    for item in (
        "2. Mahnung",
        "Erika Mustermann",
        "W1-2026-000123",
        "27.11.2026",
        "1.385,71 €",
        "385,71 €",
        "1.000,00 €",
        "W1-2026-000150",
        "89,00 €",
        "Mahngebühr\n 5,00 €",
        "Gesamt offen\n 1.094,00 €",
        "bis spätestens 24.01.2027",
        "Seite 1 von 1",
        "Bequem bezahlen mit GiroCode",
    ):
        assert item in text, item
    assert drawn == [f"BCD\n002\n2\nSCT\n\n{SELLER.name}\n{IBAN}\nEUR1094.00\n\n\nW1-2026-000123, W1-2026-000150"]


@pytest.mark.parametrize(("level", "title"), [(0, "Zahlungserinnerung"), (1, "1. Mahnung")])
def test_reminder_levels_are_titled(level: int, title: str) -> None:
    text = _text(render_reminder_pdf(_reminder(level, fee="0")))
    assert title in text and "Mahngebühr" not in text and "Gesamt offen\n 1.089,00 €" in text


def test_reminder_refuses_unknown_level_and_empty_list() -> None:
    with pytest.raises(ValidationError):
        render_reminder_pdf(dataclasses.replace(_reminder(1), level=3))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        render_reminder_pdf(dataclasses.replace(_reminder(1), items=()))
