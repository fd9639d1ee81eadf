"""What every view gets through its constructor: services, task runner, event bus and preferences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QWidget

from app.changes import Changes
from app.services.registry import Services
from ui.bus import Bus
from ui.errors import show_error
from ui.prefs import Prefs
from ui.tasks import TaskRunner


@dataclass
class UiContext:
    """Collaborators of the views; built once in ui/main.py (the composition root)."""

    services: Services
    runner: TaskRunner
    bus: Bus
    prefs: Prefs
    today: Callable[[], dt.date] = field(default=dt.date.today)

    def query(self, fn: Callable[[], Any], on_done: Callable[[Any], None], *, parent: QWidget | None = None) -> None:
        """Read something in the background and hand it to ``on_done`` on the GUI thread."""
        self.runner.run(fn, on_done, lambda exc: show_error(parent=parent, exc=exc))

    def mutate(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        *,
        parent: QWidget | None = None,
        initiator: object = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a mutation; when it returns Changes (or a tuple ending in Changes) announce them on the bus."""

        def done(result: Any) -> None:
            changes = (
                result[-1]
                if isinstance(result, tuple) and result and isinstance(result[-1], Changes)
                else result
                if isinstance(result, Changes)
                else None
            )
            if changes is not None:
                self.bus.operation_did_execute.emit(changes, initiator)
            if on_done is not None:
                on_done(result)

        self.runner.run(fn, done, on_error or (lambda exc: show_error(parent=parent, exc=exc)))
