"""Type-ahead search in the service catalogue: a few letters, the hits drop down, Enter adds the first.

The hit list is a child widget laid over the editor (not a separate popup window), so the keyboard
focus stays in the box: Up/Down move, Enter adds, Esc closes. Results of an older query than the
latest typed text are dropped (generation counter, as in the counter's search panel).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QWidget

from app import formatting
from app.i18n import _
from app.services.catalog import ServiceDTO
from ui.context import UiContext

DEBOUNCE_MS = 120
RESULT_LIMIT = 12
SERVICE_ROLE = Qt.ItemDataRole.UserRole + 1
LIST_CSS = (
    "QListWidget { border: 1px solid #90a4ae; background: white; font-size: 11pt; }"
    "QListWidget::item { padding: 5px 8px; } QListWidget::item:selected { background: #1565c0; color: white; }"
)


def service_detail(service: ServiceDTO) -> str:
    """ "1,2 AW" for labour by AW, "Festpreis 79,00 €" for a fixed price."""
    if service.price_net is not None and (service.price_rule == "fixed" or not service.aw):
        return _("Festpreis {price}").format(price=formatting.money(service.price_net))
    return _("{aw} AW").format(aw=formatting.number(service.aw, 2))


class ServiceSearch(QWidget):
    """The "Leistung hinzufügen" box; ``service_chosen`` carries the ServiceDTO to add."""

    service_chosen = Signal(object)

    def __init__(self, ctx: UiContext, overlay_parent: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._overlay_parent = overlay_parent
        self._generation = 0
        self._shown_generation = -1
        self._add_when_ready = False
        self.edit = QLineEdit()
        self.edit.setObjectName("serviceSearch")
        self.edit.setPlaceholderText(_("Leistung hinzufügen – z. B. „Bremse“, „Ölw“ … (Strg+L)"))
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(340)
        self.edit.setToolTip(_("Tippen, Pfeiltasten wählen, Enter fügt die Leistung mit AW und Preis ein"))
        self.edit.installEventFilter(self)
        self.results = QListWidget(overlay_parent)
        self.results.setObjectName("serviceResults")
        self.results.setStyleSheet(LIST_CSS)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.results.itemClicked.connect(self._clicked)
        self.results.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        # A click into the hit list moves the focus away first; hide a moment later, not at once.
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(150)
        self._hide_timer.timeout.connect(lambda: None if self.edit.hasFocus() else self.close_results())
        self.edit.textEdited.connect(self._edited)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.setFocusProxy(self.edit)

    # --- searching ---------------------------------------------------------------------------------------

    def _edited(self, text: str) -> None:
        self._generation += 1
        self._add_when_ready = False
        if text.strip():
            self._timer.start()
        else:
            self._timer.stop()
            self.close_results()

    def search_now(self) -> None:
        """Query the catalogue for the current text in the background."""
        self._timer.stop()
        text = self.edit.text().strip()
        generation = self._generation
        if not text:
            return
        catalog = self.ctx.services.catalog
        self.ctx.query(
            lambda: catalog.search(text, limit=RESULT_LIMIT),
            lambda hits: self._show(generation, text, hits),
            parent=self,
        )

    def _show(self, generation: int, text: str, hits: list[ServiceDTO]) -> None:
        if generation != self._generation:
            return
        self._shown_generation = generation
        self.results.clear()
        for service in hits:
            item = QListWidgetItem(f"{service.name}   ·   {service_detail(service)}   ·   {service.code}")
            item.setData(SERVICE_ROLE, service)
            item.setToolTip("\n".join(p for p in (service.name, service.category, ", ".join(service.parts)) if p))
            self.results.addItem(item)
        if not hits:
            empty = QListWidgetItem(
                _("Keine Leistung zu „{text}“ – freie Arbeit über „Arbeit“ erfassen.").format(text=text)
            )
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(empty)
        self.results.setCurrentRow(0 if hits else -1)
        self._place()
        if self._add_when_ready:
            self._add_when_ready = False
            self.choose_current()

    def _place(self) -> None:
        origin = self.edit.mapTo(self._overlay_parent, QPoint(0, self.edit.height() + 2))
        rows = max(1, self.results.count())
        height = min(rows, 8) * (self.results.sizeHintForRow(0) or 28) + 6
        self.results.setGeometry(origin.x(), origin.y(), max(self.edit.width(), 620), height)
        self.results.raise_()
        self.results.show()

    # --- choosing ----------------------------------------------------------------------------------------

    def current_service(self) -> ServiceDTO | None:
        """The highlighted hit."""
        item = self.results.currentItem()
        service = item.data(SERVICE_ROLE) if item is not None else None
        return service if isinstance(service, ServiceDTO) else None

    def choose_current(self) -> None:
        """Add the highlighted service (Enter)."""
        service = self.current_service()
        if service is None:
            return
        self.close_results()
        self.edit.clear()
        self.service_chosen.emit(service)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.results.setCurrentItem(item)
        self.choose_current()

    def close_results(self) -> None:
        """Hide the hit list."""
        self.results.hide()

    def _move(self, step: int) -> None:
        count = self.results.count()
        if count and self.results.isVisible():
            self.results.setCurrentRow(max(0, min(count - 1, self.results.currentRow() + step)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Up/Down/Enter/Esc steer the hit list while the cursor stays in the box."""
        if watched is self.edit and event.type() == QEvent.Type.FocusOut:
            self._hide_timer.start()
        if watched is not self.edit or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        assert isinstance(event, QKeyEvent)
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self._move(1 if key == Qt.Key.Key_Down else -1)
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not self.edit.text().strip():
                return True
            if self._timer.isActive() or self._shown_generation != self._generation:
                # Typed faster than the debounce: search now and add the first hit when it arrives.
                self._add_when_ready = True
                self.search_now()
            else:
                self.choose_current()
            return True
        if key == Qt.Key.Key_Escape and (self.results.isVisible() or self.edit.text()):
            self.close_results()
            self.edit.clear()
            return True
        return super().eventFilter(watched, event)
