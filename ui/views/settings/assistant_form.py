"""The assistant part of "Chat & Assistent": which assistant answers the web chat, and its API key.

"Eingebaut" (``provider="none"``) answers from the workshop's public data without any cloud service.
"OpenAI-kompatibel" and "Anthropic" use a cloud LLM through ``app.chat.llm``: base URL, model and the
monthly budget in € go into ``LlmConfigStore`` (a JSON file without secrets); the API key goes ONLY into
the OS keyring (``ApiKeyStore``) – the field is cleared after saving and never pre-filled, it only says
whether a key is stored. "Verbindung testen" sends one tiny request with the entered values on the
network pool and reports the answer or the provider's German error text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app import formatting
from app.chat.llm.config import DEFAULT_BASE_URLS, DEFAULT_MODELS, ApiKeyStore, LlmConfig, LlmConfigStore
from app.chat.llm.config import make_provider as make_llm_provider
from app.errors import ValidationError, WorkshopError
from app.i18n import N_, _, locale_name
from ui.context import UiContext
from ui.errors import error_text
from ui.widgets.form import ValidatedForm

ASSISTANTS: tuple[tuple[str, str], ...] = (
    ("none", N_("Eingebaut (ohne KI-Dienst)")),
    ("openai", N_("OpenAI-kompatibel")),
    ("anthropic", N_("Anthropic")),
)
TEST_PROMPT = "Reply with the single word OK."
ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"


@dataclass(frozen=True)
class TestOutcome:
    """What "Verbindung testen" found out."""

    model: str
    answer: str
    seconds: float


def test_connection(config: LlmConfig, api_key: str | None) -> TestOutcome:
    """One tiny streamed completion with ``config`` (network; worker thread). Raises an ``LlmError``."""
    from app.chat.llm.events import Finished, TextDelta, UserMessage
    from app.chat.llm.transport import LlmTransport, RetryPolicy

    provider = make_llm_provider(config, api_key)
    transport = LlmTransport(timeouts=config.timeouts(), retry=RetryPolicy(attempts=1))
    started = time.monotonic()
    answer = ""
    try:
        request = provider.build_request("You are a connection test.", [UserMessage(TEST_PROMPT)], [])
        for event in transport.stream(request, provider.decoder, retry=False):
            if isinstance(event, TextDelta):
                answer += event.text
            elif isinstance(event, Finished):
                break
    finally:
        transport.close()
    return TestOutcome(config.effective_model, answer.strip()[:80], time.monotonic() - started)


class AssistantForm(QGroupBox):
    """Assistant choice, endpoint, model, budget, API key; ``saved`` after a successful save."""

    saved = Signal()

    def __init__(
        self,
        ctx: UiContext,
        *,
        config_store: LlmConfigStore | None = None,
        key_store: ApiKeyStore | None = None,
        tester: Callable[[LlmConfig, str | None], TestOutcome] = test_connection,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Assistent"), parent)
        self.ctx = ctx
        self.config_store = config_store or LlmConfigStore()
        self.key_store = key_store or ApiKeyStore()
        self.tester = tester
        self.config = LlmConfig()
        self.key_stored = False
        self._stored: dict[str, bool] = {}  # provider → a key is in the keyring
        self.form = ValidatedForm()
        self.provider_box = QComboBox()
        self.provider_box.setObjectName("llmProvider")
        for value, label in ASSISTANTS:
            self.provider_box.addItem(_(label), value)
        self.provider_box.currentIndexChanged.connect(lambda _i: self._provider_changed())
        self.form.add("provider", _("Assistent"), self.provider_box)
        self.base_url_edit = self._line("base_url", _("Basis-URL"))
        self.model_edit = self._line("model", _("Modell"))
        self.budget_edit = self._line("monthly_budget_eur", _("Monatsbudget (€)"))
        self.budget_edit.setPlaceholderText("20,00")
        self.budget_edit.setToolTip(_("Höchstens so viel darf der KI-Dienst im Monat kosten; 0 = nie verwenden."))
        self.key_edit = self._line("api_key", _("API-Schlüssel"))
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_state = QLabel("")
        self.key_state.setObjectName("llmKeyState")
        self.key_state.setStyleSheet("color: #607d8b;")
        self.forget_button = QPushButton(_("Schlüssel entfernen"))
        self.forget_button.setObjectName("llmForgetKey")
        self.forget_button.clicked.connect(self.forget_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_state, 1)
        key_row.addWidget(self.forget_button)
        note = QLabel(
            _(
                "Der KI-Dienst sieht nur die öffentlichen Daten der Werkstatt (Leistungen mit ab-Preisen, "
                "Öffnungszeiten, freie Termine) und das jeweilige Gespräch. Der API-Schlüssel liegt nur im "
                "Schlüsselbund dieses Computers."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #607d8b;")
        self.message = QLabel("")
        self.message.setObjectName("llmMessage")
        self.message.setWordWrap(True)
        self.test_button = QPushButton(_("Verbindung testen"))
        self.test_button.setObjectName("llmTest")
        self.test_button.clicked.connect(self.test)
        self.save_button = QPushButton(_("Speichern"))
        self.save_button.setObjectName("llmSave")
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(key_row)
        layout.addWidget(note)
        layout.addLayout(buttons)

    def _line(self, name: str, title: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"llm_{name}")
        self.form.add(name, title, edit)
        return edit

    # --- loading -----------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the stored settings and whether a key is stored (keyring: in the background)."""
        store, keys = self.config_store, self.key_store

        def read() -> tuple[LlmConfig, dict[str, bool]]:
            config = store.load()
            stored = {}
            for provider in ("openai", "anthropic"):
                try:
                    stored[provider] = keys.get(provider) is not None
                except WorkshopError:
                    stored[provider] = False  # no keyring: shown as "kein Schlüssel"
            return config, stored

        self.ctx.runner.run(read, self._show, lambda exc: self._say(error_text(exc), ok=False), uses_db=False)

    def _show(self, result: tuple[LlmConfig, dict[str, bool]]) -> None:
        config, stored = result
        self.config, self._stored = config, stored
        self.provider_box.setCurrentIndex(max(self.provider_box.findData(config.provider), 0))
        self.base_url_edit.setText(config.base_url)
        self.model_edit.setText(config.model)
        self.budget_edit.setText(format_decimal(config.monthly_budget_eur, "#,##0.00", locale=locale_name()))
        self.key_edit.clear()
        self._provider_changed()

    def provider(self) -> str:
        """The chosen assistant ("none", "openai", "anthropic")."""
        return str(self.provider_box.currentData())

    def _provider_changed(self) -> None:
        provider = self.provider()
        cloud = provider != "none"
        for name in ("base_url", "model", "monthly_budget_eur", "api_key"):
            self.form.fields[name].setEnabled(cloud)
        self.base_url_edit.setPlaceholderText(DEFAULT_BASE_URLS.get(provider, ""))
        self.model_edit.setPlaceholderText(DEFAULT_MODELS.get(provider, ""))
        self.key_stored = bool(self._stored.get(provider))
        if not cloud:
            self.key_state.setText(_("Der eingebaute Assistent braucht keinen Schlüssel."))
        elif self.key_stored:
            self.key_state.setText(_("Ein Schlüssel ist im Schlüsselbund hinterlegt."))
        else:
            self.key_state.setText(_("Noch kein Schlüssel hinterlegt."))
        self.key_edit.setPlaceholderText(_("neuen Schlüssel eingeben") if self.key_stored else "")
        self.forget_button.setVisible(cloud and self.key_stored)
        self.test_button.setEnabled(cloud)

    # --- saving ------------------------------------------------------------------------------------

    def entered(self) -> LlmConfig:
        """The config as entered (raises ``ValidationError`` with the field's name)."""
        changes: dict[str, Any] = {"provider": self.provider()}
        if self.provider() != "none":
            changes |= {
                "base_url": self.base_url_edit.text(),
                "model": self.model_edit.text(),
                "monthly_budget_eur": self.budget_edit.text().strip() or "0",
            }
        return self.config.updated(**changes)

    def save(self) -> None:
        """Validate, then store the settings file and (if one was typed) the key in the keyring."""
        self.form.clear_errors()
        try:
            config = self.entered()
        except ValidationError as exc:
            self._problem(exc)
            return
        key = self.key_edit.text().strip()
        store, keys = self.config_store, self.key_store

        def write() -> LlmConfig:
            if key and config.enabled:
                keys.set(config.provider, key)
            store.save(config)
            return config

        self.save_button.setEnabled(False)
        self.ctx.runner.run(write, self._saved, self._save_failed, uses_db=False)

    def _saved(self, config: LlmConfig) -> None:
        self.save_button.setEnabled(True)
        if self.key_edit.text().strip() and config.enabled:
            self._stored = {**self._stored, config.provider: True}
        self.config = config
        self.key_edit.clear()  # the key is never kept in the widget
        self._provider_changed()
        self._say(_("Gespeichert."), ok=True)
        self.saved.emit()

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self._problem(exc)

    def _problem(self, exc: BaseException) -> None:
        field = str(getattr(exc, "field", "") or "")
        text = error_text(exc)
        if not (field and self.form.show_error(field, text)):
            self._say(text, ok=False)

    def forget_key(self) -> None:
        """Remove the stored key of the chosen provider from the keyring."""
        provider, keys = self.provider(), self.key_store

        def forgotten(_result: object) -> None:
            self._stored = {**self._stored, provider: False}
            self._provider_changed()
            self._say(_("Schlüssel entfernt."), ok=True)

        self.ctx.runner.run(lambda: keys.clear(provider), forgotten, uses_db=False)

    # --- testing -----------------------------------------------------------------------------------

    def test(self) -> None:
        """ "Verbindung testen" with the values in the form (the typed key, else the stored one)."""
        self.form.clear_errors()
        try:
            config = self.entered()
        except ValidationError as exc:
            self._problem(exc)
            return
        typed, keys, tester = self.key_edit.text().strip() or None, self.key_store, self.tester

        def run() -> TestOutcome:
            return tester(config, typed or keys.get(config.provider))

        self.test_button.setEnabled(False)
        self._say(_("Verbinde mit {url} …").format(url=config.effective_base_url), ok=True)
        self.ctx.runner.run(run, self._tested, self._test_failed, uses_db=False)

    def _tested(self, outcome: TestOutcome) -> None:
        self.test_button.setEnabled(True)
        self._say(
            _("Verbindung in Ordnung: {model} antwortet ({seconds} s).").format(
                model=outcome.model, seconds=formatting.number(outcome.seconds, 1)
            ),
            ok=True,
        )

    def _test_failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self._say(_("Verbindung fehlgeschlagen: {error}").format(error=error_text(exc)), ok=False)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {OK_COLOUR if ok else ERROR_COLOUR};")

    def set_editable(self, editable: bool) -> None:
        """Only the owner changes the assistant and its key (role preference of this PC)."""
        for widget in (self.provider_box, self.base_url_edit, self.model_edit, self.budget_edit, self.key_edit,
                       self.save_button, self.forget_button, self.test_button):  # fmt: skip
            widget.setEnabled(editable)
        if editable:
            self._provider_changed()
