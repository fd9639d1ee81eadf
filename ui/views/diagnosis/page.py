"""The Diagnose tab's placeholder that builds the real view on first use.

The diagnostics view needs pyqtgraph (~0.3 s to import) and, once connected, python-OBD (~0.4 s, loaded in
the worker thread). The main window must appear at once, so ``attach()`` only creates this page; the view is
built when the tab is first shown or a vehicle is sent to it ("Diagnose" on the vehicle card).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QStackedLayout, QWidget

from app.i18n import _
from ui.context import UiContext
from ui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    from ui.views.diagnosis.view import DiagnosisView


class DiagnosisPage(QWidget):
    """Holds a "wird geladen …" state until the DiagnosisView is needed."""

    def __init__(
        self, ctx: UiContext, parent: QWidget | None = None, *, worker_options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._worker_options = worker_options
        self._view: DiagnosisView | None = None
        self._stack = QStackedLayout(self)
        self._stack.addWidget(EmptyState(_("Diagnose"), _("Diagnose wird geladen …")))

    @property
    def loaded(self) -> bool:
        """True once the real view exists."""
        return self._view is not None

    def view(self) -> DiagnosisView:
        """The diagnostics view (built now if needed)."""
        if self._view is None:
            from ui.views.diagnosis.view import DiagnosisView

            self._view = DiagnosisView(self.ctx, worker_options=self._worker_options)
            self._stack.addWidget(self._view)
            self._stack.setCurrentWidget(self._view)
        return self._view

    def open_vehicle(self, vehicle_id: int) -> None:
        """Diagnose this vehicle (from the vehicle card)."""
        self.view().open_vehicle(vehicle_id)

    def suggest_vehicle(self, vehicle_id: int | None) -> None:
        """The counter's current vehicle, used only while the view has none."""
        if vehicle_id is not None:
            self.view().suggest_vehicle(vehicle_id)

    def shutdown(self) -> None:
        """Stop the OBD thread (app close)."""
        if self._view is not None:
            self._view.shutdown()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Build the view right after the placeholder has been painted once."""
        super().showEvent(event)
        if self._view is None:
            QTimer.singleShot(0, self.view)
