"""The one search box of the counter: plate, name, VIN or phone, searched in the background while typing."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from app.i18n import _
from app.services.search import SearchHit
from ui.context import UiContext
from ui.views.counter.qt_models import SearchHitDelegate, SearchHitModel
from ui.views.counter.style import SECONDARY_TEXT

DEBOUNCE_MS = 120
RESULT_LIMIT = 30


class _ResultList(QListView):
    """Asks for as much height as its hits need, so a short result leaves today's appointments in view."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Height of all rows (the layout shrinks it when space runs out)."""
        hint = super().sizeHint()
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        if rows:
            hint.setHeight(max(1, self.sizeHintForRow(0)) * rows + 2 * self.frameWidth() + 2)
        return hint


class SearchPanel(QWidget):
    """Search box plus result list; Up/Down move in the list, Enter opens, Esc clears.

    Every query carries a generation number; results of an older query than the latest typed text
    are dropped, so a slow search can never overwrite a newer one.
    """

    hit_activated = Signal(object)  # SearchHit
    cleared = Signal()  # Esc in an empty search box: back to the overview

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._generation = 0
        self._open_when_ready = False
        self.edit = QLineEdit()
        self.edit.setObjectName("globalSearch")
        self.edit.setPlaceholderText(_("Kennzeichen, Name, FIN, Telefon … (Strg+F)"))
        self.edit.setClearButtonEnabled(True)
        font = self.edit.font()
        font.setPointSizeF(13)  # readable at arm's length even without the main window's style sheet
        self.edit.setFont(font)
        self.edit.setToolTip(_("Suchen (Strg+F oder F3) – Pfeiltasten wählen, Enter öffnet, Esc leert"))
        self.edit.installEventFilter(self)
        self.model = SearchHitModel(self)
        self.list = _ResultList()
        self.list.setObjectName("searchResults")
        self.list.setModel(self.model)
        self.list.setItemDelegate(SearchHitDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.activated.connect(lambda index: self._open_row(index.row()))
        self.list.clicked.connect(lambda index: self._open_row(index.row()))
        self.hint = QLabel(_("Tippen Sie einen Teil des Kennzeichens, den Namen, die FIN oder die Telefonnummer."))
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {SECONDARY_TEXT}; padding: 2px;")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.edit.textChanged.connect(self._on_text_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addStretch(0)
        self.list.hide()
        self.setFocusProxy(self.edit)

    # --- public -------------------------------------------------------------------------------------

    def focus(self) -> None:
        """Focus the box with its text selected, ready to type over."""
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def search_now(self) -> None:
        """Run the query for the current text in the background (also after data changed)."""
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        text = self.edit.text().strip()
        if not text:
            self._show(generation, text, [])
            return
        search = self.ctx.services.search
        self.ctx.query(
            lambda: search.search(text, limit=RESULT_LIMIT),
            lambda hits: self._show(generation, text, hits),
            parent=self,
        )

    def refresh(self) -> None:
        """Repeat the current search (customers or vehicles changed)."""
        if self.edit.text().strip():
            self.search_now()

    def current_hit(self) -> SearchHit | None:
        """The selected hit."""
        return self.model.hit(self.list.currentIndex().row())

    # --- internals ----------------------------------------------------------------------------------

    def _on_text_changed(self, text: str) -> None:
        self._generation += 1  # whatever is in flight is stale now
        self._open_when_ready = False
        if text.strip():
            self._timer.start()
        else:
            self._timer.stop()
            self._show(self._generation, "", [])

    def _show(self, generation: int, text: str, hits: list[SearchHit]) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(hits)
        self.list.setVisible(bool(hits))
        self.list.updateGeometry()
        if hits:
            self.list.setCurrentIndex(self.model.index(0, 0))
            self.hint.setVisible(False)
        else:
            self.hint.setText(
                _("Keine Treffer für „{text}“.").format(text=text)
                if text
                else _("Tippen Sie einen Teil des Kennzeichens, den Namen, die FIN oder die Telefonnummer.")
            )
            self.hint.setVisible(True)
        if self._open_when_ready:
            self._open_when_ready = False
            self._open_row(0)

    def _open_row(self, row: int) -> None:
        hit = self.model.hit(row)
        if hit is not None:
            self.hit_activated.emit(hit)

    def _move(self, step: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        row = self.list.currentIndex().row()
        row = 0 if row < 0 else max(0, min(count - 1, row + step))
        self.list.setCurrentIndex(self.model.index(row, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Keys of the search box that steer the result list."""
        if watched is not self.edit or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        assert isinstance(event, QKeyEvent)
        key = int(event.key())
        page = max(1, self.list.viewport().height() // max(1, self.list.sizeHintForRow(0)))
        steps = {
            int(Qt.Key.Key_Down): 1,
            int(Qt.Key.Key_Up): -1,
            int(Qt.Key.Key_PageDown): page,
            int(Qt.Key.Key_PageUp): -page,
        }
        if key in steps:
            self._move(steps[key])
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._timer.isActive():
                # Typed faster than the debounce: search now and open the first hit when it arrives.
                self._open_when_ready = True
                self.search_now()
            else:
                self._open_row(max(0, self.list.currentIndex().row()))
            return True
        if key == Qt.Key.Key_Escape:
            if self.edit.text():
                self.edit.clear()
            else:
                self.cleared.emit()
            return True
        return super().eventFilter(watched, event)
