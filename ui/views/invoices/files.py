"""Printing and saving documents: the save dialog and the print dialog open with ``open()`` (no nested
event loop), PDF pages are rendered with Qt's PDF module when it is installed (PySide6.QtPdf), and a
PDF can be handed to the system's PDF viewer.

Tests replace ``ask_save_path`` and ``ask_printer`` so nothing modal ever blocks.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPainter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QWidget

from app.i18n import _

log = logging.getLogger(__name__)
PAGE_WIDTH_PX = 900  # rendered page width in the preview (A4 at about 110 dpi)


def pdf_module_available() -> bool:
    """Whether Qt's PDF module can render pages here (not every PySide6 build ships it)."""
    try:
        from PySide6.QtPdf import QPdfDocument  # noqa: F401
    except ImportError:
        return False
    return True


def render_pages(pdf: bytes, width: int = PAGE_WIDTH_PX) -> list[QImage] | None:
    """The PDF's pages as images (GUI thread); None without Qt's PDF module or for an unreadable PDF."""
    try:
        from PySide6.QtPdf import QPdfDocument
    except ImportError:
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready:
        log.warning("QtPdf could not read the document: %s", document.error())
        return None
    pages = []
    for page in range(document.pageCount()):
        size = document.pagePointSize(page)
        height = int(width * size.height() / max(size.width(), 1))
        pages.append(document.render(page, QSize(width, height)))
    document.close()
    return pages


def ask_save_path(parent: QWidget, title: str, suggested_name: str, on_chosen: Callable[[str], None]) -> QFileDialog:
    """A save dialog for a PDF, opened window-modal; ``on_chosen(path)`` runs when the user saves."""
    start = Path.home() / "Documents"
    dialog = QFileDialog(parent, title, str((start if start.is_dir() else Path.home()) / suggested_name))
    dialog.setNameFilter(_("PDF-Dokumente (*.pdf)"))
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix("pdf")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.fileSelected.connect(on_chosen)
    dialog.open()
    return dialog


def ask_printer(parent: QWidget, on_chosen: Callable[[QPrinter], None]) -> QPrintDialog:
    """The print dialog, opened window-modal; ``on_chosen(printer)`` runs when the user prints."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(_("Drucken"))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(lambda: on_chosen(printer))
    dialog.open()
    return dialog


def print_pages(printer: QPrinter, pages: list[QImage]) -> None:
    """Print rendered PDF pages, each scaled to the printable area."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(_("Der Drucker konnte nicht geöffnet werden."))
    try:
        for index, image in enumerate(pages):
            if index:
                printer.newPage()
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRect(area.x(), area.y(), size.width(), size.height()), image)
    finally:
        painter.end()


def print_html(printer: QPrinter, html: str) -> None:
    """Print the HTML summary (when Qt's PDF module is not installed)."""
    document = QTextDocument()
    document.setHtml(html)
    document.print_(printer)


def open_externally(pdf: bytes, file_name: str) -> bool:
    """Write the PDF to a temporary file and open it in the system's PDF viewer."""
    folder = Path(tempfile.mkdtemp(prefix="carbot-"))
    path = folder / file_name
    path.write_bytes(pdf)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
