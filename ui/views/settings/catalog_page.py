"""The "Leistungskatalog" page: search as you type, a category filter, the table and CSV import/export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.errors import ImportProblem, ImportRejected
from app.i18n import N_, _, ngettext
from app.services.catalog import ImportSummary
from ui.context import UiContext
from ui.errors import show_error
from ui.views.settings.catalog_model import COL_AW, COL_CODE, COL_NAME, COL_PARTS, COL_PRICE, ServiceTableModel
from ui.views.settings.data import CatalogData, load_catalog

SEARCH_DELAY_MS = 200
CSV_FILTER = N_("CSV-Dateien (*.csv *.txt);;Alle Dateien (*)")


class ImportProblemsDialog(QDialog):
    """Lists every problem of a rejected import and says plainly that nothing was imported."""

    def __init__(self, problems: list[ImportProblem], file_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Import abgelehnt"))
        self.setMinimumSize(640, 380)
        self.problems = problems
        heading = QLabel(
            ngettext(
                "Die Datei „{file}“ enthält {count} Fehler.",
                "Die Datei „{file}“ enthält {count} Fehler.",
                len(problems),
            ).format(file=file_name, count=len(problems))
        )
        heading.setStyleSheet("font-weight: 600; font-size: 11pt;")
        heading.setWordWrap(True)
        self.summary = QLabel(
            _(
                "Es wurde nichts importiert – der Leistungskatalog ist unverändert. Bitte die Datei "
                "korrigieren (z. B. in Excel) und erneut importieren."
            )
        )
        self.summary.setWordWrap(True)
        self.text = QPlainTextEdit("\n".join(str(p) for p in problems))
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_("Schließen"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)


class CatalogPage(QWidget):
    """Find, import and export catalogue services; the rules and the pricing stay in the catalogue service."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._generation = 0  # only the newest search result is shown
        self._progress: QProgressDialog | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Leistung suchen: Nummer, Bezeichnung, Kategorie oder Teil, z. B. „öl“"))
        self.search.setClearButtonEnabled(True)
        self.category = QComboBox()
        self.category.addItem(_("Alle Kategorien"), "")
        self.category.setMinimumWidth(200)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self.timer.start())
        self.category.activated.connect(lambda _i: self.run_search())
        self.model = ServiceTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((COL_CODE, 90), (COL_AW, 60), (COL_PRICE, 100), (COL_PARTS, 260)):
            self.table.setColumnWidth(column, width)
        self.count_label = QLabel("")
        self.count_label.setObjectName("catalogCount")
        self.import_button = QPushButton(_("CSV importieren…"))
        self.import_button.setToolTip(
            _(
                "Leistungen aus einer CSV-Datei übernehmen: neue Nummern werden angelegt, "
                "vorhandene aktualisiert – bei einem Fehler wird nichts übernommen."
            )
        )
        self.export_button = QPushButton(_("CSV exportieren…"))
        self.export_button.setToolTip(_("Den ganzen Katalog als CSV-Datei für Excel speichern"))
        self.import_button.clicked.connect(self.import_csv)
        self.export_button.clicked.connect(self.export_csv)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.category)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.import_button)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.problems_dialog: ImportProblemsDialog | None = None

    # --- searching -------------------------------------------------------------------------------------

    def load(self) -> None:
        """Search again with the current text and category (after a change elsewhere too)."""
        self.run_search()

    def run_search(self) -> None:
        """Search now in the background; an older result arriving later is dropped."""
        self.timer.stop()
        self._generation += 1
        generation = self._generation
        services, text, category = self.ctx.services, self.search.text(), self.category.currentData()
        self.ctx.query(
            lambda: load_catalog(services, text, category), lambda data: self._show(data, generation), parent=self
        )

    def _show(self, data: CatalogData, generation: int) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(data.services, data.labour_rate, data.aw_per_hour)
        self._set_categories(data.categories)
        shown = len(data.services)
        if not data.total:
            text = _("Der Katalog ist leer – mit „CSV importieren…“ eine Leistungsliste übernehmen.")
        elif shown >= data.limit:
            text = _("Die ersten {shown} von {total} Leistungen – Suche verfeinern, um weitere zu sehen.").format(
                shown=shown, total=data.total
            )
        else:
            text = ngettext("{shown} von {total} Leistung", "{shown} von {total} Leistungen", data.total).format(
                shown=shown, total=data.total
            )
        self.count_label.setText(text)

    def _set_categories(self, categories: list[str]) -> None:
        current = self.category.currentData()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem(_("Alle Kategorien"), "")
        for name in categories:
            self.category.addItem(name, name)
        index = self.category.findData(current)
        self.category.setCurrentIndex(max(index, 0))
        self.category.blockSignals(False)

    # --- files -----------------------------------------------------------------------------------------

    def import_csv(self) -> None:
        """Ask for a file and import it in the background; every problem is listed if it is rejected."""
        path, _filter = QFileDialog.getOpenFileName(self, _("Leistungskatalog importieren"), "", _(CSV_FILTER))
        if not path:
            return
        catalog = self.ctx.services.catalog

        def work() -> tuple[ImportSummary, Changes]:
            summary = catalog.import_csv(Path(path))
            return summary, summary.changes

        self._busy(_("Leistungskatalog wird importiert …"))
        self.ctx.mutate(
            work,
            self._imported,
            parent=self,
            initiator=self,
            on_error=lambda exc: self._import_failed(exc, Path(path).name),
        )

    def _imported(self, result: tuple[ImportSummary, Changes]) -> None:
        self._idle()
        summary = result[0]
        self.run_search()
        text = _("Import abgeschlossen: {created} neu, {updated} geändert, {unchanged} unverändert.").format(
            created=summary.created, updated=summary.updated, unchanged=summary.unchanged
        )
        self.ctx.bus.status_message_posted.emit(text)
        QMessageBox.information(self, _("Leistungskatalog"), text)

    def _import_failed(self, exc: BaseException, file_name: str) -> None:
        self._idle()
        if not isinstance(exc, ImportRejected):
            show_error(parent=self, exc=exc)
            return
        self.problems_dialog = ImportProblemsDialog(exc.problems, file_name, self)
        self.problems_dialog.exec()

    def export_csv(self) -> None:
        """Ask where to save and write the whole catalogue in the background."""
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Leistungskatalog exportieren"), _("leistungskatalog.csv"), _(CSV_FILTER)
        )
        if not path:
            return
        catalog = self.ctx.services.catalog
        self._busy(_("Leistungskatalog wird exportiert …"))
        self.ctx.query(lambda: catalog.export_csv(Path(path)), lambda count: self._exported(count, path), parent=self)

    def _exported(self, count: int, path: str) -> None:
        self._idle()
        text = ngettext(
            "{count} Leistung nach {path} exportiert.", "{count} Leistungen nach {path} exportiert.", count
        ).format(count=count, path=path)
        self.count_label.setText(text)
        self.ctx.bus.status_message_posted.emit(text)

    # --- busy indicator --------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.import_button.setEnabled(False)
        self.export_button.setEnabled(False)
        progress = QProgressDialog(text, "", 0, 0, self)
        progress.setWindowTitle(_("Leistungskatalog"))
        progress.setCancelButton(None)  # an all-or-nothing import cannot be stopped halfway
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setAutoClose(False)
        self._progress = progress
        # Only for work that takes a moment: a fast import should not flash a dialog.
        QTimer.singleShot(300, lambda: progress.show() if self._progress is progress else None)

    def _idle(self) -> None:
        self.import_button.setEnabled(True)
        self.export_button.setEnabled(True)
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None
