"""Exception tree of the domain core.

Every error carries a German message id (the gettext msgid) plus named parameters, so the UI,
the CLI and the hosted API can show it in the user's language::

    WorkshopError
     ├── ValidationError        one or more fields are invalid (``field`` names the first one)
     │    └── ImportRejected    a file import failed; ``problems`` lists every row/column
     ├── NotFound               the requested record does not exist (or is restricted)
     ├── InvalidTransition      a state machine refused a transition
     ├── ConflictError          a booking overlaps another one, a unique value is taken
     ├── PermissionDenied       the user's role may not see or do this (e.g. revenue figures)
     └── DatabaseError          the database file cannot be used
          ├── DatabaseCorrupt   not a database / integrity check failed
          └── DatabaseLocked    another CarBot instance is using the file
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.i18n import _


class WorkshopError(Exception):
    """Root of all domain errors; ``str(err)`` is the translated message."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params

    @property
    def message(self) -> str:
        """The message in the current language, with its parameters filled in."""
        return _(self.message_id).format(**self.params)

    def __str__(self) -> str:
        return self.message


class ValidationError(WorkshopError):
    """Invalid input; ``field`` names the offending field (a model attribute name)."""

    def __init__(self, message_id: str, *, field: str = "", **params: Any) -> None:
        super().__init__(message_id, **params)
        self.field = field


@dataclass(frozen=True)
class ImportProblem:
    """One problem in an imported file: 1-based row (header = row 1), column name, message."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:  # JSON imports name the path of the field instead of a row
            return _("„{column}“: {message}").format(column=self.column, message=self.message)
        return _("Zeile {row}, Spalte „{column}“: {message}").format(
            row=self.row, column=self.column, message=self.message
        )


class ImportRejected(ValidationError):
    """A whole import was rejected; nothing was written. ``problems`` has every row/column issue."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("Import abgelehnt – {count} Fehler, es wurde nichts übernommen.", count=len(problems))
        self.problems = problems

    @property
    def message(self) -> str:
        head = super().message
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = ("\n" + _("… und {count} weitere.").format(count=more)) if more > 0 else ""
        return f"{head}\n{shown}{tail}"


class NotFound(WorkshopError):
    """The record does not exist, or is restricted and hidden from this role."""


class InvalidTransition(WorkshopError):
    """A state machine refused a transition."""


class ConflictError(WorkshopError):
    """A booking conflict or a duplicate unique value."""


class PermissionDenied(WorkshopError):
    """The user's role may not see or do this, e.g. the counter role asking for revenue figures."""


class DatabaseError(WorkshopError):
    """The database file cannot be opened or used."""


class DatabaseCorrupt(DatabaseError):
    """The file is not a CarBot database or failed the integrity check."""


class DatabaseLocked(DatabaseError):
    """Another instance holds the database."""
