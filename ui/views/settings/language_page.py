"""The "Sprache" page: Deutsch or English for this computer, applied at the next start."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.i18n import _
from ui import prefs
from ui.context import UiContext

# Language names are written in their own language, so everyone finds theirs.
LANGUAGES = (("de", "Deutsch"), ("en", "English"))


class LanguagePage(QWidget):
    """Radio buttons stored in the per-machine preferences (ui.prefs.LANGUAGE)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        box = QGroupBox(_("Sprache der Oberfläche"))
        box.setMaximumWidth(560)
        box_layout = QVBoxLayout(box)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for code, name in LANGUAGES:
            button = QRadioButton(name)
            button.setObjectName(f"language_{code}")
            self.buttons[code] = button
            self.group.addButton(button)
            box_layout.addWidget(button)
        note = QLabel(_("Wird beim nächsten Start wirksam."))
        note.setObjectName("languageNote")
        note.setStyleSheet("color: #607d8b;")
        box_layout.addSpacing(6)
        box_layout.addWidget(note)
        explain = QLabel(
            _(
                "Die Sprache gilt nur für diesen Computer – andere Arbeitsplätze der Werkstatt "
                "behalten ihre eigene Einstellung."
            )
        )
        explain.setWordWrap(True)
        explain.setStyleSheet("color: #607d8b;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addWidget(explain)
        layout.addStretch(1)
        self.load()
        for code, button in self.buttons.items():
            button.toggled.connect(lambda checked, c=code: self._chosen(c) if checked else None)

    def load(self) -> None:
        """Tick the stored language (German when nothing valid is stored)."""
        stored = str(self.ctx.prefs.get(prefs.LANGUAGE))
        self.buttons.get(stored, self.buttons["de"]).setChecked(True)

    def language(self) -> str:
        """The ticked language code."""
        return next(code for code, button in self.buttons.items() if button.isChecked())

    def _chosen(self, code: str) -> None:
        self.ctx.prefs.set(prefs.LANGUAGE, code)
        self.ctx.bus.status_message_posted.emit(_("Sprache gespeichert – wird beim nächsten Start wirksam."))
