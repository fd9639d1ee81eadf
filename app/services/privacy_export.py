"""The Art. 15/20 export of one customer (GDPR-02): daten.json, one CSV per entity, LIESMICH.txt.

``daten.json`` has one top-level key per section (``kunde``, ``kontakte``, ``einwilligungen``,
``fahrzeuge`` with their ``kilometerstaende`` and ``historie``, ``termine``, ``aufbewahrung``, the
OBD ``diagnosen`` and ``aufzeichnungen`` – VIN-linked vehicle data is personal data, EuGH C-319/22);
later waves add ``rechnungen`` or ``auftraege`` as new keys and new ``COLUMNS`` entries
without changing the existing ones. Decimals are strings, dates ISO 8601. The CSV files are UTF-8
with BOM and ``;`` so that a German Excel opens them with a double click.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import retention
from app.models import Appointment, Bay, Customer, LegalHold, ObdRecording, ObdScan, Vehicle, Workshop
from app.services.diagnostics_types import decode_result, samples_text

EXPORT_FORMAT = "carbot-dsgvo-export"
EXPORT_VERSION = 1

# Cells Excel would run as a formula; phone numbers ("+49 …") and plain numbers stay as they are.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBERLIKE = re.compile(r"^[+-]?[\d\s/().,-]*$")

# One table per CSV file: (JSON field, German header). daten.json uses the same field names.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "kunde": (
        ("number", "Kundennummer"), ("kind", "Art"), ("salutation", "Anrede"),
        ("first_name", "Vorname"), ("last_name", "Nachname"), ("company", "Firma"),
        ("street", "Straße"), ("postcode", "PLZ"), ("city", "Ort"), ("country", "Land"),
        ("vat_id", "USt-IdNr."), ("email", "E-Mail"), ("phone", "Telefon"), ("mobile", "Mobil"),
        ("notes", "Notizen"), ("created_at", "Angelegt (UTC)"), ("updated_at", "Geändert (UTC)"),
        ("restricted_at", "Gesperrt seit (UTC)"),
    ),
    "kontakte": (("name", "Name"), ("role", "Funktion"), ("phone", "Telefon"), ("email", "E-Mail")),
    "einwilligungen": (
        ("channel", "Kanal"), ("purpose", "Zweck"), ("granted", "Erteilt"),
        ("text_version", "Textversion"), ("source", "Quelle"), ("recorded_by", "Erfasst von"),
        ("recorded_at", "Erfasst am (UTC)"),
    ),
    "fahrzeuge": (
        ("id", "Fahrzeug-Nr."), ("plate", "Kennzeichen"), ("vin", "FIN"), ("make", "Hersteller"),
        ("model", "Modell"), ("model_year", "Baujahr"), ("hsn", "HSN"), ("tsn", "TSN"),
        ("fuel", "Kraftstoff"), ("first_registration", "Erstzulassung"), ("hu_due", "HU/AU fällig"),
        ("business_use", "Gewerblich genutzt"), ("notes", "Notizen"), ("created_at", "Angelegt (UTC)"),
    ),
    "kilometerstaende": (
        ("vehicle_id", "Fahrzeug-Nr."), ("plate", "Kennzeichen"), ("date", "Datum"), ("km", "km"),
        ("source", "Quelle"),
    ),
    "fahrzeughistorie": (
        ("vehicle_id", "Fahrzeug-Nr."), ("plate", "Kennzeichen"), ("at", "Zeitpunkt (UTC)"),
        ("kind", "Art"), ("text", "Text"), ("user", "Benutzer"),
    ),
    "termine": (
        ("id", "Termin-Nr."), ("start", "Beginn"), ("end", "Ende"), ("vehicle_id", "Fahrzeug-Nr."),
        ("plate", "Kennzeichen"), ("title", "Anlass"), ("notes", "Notizen"), ("status", "Status"),
        ("source", "Quelle"), ("bay", "Bühne"), ("services", "Leistungen"),
    ),
    "diagnosen": (
        ("id", "Diagnose-Nr."), ("vehicle_id", "Fahrzeug-Nr."), ("plate", "Kennzeichen"),
        ("at", "Zeitpunkt (UTC)"), ("user", "Benutzer"), ("adapter", "Adapter"), ("protocol", "Protokoll"),
        ("vin", "FIN (gelesen)"), ("voltage", "Spannung (V)"), ("mil", "MIL an"),
        ("stored", "Gespeicherte Fehler"), ("pending", "Ausstehende Fehler"), ("permanent", "Permanente Fehler"),
        ("readiness", "Bereitschaftstests"), ("freeze_frame", "Freeze-Frame"),
    ),
    "aufzeichnungen": (
        ("id", "Aufzeichnungs-Nr."), ("vehicle_id", "Fahrzeug-Nr."), ("plate", "Kennzeichen"),
        ("started_at", "Beginn (UTC)"), ("seconds", "Dauer (s)"), ("sample_count", "Messpunkte"),
        ("columns", "Messwerte"), ("note", "Notiz"), ("user", "Benutzer"),
    ),
    "aufbewahrung": (
        ("category", "Kategorie"), ("label", "Bezeichnung"), ("entity", "Datensatz"),
        ("entity_id", "Datensatz-Nr."), ("reason", "Grund"), ("until", "Aufbewahren bis"),
    ),
}  # fmt: skip


def json_value(value: Any) -> Any:
    """A JSON-ready value: Decimal → str, date/datetime → ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    return value


