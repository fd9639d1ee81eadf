"""The Kostenvoranschlag as PDF, built from a stored KVA: heading, lines, totals as the service computes
them, validity, binding wording with the workshop's threshold, fee, signature line, embedded fonts only,
reproducible bytes, page breaks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from app.catalog_csv import ServiceRow
from app.db import Database
from app.demo import setup_workshop
from app.errors import NotFound
from app.pdf.estimate import render_estimate_pdf
from app.services.customers import CustomerInput
from app.services.estimate_document import estimate_document, estimate_pdf
from app.services.order_lines import LineInput
from app.services.registry import Services
from app.services.vehicles import VehicleInput

TODAY = dt.date(2026, 4, 15)


@pytest.fixture
def services(db: Database) -> Services:
    """A workshop (118 €/h, 10 AW per hour) with a private customer, her Golf and a brake service."""
    services = Services.for_database(db, today=TODAY)
    setup_workshop(services)
    services.catalog.create(
        ServiceRow(code="BR-0001", category="Bremsen", name="Bremsbeläge vorne erneuern", aw=Decimal("8"))
    )
    return services


def customer_with_vehicle(services: Services, **customer: Any) -> tuple[int, int]:
    data = {"first_name": "Anna", "last_name": "Schneider", "street": "Hauptstraße 5", "postcode": "80331"}
    created, _ = services.customers.create(CustomerInput(**(data | {"city": "München"} | customer)))
    vehicle, _ = services.vehicles.create(
        VehicleInput(customer_id=created.id, plate="M-AB 123", make="VW", model="Golf VII", vin="WVWZZZ1KZAW000123"),
        mileage=84_000,
    )
    return created.id, vehicle.id


def make_estimate(services: Services, **terms: Any) -> int:
    """A KVA with a catalogue service (8 AW), a part and an exchange part."""
    customer_id, vehicle_id = customer_with_vehicle(services)
    estimates = services.estimates
    estimate_id = estimates.create(customer_id, vehicle_id, **terms).estimate.id
    estimates.add_service(estimate_id, services.catalog.get_by_code("BR-0001").id)
    estimates.add_line(
        estimate_id,
        LineInput(kind="part", text="Bremsbelagsatz vorne", part_no="0 986 494 123", unit_price_net="89,90"),
    )
    estimates.add_line(estimate_id, LineInput(kind="exchange_part", text="Bremssattel links", unit_price_net="145"))
    return estimate_id


def pdf_text(pdf: bytes) -> str:
    """The text of all pages, whitespace (line breaks, NBSP) collapsed to single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_the_kva_shows_heading_parties_lines_and_the_service_totals(services: Services) -> None:
    estimate_id = make_estimate(services)
    rendered = estimate_pdf(services.db, estimate_id)
    text = pdf_text(rendered.pdf)
    totals = services.estimates.totals(estimate_id)
    doc = rendered.document
    assert (doc.net_total, doc.tax_total, doc.gross_total) == (totals.net, totals.tax, totals.gross)
    assert "Kostenvoranschlag Nr. KVA-2026-0001" in text
    assert rendered.file_name == "Kostenvoranschlag_KVA-2026-0001.pdf"
    for expected in (
        "Anna Schneider",
        "Hauptstraße 5",
        "Kfz-Meisterbetrieb Huber GmbH",
        "M-AB 123",
        "VW Golf VII",
        "WVWZZZ1KZAW000123",
        "84.000 km",
        "Bremsbeläge vorne erneuern",
        "8 AW × 11,80 €",  # 118 € per hour ÷ 10 AW
        "Bremsbelagsatz vorne",
        "0 986 494 123",
        "Bremssattel links",
        "Altteilsteuer",
    ):
        assert expected in text, expected
    # 94,40 + 89,90 + 145,00 = 329,30 net, as the engine prices it for the later invoice.
    assert totals.net == Decimal("329.30") and doc.altteil_tax == totals.altteil_tax > 0
    assert "329,30 €" in text and f"{totals.gross:.2f} €".replace(".", ",") in text
    assert "Voraussichtlicher Gesamtbetrag" in text


def test_non_binding_wording_uses_the_workshops_threshold_and_validity(services: Services) -> None:
    services.settings.update(estimate_overrun_percent="20")
    estimate_id = make_estimate(services, valid_until=dt.date(2026, 5, 31))
    text = pdf_text(estimate_pdf(services.db, estimate_id).pdf)
    assert "Dieser Kostenvoranschlag ist unverbindlich und gültig bis 31.05.2026." in text
    assert "Abweichungen von bis zu 20 % sind möglich; bei größerer Überschreitung informieren wir Sie vorher." in text
    assert "Gültig bis 31.05.2026" in text  # the information block
    assert "verbindlich und" not in text.replace("unverbindlich und", "")


