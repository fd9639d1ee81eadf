"""ZUGFeRD/Factur-X PDF/A-3: embed the CII XML into the visual invoice PDF, reproducibly.

Recipe of einvoice.md §8: ``facturx.generate_from_file`` on temporary files (never ``generate_from_binary``,
which concatenates two PDFs, akretion/factur-x#24), then a pypdf post-pass that adds the sRGB OutputIntent
(v2 profile from resources/icc), makes the Info dictionary match the XMP (Producer, no Keywords/Trapped),
and writes a %PDF-1.7 header.

A reprint must give the same bytes (GoBD, INV-07), but factur-x stamps "now" into Info, XMP and the
attachment's /Params. The post-pass pins all of them to the invoice date (BT-2) and derives the trailer
/ID from a hash of the inputs. The input PDF must already embed every font (ReportLab: TTF fonts and
``initialFontName``) and carry no encryption, JavaScript or transparency.

PDF/A conformance cannot be proven in Python; ``preflight`` is the preflight-lite of einvoice.md §4,
veraPDF belongs in CI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import facturx
from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from app.einvoice.cii import NS_RAM, NS_RSM, NS_UDT
from app.errors import ValidationError
from app.i18n import _

XML_FILENAME = "factur-x.xml"
PDF_HEADER = "%PDF-1.7"
ICC_CONDITION = "sRGB IEC61966-2.1"
PRODUCER = "pypdf"  # what factur-x writes into the XMP (pdf:Producer); Info must say the same
_XMP_DATE_TAGS = ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate")


def icc_profile() -> bytes:
    """The shipped sRGB ICC v2 profile (icc-profiles-free, zlib licence)."""
    return (resources.files("resources") / "icc" / "sRGB.icc").read_bytes()


def _invoice_facts(xml: bytes) -> tuple[str, dt.date]:
    """BT-1 and BT-2 from the CII XML: the number for the subject, the date the timestamps are pinned to."""
    root = etree.fromstring(xml)
    header = root.find(f"{{{NS_RSM}}}ExchangedDocument")
    if header is None:
        raise ValidationError("Die E-Rechnung enthält keinen Rechnungskopf (ExchangedDocument).", field="xml")
    number = header.findtext(f"{{{NS_RAM}}}ID") or ""
    raw = header.findtext(f"{{{NS_RAM}}}IssueDateTime/{{{NS_UDT}}}DateTimeString") or ""
    try:
        issued = dt.datetime.strptime(raw.strip(), "%Y%m%d").date()
    except ValueError as exc:
        raise ValidationError(
            "Das Rechnungsdatum in der E-Rechnung ist ungültig: „{value}“.", field="xml", value=raw
        ) from exc
    return number, issued


def _output_intent(writer: PdfWriter) -> None:
    profile = StreamObject()
    profile.set_data(icc_profile())
    profile[NameObject("/N")] = NumberObject(3)
    encoded = profile.flate_encode()
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(ICC_CONDITION),
            NameObject("/Info"): TextStringObject(ICC_CONDITION),
            NameObject("/DestOutputProfile"): writer._add_object(encoded),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])


def _pin_xmp(writer: PdfWriter, stamp: str) -> None:
    metadata: Any = writer.root_object["/Metadata"].get_object()
    text = metadata.get_data().decode("utf-8")
    for tag in _XMP_DATE_TAGS:
        text = re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{stamp}</{tag}>", text)
    metadata.set_data(text.encode("utf-8"))


def _pin_attachment_dates(writer: PdfWriter, pdf_date: str) -> None:
    for spec_ref in writer.root_object.get("/AF", ArrayObject()):
        spec: Any = spec_ref.get_object()
        embedded = spec["/EF"]["/F"].get_object()
        params = embedded.get("/Params")
        if params is not None:
            params.get_object()[NameObject("/ModDate")] = TextStringObject(pdf_date)


def _post_pass(path: Path, *, issued: dt.date, file_id: bytes) -> bytes:
    writer = PdfWriter(clone_from=str(path))
    _output_intent(writer)
    pdf_date = issued.strftime("D:%Y%m%d000000+00'00'")
    _pin_xmp(writer, issued.strftime("%Y-%m-%dT00:00:00+00:00"))
    _pin_attachment_dates(writer, pdf_date)
    info: dict[str, Any] = dict(writer.metadata or {})
    for key in ("/Keywords", "/Trapped"):  # not in factur-x's XMP: veraPDF reports Info/XMP mismatch
        info.pop(key, None)
    info.update({"/Producer": PRODUCER, "/CreationDate": pdf_date, "/ModDate": pdf_date})
    writer.metadata = info
    # pypdf has no public setter for the trailer /ID; a content hash makes reprints byte-identical.
    writer._ID = ArrayObject([ByteStringObject(file_id), ByteStringObject(file_id)])
    writer.pdf_header = PDF_HEADER
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_facturx_pdf(visual_pdf: bytes, xml: bytes, *, title: str, author: str, lang: str = "de-DE") -> bytes:
    """The visual PDF with ``xml`` embedded as factur-x.xml (Factur-X EN 16931, PDF/A-3B metadata).

    Same inputs give the same bytes. The XML is XSD-checked by factur-x on the way; run
    ``app.einvoice.validate.ensure_valid`` before, the schematron is not run here.
    """
    number, issued = _invoice_facts(xml)
    digest = hashlib.sha256()
    for part in (visual_pdf, xml, title.encode(), author.encode(), lang.encode()):
        digest.update(hashlib.sha256(part).digest())
    metadata = {"author": author, "title": title, "subject": f"E-Rechnung {number}", "keywords": ""}
    with tempfile.TemporaryDirectory(prefix="carbot-facturx-") as tmp:
        source, target = Path(tmp) / "visual.pdf", Path(tmp) / "facturx.pdf"
        source.write_bytes(visual_pdf)
        try:
            # AFRelationship Alternative: ZUGFeRD 2.x asks for it with EN 16931 (the XML is the invoice too).
            facturx.generate_from_file(
                str(source),
                xml,
                flavor="factur-x",
                level="en16931",
                check_xsd=True,
                pdf_metadata=metadata,
                lang=lang,
                output_pdf_file=str(target),
                afrelationship="alternative",
            )
        except Exception as exc:  # noqa: BLE001 - factur-x raises bare Exception for XSD and PDF problems
            raise ValidationError(
                "Die E-Rechnung konnte nicht in das PDF eingebettet werden: {error}",
                field="xml",
                error=str(exc),
            ) from exc
        return _post_pass(target, issued=issued, file_id=digest.digest()[:16])


def extract_xml(pdf: bytes) -> bytes:
    """The embedded factur-x.xml (or other CII attachment) of a ZUGFeRD/Factur-X PDF, unchanged."""
    try:
        _name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:  # noqa: BLE001 - pypdf/factur-x errors on damaged files
        raise ValidationError("Das PDF kann nicht gelesen werden: {error}", field="pdf", error=str(exc)) from exc
    if not xml:
        raise ValidationError("Das PDF enthält keine E-Rechnung (factur-x.xml).", field="pdf")
    return bytes(xml)


_XMP_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
}
_ZONE = re.compile(r"(Z|[+-]\d{2}'?:?\d{2}'?)$")
# Info key → XPath of the XMP property that must hold the same value (PDF/A-3 clause 6.6.3).
_INFO_XMP = {
    "/Title": "dc:title/rdf:Alt/rdf:li",
    "/Author": "dc:creator/rdf:Seq/rdf:li",
    "/Subject": "dc:description/rdf:Alt/rdf:li",
    "/Keywords": "pdf:Keywords",
    "/Producer": "pdf:Producer",
    "/Creator": "xmp:CreatorTool",
    "/CreationDate": "xmp:CreateDate",
    "/ModDate": "xmp:ModifyDate",
}


def _xmp_value(xmp: Any, path: str) -> str | None:
    """The first value of an XMP property, written as element or as attribute of rdf:Description."""
    for description in xmp.iter(f"{{{_XMP_NS['rdf']}}}Description"):
        found = description.find(path, _XMP_NS)
        if found is not None:
            return str(found.text or "").strip()
        prefix, local = path.split("/", maxsplit=1)[0].split(":")
        attr = description.get(f"{{{_XMP_NS[prefix]}}}{local}")
        if attr is not None and "/" not in path:
            return str(attr).strip()
    return None


def _normal_date(value: str) -> str:
    """PDF date (D:20250314000000+00'00') and XMP date (2025-03-14T00:00:00+00:00) as one comparable form."""
    text = value.strip().removeprefix("D:")
    zone = _ZONE.search(text)
    body = text[: zone.start()] if zone else text
    offset = "+0000" if zone is None or zone.group(0) == "Z" else zone.group(0)[0] + re.sub(r"\D", "", zone.group(0))
    return re.sub(r"\D", "", body).ljust(14, "0") + offset


def _fonts_without_file(resources_obj: Any, seen: set[int]) -> list[str]:
    missing: list[str] = []
    if resources_obj is None:
        return missing
    resources_dict = resources_obj.get_object()
    for font_ref in (resources_dict.get("/Font") or {}).values():
        font = font_ref.get_object()
        if font.get("/Subtype") == "/Type3":
            continue
        target = font["/DescendantFonts"][0].get_object() if font.get("/Subtype") == "/Type0" else font
        descriptor = target.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.append(str(font.get("/BaseFont", "?")).lstrip("/"))
    for xobject_ref in (resources_dict.get("/XObject") or {}).values():
        xobject = xobject_ref.get_object()
        key = id(xobject)
        if xobject.get("/Subtype") == "/Form" and key not in seen:
            seen.add(key)
            missing += _fonts_without_file(xobject.get("/Resources"), seen)
    return missing


def _check_output_intent(root: Any) -> list[str]:
    intents = [i.get_object() for i in root.get("/OutputIntents", [])]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        return [_("Das PDF hat keine (oder mehrere) PDF/A-OutputIntents mit ICC-Profil.")]
    profile = pdfa[0].get("/DestOutputProfile")
    if profile is None or profile.get_object().get("/N") != 3:
        return [_("Das ICC-Profil des OutputIntents fehlt oder ist kein RGB-Profil (N=3).")]
    data = profile.get_object().get_data()
    if len(data) < 128 or data[36:40] != b"acsp" or data[8] not in (2, 4):
        return [_("Das ICC-Profil des OutputIntents ist beschädigt oder hat eine unbekannte Version.")]
    return []


def _check_xmp(reader: PdfReader) -> list[str]:
    root: Any = reader.trailer["/Root"].get_object()
    metadata = root.get("/Metadata")
    if metadata is None:
        return [_("Das PDF hat keine XMP-Metadaten.")]
    try:
        xmp = etree.fromstring(metadata.get_object().get_data())
    except etree.XMLSyntaxError:
        return [_("Die XMP-Metadaten des PDFs sind kein gültiges XML.")]
    problems: list[str] = []
    if _xmp_value(xmp, "pdfaid:part") != "3" or (_xmp_value(xmp, "pdfaid:conformance") or "").upper() != "B":
        problems.append(_("Die XMP-Metadaten kennzeichnen das PDF nicht als PDF/A-3B."))
    if _xmp_value(xmp, "fx:DocumentType") != "INVOICE" or _xmp_value(xmp, "fx:DocumentFileName") != XML_FILENAME:
        problems.append(_("Die Factur-X-Angaben in den XMP-Metadaten fehlen oder sind falsch."))
    if not _xmp_value(xmp, "fx:ConformanceLevel"):
        problems.append(_("Das Factur-X-Profil (ConformanceLevel) fehlt in den XMP-Metadaten."))
    info = reader.trailer.get("/Info")
    info_dict = info.get_object() if info is not None else {}
    for key, path in _INFO_XMP.items():
        if key not in info_dict:
            continue
        value, xmp_value = str(info_dict[key]), _xmp_value(xmp, path)
        if key.endswith("Date") and xmp_value is not None:
            value, xmp_value = _normal_date(value), _normal_date(xmp_value)
        if xmp_value is None or value.strip() != xmp_value:
            problems.append(
                _("Info-Eintrag {key} stimmt nicht mit den XMP-Metadaten überein.").format(key=key.lstrip("/"))
            )
    return problems


def _check_attachment(root: Any) -> list[str]:
    specs = [s.get_object() for s in root.get("/AF", [])]
    xml_specs = [s for s in specs if str(s.get("/UF", s.get("/F", ""))) == XML_FILENAME]
    if not xml_specs:
        return [_("Das PDF verknüpft keine factur-x.xml als zugehörige Datei (/AF).")]
    spec = xml_specs[0]
    problems: list[str] = []
    if "/AFRelationship" not in spec:
        problems.append(_("Der Anhang factur-x.xml hat keine AFRelationship."))
    if spec["/EF"]["/F"].get_object().get("/Subtype") != "/text/xml":
        problems.append(_("Der Anhang factur-x.xml hat nicht den MIME-Typ text/xml."))
    return problems


def preflight(pdf: bytes) -> list[str]:
    """Preflight-lite (einvoice.md §4): the PDF/A-3 and Factur-X points checkable without veraPDF.

    Returns German problem descriptions; empty = nothing found (not a PDF/A verdict).
    """
    if not pdf.startswith(b"%PDF-1."):
        return [_("Die Datei beginnt nicht mit einem PDF-Kopf (%PDF-1.x).")]
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            return [_("Das PDF ist verschlüsselt; PDF/A verbietet Verschlüsselung.")]
        root: Any = reader.trailer["/Root"].get_object()
        problems: list[str] = []
        if "/ID" not in reader.trailer:
            problems.append(_("Dem PDF fehlt die Dateikennung (/ID)."))
        if "/JavaScript" in (root.get("/Names") or {}) or "/JS" in str(root.get("/OpenAction", "")):
            problems.append(_("Das PDF enthält JavaScript."))
        problems += _check_output_intent(root)
        seen: set[int] = set()
        missing = sorted({name for page in reader.pages for name in _fonts_without_file(page.get("/Resources"), seen)})
        if missing:
            problems.append(_("Nicht eingebettete Schriften: {fonts}.").format(fonts=", ".join(missing)))
        problems += _check_xmp(reader)
        problems += _check_attachment(root)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a preflight finding, not a crash
        return [_("Das PDF kann nicht geprüft werden: {error}").format(error=exc)]
    try:
        etree.fromstring(extract_xml(pdf))
    except (ValidationError, etree.XMLSyntaxError):
        problems.append(_("Die eingebettete E-Rechnung kann nicht gelesen werden."))
    return problems
