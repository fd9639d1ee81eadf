"""The DIN 5008 letter frame shared by invoices and reminders (Form B, A4).

First page: letterhead (0–45 mm), the window-envelope address field at 20 mm from the left and 45 mm
from the top (return line in the last line of the 17.7 mm note zone, address in the 27.3 mm zone below),
the information block at 125 mm, fold marks at 105/210 mm and the hole mark at 148.5 mm. Every page: a
footer with the seller's address, contact, tax ids and bank, and "Seite X von Y". Later pages carry a
small running header instead of the letterhead.

The PDF is reproducible (``invariant=1``: fixed dates and /ID) so a reprint gives the same bytes
(INV-07), uses only the embedded DejaVu fonts (``initialFontName``, otherwise every page would reference
an unembedded Helvetica) and RGB colours only.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.lib.colors import Color, HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle

from app.errors import ValidationError
from app.invoice_document import Party
from app.pdf import text
from app.pdf.fonts import BOLD, REGULAR, register_fonts
from app.pdf.girocode import GiroCodeFlowable, valid_iban

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 25 * mm
RIGHT = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - LEFT - RIGHT
GREY = HexColor("#5A5A5A")
LIGHT = HexColor("#BDBDBD")
DEFAULT_ACCENT = "#1F4E79"
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_FOOTER_TOP = 27 * mm
_FIRST_FRAME_TOP = 97 * mm  # DIN 5008 Form B: the subject line starts at 98.46 mm
_LATER_FRAME_TOP = 24 * mm
_FRAME_BOTTOM = 34 * mm
_INFO_TOP = 52 * mm
_LOGO_W, _LOGO_H = 50 * mm, 22 * mm
_INFO_LEADING = 4.2 * mm


@dataclass(frozen=True)
class PdfStyle:
    """The workshop's look: an accent colour ("#RRGGBB") for the name and headings, and an optional
    logo drawn top right. PNG or JPEG; transparency is flattened onto white and CMYK/greyscale images
    are converted to RGB with Pillow, because the PDF allows RGB colours only."""

    accent: str = DEFAULT_ACCENT
    logo_path: Path | None = None

    def accent_colour(self) -> Color:
        """The accent as a ReportLab colour; ValidationError for anything but "#RRGGBB"."""
        value = self.accent.strip()
        if not _HEX_COLOUR.fullmatch(value):
            raise ValidationError("Die Akzentfarbe „{value}“ ist keine Farbe wie #1F4E79.", field="accent", value=value)
        return HexColor(value)


@dataclass(frozen=True)
class Letter:
    """What the page decoration of one document needs."""

    seller: Party
    recipient: Party | None
    info_rows: tuple[tuple[str, str], ...]
    running_title: str
    pdf_title: str
    iban: str = ""
    bic: str = ""
    bank_name: str = ""


def paragraph_style(name: str, *, size: float = 9, bold: bool = False, **kwargs: Any) -> ParagraphStyle:
    """A paragraph style on the DejaVu fonts (ReportLab's defaults would be Helvetica)."""
    return ParagraphStyle(
        name, fontName=BOLD if bold else REGULAR, fontSize=size, leading=kwargs.pop("leading", size * 1.3), **kwargs
    )


def table_style(commands: list[tuple[Any, ...]]) -> TableStyle:
    """A table style whose cells use DejaVu: a Table sets its cell font (Helvetica by default) even for
    cells holding only paragraphs, which would put an unembedded Helvetica into the PDF."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), *commands])


def formatted_iban(iban: str) -> str:
    """ "DE02120300000000202051" → "DE02 1203 0000 0000 2020 51"; an invalid IBAN is refused."""
    return str(valid_iban(iban).formatted)


def _logo_reader(path: Path) -> ImageReader:
    """The logo as an RGB image reader (alpha flattened onto white, at most 1000 px on the long side)."""
    try:
        with Image.open(path) as original:
            original.load()
            image = original.convert("RGBA")
    except (OSError, ValueError) as exc:
        raise ValidationError(
            "Das Logo „{path}“ ist kein lesbares PNG- oder JPEG-Bild.", field="logo", path=str(path)
        ) from exc
    image.thumbnail((1000, 1000))
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, mask=image.getchannel("A"))
    return ImageReader(flat)


def _fitting_size(canvas: Canvas, line: str, font: str, size: float, smallest: float, width: float) -> float:
    """The largest font size from ``size`` down to ``smallest`` (half-point steps) at which ``line`` fits."""
    while size > smallest and canvas.stringWidth(line, font, size) > width:
        size -= 0.5
    return size


class _Decorator:
    """Draws the letterhead, address, info block, running header and footer through page callbacks."""

    def __init__(self, letter: Letter, style: PdfStyle) -> None:
        self.letter = letter
        self.accent = style.accent_colour()
        self.logo = _logo_reader(style.logo_path) if style.logo_path else None
        self.footer = self._footer_table()

    def first_page(self, canvas: Canvas, _doc: Any) -> None:
        """Letterhead, return line, address field, info block and fold marks."""
        canvas.saveState()
        seller = self.letter.seller
        room = CONTENT_WIDTH
        if self.logo is not None:
            # The logo sits in a 50 × 22 mm box, right-aligned; the name keeps to the left of it.
            width, height = self.logo.getSize()
            logo_w = min(_LOGO_W, _LOGO_H * width / height)
            canvas.drawImage(
                self.logo, PAGE_WIDTH - RIGHT - logo_w, PAGE_HEIGHT - 31 * mm, logo_w, _LOGO_H, preserveAspectRatio=True
            )
            room -= logo_w + 5 * mm
        canvas.setFillColor(self.accent)
        canvas.setFont(BOLD, _fitting_size(canvas, seller.name, BOLD, 17, 11, room))
        canvas.drawString(LEFT, PAGE_HEIGHT - 21 * mm, seller.name)
        canvas.setFillColor(GREY)
        contact = " · ".join(self._contact_parts())
        canvas.setFont(REGULAR, _fitting_size(canvas, contact, REGULAR, 8.5, 6, room))
        canvas.drawString(LEFT, PAGE_HEIGHT - 27 * mm, contact)
        canvas.setStrokeColor(self.accent)
        canvas.setLineWidth(0.8)
        canvas.line(LEFT, PAGE_HEIGHT - 33 * mm, PAGE_WIDTH - RIGHT, PAGE_HEIGHT - 33 * mm)
        self._address(canvas)
        self._info_block(canvas)
        self._fold_marks(canvas)
        canvas.restoreState()
        self._draw_footer(canvas)

    def later_page(self, canvas: Canvas, _doc: Any) -> None:
        """A one-line running header (seller, document) and the footer."""
        canvas.saveState()
        y = PAGE_HEIGHT - 14 * mm
        canvas.setFont(BOLD, 8.5)
        canvas.setFillColor(self.accent)
        canvas.drawString(LEFT, y, self.letter.seller.name)
        canvas.setFont(REGULAR, 8.5)
        canvas.setFillColor(GREY)
        canvas.drawRightString(PAGE_WIDTH - RIGHT, y, self.letter.running_title)
        canvas.setStrokeColor(LIGHT)
        canvas.setLineWidth(0.5)
        canvas.line(LEFT, y - 2.5 * mm, PAGE_WIDTH - RIGHT, y - 2.5 * mm)
        canvas.restoreState()
        self._draw_footer(canvas)

    def _contact_parts(self) -> list[str]:
        seller = self.letter.seller
        parts = [seller.street, f"{seller.postcode} {seller.city}"]
        if seller.phone:
            parts.append(f"Tel. {seller.phone}")
        if seller.email:
            parts.append(seller.email)
        return [p for p in parts if p.strip()]

    def _address(self, canvas: Canvas) -> None:
        seller = self.letter.seller
        return_line = f"{seller.name} · {seller.street} · {seller.postcode} {seller.city}"
        canvas.setFont(REGULAR, 6.5)
        canvas.setFillColor(GREY)
        y = PAGE_HEIGHT - 60 * mm
        canvas.drawString(LEFT, y, return_line)
        canvas.setStrokeColor(GREY)
        canvas.setLineWidth(0.3)
        canvas.line(LEFT, y - 1.2 * mm, LEFT + canvas.stringWidth(return_line, REGULAR, 6.5), y - 1.2 * mm)
        recipient = self.letter.recipient
        if recipient is None:
            return
        lines = [recipient.name]
        if recipient.contact_name:
            lines.append(recipient.contact_name)
        lines += [recipient.street, f"{recipient.postcode} {recipient.city}".strip()]
        if recipient.country and recipient.country.upper() != "DE":
            lines.append(text.country_name(recipient.country))
        canvas.setFillColor(black)
        canvas.setFont(REGULAR, 10)
        y = PAGE_HEIGHT - 67.5 * mm
        for line in (entry for entry in lines if entry.strip()):
            canvas.drawString(LEFT, y, line)
            y -= 4.5 * mm

    def _info_block(self, canvas: Canvas) -> None:
        rows = [(label, value) for label, value in self.letter.info_rows if value]
        x_label = 125 * mm
        x_value = x_label + max((canvas.stringWidth(label, REGULAR, 8) for label, _ in rows), default=0) + 4 * mm
        y = PAGE_HEIGHT - _INFO_TOP
        canvas.setFont(REGULAR, 8)
        for label, value in rows:
            canvas.setFillColor(GREY)
            canvas.drawString(x_label, y, label)
            canvas.setFillColor(black)
            canvas.drawString(x_value, y, value)
            y -= _INFO_LEADING

    @staticmethod
    def _fold_marks(canvas: Canvas) -> None:
        canvas.setStrokeColor(LIGHT)
        canvas.setLineWidth(0.4)
        for from_top, length in ((105 * mm, 5 * mm), (148.5 * mm, 8 * mm), (210 * mm, 5 * mm)):
            canvas.line(4 * mm, PAGE_HEIGHT - from_top, 4 * mm + length, PAGE_HEIGHT - from_top)

    def _footer_table(self) -> Table:
        seller, letter = self.letter.seller, self.letter
        small = paragraph_style("footer", size=6.5, textColor=GREY, leading=8.2)
        strong = paragraph_style("footer-bold", size=6.5, bold=True, textColor=GREY, leading=8.2)

        def cell(*lines: str, first_bold: bool = False) -> list[Paragraph]:
            kept = [line for line in lines if line.strip()]
            return [
                Paragraph(text.xml(line), strong if first_bold and i == 0 else small) for i, line in enumerate(kept)
            ]

        tax = [
            f"Steuernummer {seller.tax_number}" if seller.tax_number else "",
            f"USt-IdNr. {seller.vat_id}" if seller.vat_id else "",
        ]
        bank = [
            letter.bank_name,
            f"IBAN {formatted_iban(letter.iban)}" if letter.iban else "",
            f"BIC {letter.bic}" if letter.bic else "",
        ]
        contact = [f"Tel. {seller.phone}" if seller.phone else "", seller.email]
        row = [
            cell(seller.name, seller.street, f"{seller.postcode} {seller.city}", first_bold=True),
            cell(*contact),
            cell(*tax),
            cell(*bank),
        ]
        table = Table([row], colWidths=[50 * mm, 36 * mm, 33 * mm, 46 * mm])
        table.setStyle(
            table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        table.wrap(CONTENT_WIDTH, _FOOTER_TOP)
        return table

    def _draw_footer(self, canvas: Canvas) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LIGHT)
        canvas.setLineWidth(0.5)
        canvas.line(LEFT, _FOOTER_TOP, PAGE_WIDTH - RIGHT, _FOOTER_TOP)
        _width, height = self.footer.wrap(CONTENT_WIDTH, _FOOTER_TOP)
        self.footer.drawOn(canvas, LEFT, _FOOTER_TOP - 2 * mm - height)
        canvas.restoreState()


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # ReportLab ships no type hints
    """Holds the pages back until the end so each can say "Seite X von Y"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        """Remember the finished page instead of writing it."""
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        """Write every page with its page number, then the file."""
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(REGULAR, 7.5)
            self.setFillColor(GREY)
            self.drawRightString(PAGE_WIDTH - RIGHT, _FOOTER_TOP + 2.5 * mm, f"Seite {number} von {total}")
            super().showPage()
        super().save()


def payment_block(content: list[Any], payload: str | None) -> list[Any]:
    """The payment request with the GiroCode to its right, or just the request when there is no code.

    Returns flowables for the caller's KeepTogether (a nested KeepTogether reports an endless height and
    would push the whole block onto a new page)."""
    if payload is None:
        return content
    code = GiroCodeFlowable(payload, size=28 * mm)
    block = Table([[content, code]], colWidths=[CONTENT_WIDTH - 48 * mm, 48 * mm])
    block.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [block]


def build_pdf(letter: Letter, story: list[Any], style: PdfStyle | None = None) -> bytes:
    """Lay ``story`` out in the letter frame and return the PDF bytes (same input → same bytes)."""
    register_fonts()
    decorator = _Decorator(letter, style or PdfStyle())
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=_LATER_FRAME_TOP,
        bottomMargin=_FRAME_BOTTOM,
        title=letter.pdf_title,
        author=letter.seller.name,
        subject=letter.pdf_title,
        creator="CarBot Werkstatt",
        invariant=1,
        initialFontName=REGULAR,
        enforceColorSpace="rgb",
        lang="de-DE",
    )
    # A long information block (every optional row filled) pushes the text down rather than overlap it.
    info_bottom = _INFO_TOP + len([row for row in letter.info_rows if row[1]]) * _INFO_LEADING + 2 * mm
    first_top = max(_FIRST_FRAME_TOP, info_bottom)
    first = Frame(
        LEFT,
        _FRAME_BOTTOM,
        CONTENT_WIDTH,
        PAGE_HEIGHT - first_top - _FRAME_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="first",
    )
    later = Frame(
        LEFT,
        _FRAME_BOTTOM,
        CONTENT_WIDTH,
        PAGE_HEIGHT - _LATER_FRAME_TOP - _FRAME_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="later",
    )
    doc.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=decorator.first_page, autoNextPageTemplate="later"),
            PageTemplate("later", [later], onPage=decorator.later_page),
        ]
    )
    doc.build(story, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