def test_binding_and_free_kva(services: Services) -> None:
    estimate_id = make_estimate(services, binding=True)
    text = pdf_text(estimate_pdf(services.db, estimate_id).pdf)
    assert "Dieser Kostenvoranschlag ist verbindlich und gültig bis 13.05.2026." in text  # four weeks
    assert "Gesamtbetrag (verbindlich)" in text and "Abweichungen" not in text
    assert "Die Erstellung dieses Kostenvoranschlags ist kostenlos." in text


def test_a_charged_kva_names_its_fee_and_that_it_is_credited(services: Services) -> None:
    estimate_id = make_estimate(services, charged=True, fee_net="30")
    text = pdf_text(estimate_pdf(services.db, estimate_id).pdf)
    assert (
        "Die Erstellung dieses Kostenvoranschlags wird mit 35,70 € (netto 30,00 €) berechnet und bei "
        "Auftragserteilung verrechnet." in text
    )
    assert "kostenlos" not in text


def test_signature_line_and_the_counters_remarks(services: Services) -> None:
    estimate_id = make_estimate(services, notes="Bremsscheiben bei Verschleiß mit tauschen.")
    text = pdf_text(estimate_pdf(services.db, estimate_id).pdf)
    assert "Auftrag erteilt:" in text and "Datum" in text and "Unterschrift des Auftraggebers" in text
    assert "Hinweise: Bremsscheiben bei Verschleiß mit tauschen." in text


def test_a_business_customer_in_another_eu_country_gets_the_reverse_charge_note(services: Services) -> None:
    customer, _ = services.customers.create(
        CustomerInput(
            kind="business", company="Transports Dupont SARL", street="1 Rue de la Paix", postcode="75002",
            city="Paris", country="FR", vat_id="FR40303265045",
        )
    )  # fmt: skip
    estimates = services.estimates
    estimate_id = estimates.create(customer.id).estimate.id
    estimates.add_line(estimate_id, LineInput(kind="part", text="Spiegelglas", unit_price_net="40"))
    doc = estimate_document(services.db, estimate_id)
    text = pdf_text(render_estimate_pdf(doc))
    assert doc.reverse_charge and doc.tax_total == 0
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "FR40303265045" in text
    assert text.count("Steuerschuldnerschaft des Leistungsempfängers") == 1
    assert "für Ihr Fahrzeug" not in text and "Für die gewünschten Leistungen" in text


def _fonts(obj: Any, seen: set[int]) -> list[DictionaryObject]:
    found = []
    resolved = obj.get_object()
    if id(resolved) in seen:
        return found
    seen.add(id(resolved))
    if isinstance(resolved, DictionaryObject):
        if resolved.get("/Type") == "/Font":
            found.append(resolved)
        for value in resolved.values():
            found += _fonts(value, seen)
    return found


def test_only_embedded_fonts_and_the_same_bytes_twice(services: Services) -> None:
    estimate_id = make_estimate(services, charged=True, fee_net="30")
    first = estimate_pdf(services.db, estimate_id).pdf
    assert first == estimate_pdf(services.db, estimate_id).pdf
    reader = PdfReader(io.BytesIO(first))
    fonts = [font for page in reader.pages for font in _fonts(page["/Resources"], set())]
    assert fonts
    for font in fonts:
        descendants = font.get("/DescendantFonts")
        target = descendants[0].get_object() if descendants else font
        assert "DejaVu" in str(font["/BaseFont"])
        assert "/FontFile2" in target["/FontDescriptor"].get_object()


def test_many_lines_carry_over_and_keep_the_signature_together(services: Services) -> None:
    estimate_id = make_estimate(services)
    doc = estimate_document(services.db, estimate_id)
    extra = tuple(dataclasses.replace(doc.lines[1], position=10 + i, text=f"Kleinteil {i}") for i in range(45))
    pdf = render_estimate_pdf(dataclasses.replace(doc, lines=doc.lines + extra))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2 and "Übertrag" in pages[0] and "Übertrag" in pages[1]
    assert "Seite 1 von" in pages[0]
    last = pages[-1]
    assert "Auftrag erteilt:" in last and "Unterschrift des Auftraggebers" in last


def test_a_short_kva_fits_on_one_page(services: Services) -> None:
    assert page_count(estimate_pdf(services.db, make_estimate(services, notes="Termin nach Absprache.")).pdf) == 1


def test_unknown_estimate_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        estimate_document(services.db, 999)
