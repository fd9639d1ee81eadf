"""Showing errors to people: known domain errors as friendly German text, the rest with details."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.errors import ImportRejected, WorkshopError
from app.i18n import _

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> str:
    """The text a user sees for ``exc``."""
    if isinstance(exc, WorkshopError):
        return exc.message
    return _("Ein unerwarteter Fehler ist aufgetreten: {error}").format(error=type(exc).__name__)


def show_error(*, parent: QWidget | None, exc: BaseException) -> None:
    """A message box for ``exc``; unknown errors are logged with their traceback and offer details."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(_("CarBot Werkstatt"))
    if isinstance(exc, ImportRejected):
        box.setText(_("Import abgelehnt – es wurde nichts übernommen."))
        box.setDetailedText("\n".join(str(p) for p in exc.problems))
    elif isinstance(exc, WorkshopError):
        box.setText(exc.message)
    else:
        log.error("unexpected error", exc_info=exc)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setText(error_text(exc))
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.exec()


def install_excepthook() -> None:
    """Route uncaught exceptions to a dialog instead of a silent crash."""
    import sys

    def hook(exc_type: type[BaseException], exc: BaseException, tb: object) -> None:
        log.error("uncaught", exc_info=(exc_type, exc, tb))  # type: ignore[arg-type]
        if QApplication.instance() is not None:
            show_error(parent=None, exc=exc)

    sys.excepthook = hook