def record(obj: object, fields: Sequence[str], **extra: Any) -> dict[str, Any]:
    """The JSON-ready ``fields`` of an ORM row (those it has), plus computed ``extra`` values."""
    values = {name: json_value(getattr(obj, name)) for name in fields if hasattr(obj, name)}
    return values | {key: json_value(value) for key, value in extra.items()}


def _fields(table: str) -> list[str]:
    return [key for key, _header in COLUMNS[table]]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    cell = str(value)
    if cell.startswith(_FORMULA_START) and not _NUMBERLIKE.match(cell):
        return "'" + cell
    return cell


def _csv_bytes(table: str, records: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([header for _key, header in COLUMNS[table]])
    for row in records:
        writer.writerow([_csv_cell(row.get(key)) for key in _fields(table)])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def _diagnostics(s: Session, plates: dict[int, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The vehicles' OBD scans and live-data recordings (these with their samples as CSV text)."""
    scans = []
    for scan in s.scalars(select(ObdScan).where(ObdScan.vehicle_id.in_(plates)).order_by(ObdScan.at, ObdScan.id)):
        dtcs, readiness, frame = decode_result(scan.result_json)
        scans.append(record(
            scan, _fields("diagnosen"), plate=plates[scan.vehicle_id or 0], **{k: list(v) for k, v in dtcs.items()},
            readiness=[f"{name}: {'abgeschlossen' if done else 'offen'}" if available else f"{name}: nicht unterstützt"
                       for name, available, done in readiness],
            freeze_frame=[f"{pid} = {value} {unit}".rstrip() for pid, value, unit in frame],
        ))  # fmt: skip
    query = select(ObdRecording).where(ObdRecording.vehicle_id.in_(plates))
    recordings = [
        record(r, _fields("aufzeichnungen"), plate=plates[r.vehicle_id or 0], csv=samples_text(r.samples),
               columns=[f"{c['pid']} ({c['unit']})" if c["unit"] else c["pid"] for c in json.loads(r.columns_json)])
        for r in s.scalars(query.order_by(ObdRecording.started_at, ObdRecording.id))
    ]  # fmt: skip
    return scans, recordings


def _collect(s: Session, customer: Customer) -> dict[str, Any]:
    """Everything linked to the person, as JSON-ready sections (later waves add new keys)."""
    vehicles = list(s.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id).order_by(Vehicle.id)))
    plates = {v.id: v.plate for v in vehicles}
    mileages = [
        record(m, _fields("kilometerstaende"), vehicle_id=v.id, plate=v.plate) for v in vehicles for m in v.mileages
    ]
    events = [
        record(e, _fields("fahrzeughistorie"), vehicle_id=v.id, plate=v.plate) for v in vehicles for e in v.events
    ]
    appointments = []
    query = select(Appointment).where(Appointment.customer_id == customer.id).order_by(Appointment.start)
    for a in s.scalars(query):
        bay = s.get(Bay, a.bay_id) if a.bay_id is not None else None
        appointments.append(record(
            a, _fields("termine"), plate=plates.get(a.vehicle_id or 0, ""), bay=bay.name if bay else "",
            services=[f"{svc.code} {svc.name}" for svc in a.services],
        ))  # fmt: skip
    holds = s.scalars(select(LegalHold).where(LegalHold.customer_id == customer.id).order_by(LegalHold.until))
    scans, recordings = _diagnostics(s, plates)
    return {
        "kunde": record(customer, _fields("kunde")),
        "kontakte": [record(c, _fields("kontakte")) for c in customer.contacts],
        "einwilligungen": [record(c, _fields("einwilligungen")) for c in customer.consents],
        "fahrzeuge": [
            record(
                v,
                _fields("fahrzeuge"),
                kilometerstaende=[m for m in mileages if m["vehicle_id"] == v.id],
                historie=[e for e in events if e["vehicle_id"] == v.id],
            )
            for v in vehicles
        ],
        "kilometerstaende": mileages,
        "fahrzeughistorie": events,
        "termine": appointments,
        "diagnosen": scans,
        "aufzeichnungen": recordings,
        "aufbewahrung": [record(h, _fields("aufbewahrung"), label=retention.rule(h.category).label) for h in holds],
    }


def _readme(customer: Customer, workshop: Workshop | None, created: dt.datetime) -> str:
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p) or customer.company
    lines = [
        "Auskunft und Datenkopie nach Art. 15 und Art. 20 DSGVO",
        "",
        f"Kunde: {customer.number} – {name}",
        f"Erstellt am: {created:%d.%m.%Y %H:%M} Uhr (UTC)",
    ]
    if workshop is not None and workshop.name:
        address = ", ".join(p for p in (workshop.street, f"{workshop.postcode} {workshop.city}".strip()) if p)
        lines.append(f"Verantwortlicher: {workshop.name}" + (f", {address}" if address else ""))
    lines += [
        "",
        "Dieses Archiv enthält alle Daten, die wir zu Ihrer Person gespeichert haben:",
        "- daten.json: alle Daten strukturiert und maschinenlesbar (JSON, UTF-8), geeignet zur",
        "  Übermittlung an einen anderen Anbieter (Datenübertragbarkeit, Art. 20 DSGVO).",
        "- kunde.csv: Stammdaten (Name, Anschrift, Kontaktdaten, Notizen).",
        "- kontakte.csv: weitere Ansprechpartner.",
        "- einwilligungen.csv: Einwilligungen und Widerrufe mit Kanal, Zweck, Textversion, Quelle und Zeitpunkt.",
        "- fahrzeuge.csv: Fahrzeuge (Kennzeichen, FIN, HSN/TSN, Erstzulassung, HU/AU-Termin).",
        "- kilometerstaende.csv: erfasste Kilometerstände je Fahrzeug.",
        "- fahrzeughistorie.csv: Werkstattbesuche, HU/AU und Notizen je Fahrzeug.",
        "- termine.csv: vereinbarte Termine.",
        "- diagnosen.csv: Fahrzeugdiagnosen (OBD) mit Fehlercodes, Bereitschaftstests und Freeze-Frame.",
        "- aufzeichnungen.csv: Messwert-Aufzeichnungen (OBD); die Messwerte selbst stehen in daten.json.",
        "- aufbewahrung.csv: Daten, die wir wegen gesetzlicher Aufbewahrungspflichten (z. B. § 147 AO)",
        "  noch nicht löschen dürfen, mit dem Ende der Frist.",
        "",
        "Die CSV-Dateien sind UTF-8-codiert, durch Semikolon getrennt und lassen sich mit Excel oder",
        "LibreOffice öffnen. Datumsangaben stehen im Format JJJJ-MM-TT; Zeitstempel (Angelegt, Geändert,",
        "Einwilligungen, Fahrzeughistorie, Diagnosen) in UTC, Termine in der Ortszeit der Werkstatt.",
    ]
    if customer.restricted_at is not None:
        lines += [
            "",
            f"Hinweis: Ihre Daten sind seit dem {customer.restricted_at:%d.%m.%Y} gesperrt (Art. 18 DSGVO).",
            "Sie werden nur noch zur Erfüllung gesetzlicher Aufbewahrungspflichten gespeichert und nach",
            "Ablauf der Frist automatisch gelöscht.",
        ]
    lines += [
        "",
        "Sie haben das Recht auf Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung der",
        "Verarbeitung (Art. 18) und Widerspruch (Art. 21 DSGVO) sowie das Recht auf Beschwerde bei",
        "einer Datenschutz-Aufsichtsbehörde (Art. 77 DSGVO).",
    ]
    return "\r\n".join(lines) + "\r\n"


def build_zip(s: Session, customer: Customer, *, user: str, created: dt.datetime) -> tuple[bytes, dict[str, int]]:
    """The export ZIP in memory and the number of records per section."""
    sections = _collect(s, customer)
    nested = ("kilometerstaende", "fahrzeughistorie")  # daten.json has them inside each vehicle
    data = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "created_at": created.isoformat(),
        "created_by": user.strip(),
    } | {key: value for key, value in sections.items() if key not in nested}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LIESMICH.txt", _readme(customer, s.get(Workshop, 1), created).encode("utf-8-sig"))
        archive.writestr("daten.json", json.dumps(data, ensure_ascii=False, indent=2))
        for table in COLUMNS:
            records = sections[table]
            archive.writestr(f"{table}.csv", _csv_bytes(table, [records] if table == "kunde" else records))
    return buffer.getvalue(), {key: len(value) for key, value in sections.items() if isinstance(value, list)}
