"""GiroCode (EPC QR code, EPC069-12 version 002) for the amount due, drawn as vector rectangles.

The payload is built here as a plain string so it can be tested line by line; the symbol is encoded
from exactly that string with segno (error level M, no error boosting, version ≤ 13 — the same settings
as ``segno.helpers.make_epc_qr``). Nothing is paid by scanning: the code only pre-fills a transfer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import segno
from reportlab.lib.colors import Color, black, white
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from app.errors import ValidationError
from app.money import round_money
from app.pdf.fonts import BOLD, REGULAR

MAX_AMOUNT = Decimal("999999999.99")
CAPTION = ("Bequem bezahlen mit GiroCode", "Zahlen mit Code")
_QUIET_ZONE = 4  # modules of white border the QR standard asks for


def valid_iban(iban: str) -> IBAN:
    """The IBAN as a schwifty object, or ValidationError if its checksum or format is wrong."""
    try:
        return IBAN(iban)
    except SchwiftyException as exc:
        raise ValidationError("Die IBAN „{iban}“ ist ungültig.", field="iban", iban=iban) from exc


def girocode_payload(*, name: str, iban: str, amount: Decimal, text: str) -> str | None:
    """The EPC QR payload for a credit transfer of ``amount`` to ``iban``, or None when no code belongs
    on the document (no IBAN, or nothing to pay — INV-13).

    Lines: BCD, 002, charset (2 = ISO 8859-1 when the text fits, else 1 = UTF-8), SCT, BIC (empty: optional
    in the EEA for version 002), name (≤ 70), IBAN, ``EUR123.45``, purpose (empty), structured reference
    (empty), unstructured text (≤ 140, the invoice number).
    """
    amount = round_money(amount)
    if not iban.strip() or amount <= 0:
        return None
    if amount > MAX_AMOUNT:
        raise ValidationError("Der Betrag ist für einen GiroCode zu hoch.", field="amount")
    lines = ["BCD", "002", "", "SCT", "", name.strip()[:70], valid_iban(iban).compact, f"EUR{amount:.2f}"]
    lines += ["", "", text.strip()[:140]]
    try:
        "\n".join(lines).encode("iso-8859-1")
        lines[2] = "2"
    except UnicodeEncodeError:
        lines[2] = "1"
    return "\n".join(lines)


def payload_bytes(payload: str) -> bytes:
    """The payload encoded in the character set its third line announces."""
    return payload.encode("iso-8859-1" if payload.split("\n")[2] == "2" else "utf-8")


def make_qr(payload: str) -> Any:
    """The segno QR code for an EPC payload (error level M, never boosted, at most version 13)."""
    qr = segno.make_qr(payload_bytes(payload), error="m", boost_error=False)
    if int(qr.version) > 13:
        raise ValidationError("Die Daten für den GiroCode sind zu lang.", field="text")
    return qr


class GiroCodeFlowable(Flowable):  # type: ignore[misc]  # ReportLab ships no type hints
    """The QR symbol (vector rectangles, so no image colour-space issues) with its caption below."""

    def __init__(self, payload: str, size: float, colour: Color = black) -> None:
        super().__init__()
        self.qr = make_qr(payload)
        self.size = size
        self.colour = colour
        self.caption_height = 20.0
        # The caption is wider than a small code; the flowable is as wide as the wider of the two.
        self.width = max(size, stringWidth(CAPTION[0], BOLD, 7) + 2)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:  # noqa: ARG002
        """Fixed size: the square plus the caption."""
        return self.width, self.size + self.caption_height

    def draw(self) -> None:
        """Draw row runs of dark modules as filled rectangles, then the caption."""
        canvas = self.canv
        matrix = self.qr.matrix
        modules = len(matrix) + 2 * _QUIET_ZONE
        unit = self.size / modules
        top = self.caption_height + self.size
        left = (self.width - self.size) / 2
        canvas.saveState()
        canvas.translate(left, 0)
        canvas.setFillColor(white)
        canvas.rect(0, self.caption_height, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(self.colour)
        path = canvas.beginPath()
        for row_no, row in enumerate(matrix):
            y = top - (row_no + _QUIET_ZONE + 1) * unit
            col = 0
            while col < len(row):
                if not row[col]:
                    col += 1
                    continue
                start = col
                while col < len(row) and row[col]:
                    col += 1
                path.rect((start + _QUIET_ZONE) * unit, y, (col - start) * unit, unit)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.setFillColor(black)
        canvas.setFont(BOLD, 7)
        canvas.drawCentredString(self.size / 2, 11, CAPTION[0])
        canvas.setFont(REGULAR, 6.5)
        canvas.drawCentredString(self.size / 2, 3, CAPTION[1])
        canvas.restoreState()
