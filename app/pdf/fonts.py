"""The shipped DejaVu fonts, registered with ReportLab once per process.

The PDFs never use ReportLab's built-in Helvetica: it is not embedded, so PDF/A and some printers would
substitute it. The TTF files live in ``resources/fonts`` (DejaVu licence in ``LICENSE.txt``) and are read
through ``importlib.resources``, which also works inside the PyInstaller bundle.
"""

from __future__ import annotations

import io
import threading
from importlib import resources

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) and the family mapping used by ``<b>`` in paragraphs.

    Safe to call from several threads (PDFs are rendered in a worker thread); the work happens once.
    """
    global _registered  # noqa: PLW0603 - process-wide registration is ReportLab's own model
    if _registered:
        return
    with _lock:
        if _registered:
            return
        folder = resources.files("resources").joinpath("fonts")
        for name, filename in _FILES.items():
            # Read the bytes ourselves: a path from a zip/bundle is not always a real file.
            data = folder.joinpath(filename).read_bytes()
            pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
        # Italic is not shipped; map it to upright so a stray <i> never falls back to Helvetica.
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
        _registered = True
