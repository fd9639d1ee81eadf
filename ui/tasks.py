"""Background work without freezing the GUI (after Anki's taskman).

``TaskRunner.run(fn, on_done, on_error, uses_db=True)`` runs ``fn`` on a worker thread – one serial
thread for database work (SQLite has one writer), a small pool for network and CPU work – and
delivers the result back on the GUI thread by a queued signal. ``fn`` must not touch Qt: widgets
called from a worker thread can crash the process. Tests use ``synchronous=True``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)
Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Runs callables off the GUI thread and hands results back on it."""

    finished = Signal(object, object, object)  # future, on_done, on_error
    busy_changed = Signal(bool)

    def __init__(
        self, parent: QObject | None = None, *, synchronous: bool = False, default_error: ErrorCallback | None = None
    ) -> None:
        super().__init__(parent)
        self._synchronous = synchronous
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="carbot-db")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="carbot-work")
        self._pending = 0
        self._closed = False
        self._default_error = default_error
        self.finished.connect(self._deliver)

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
        *,
        uses_db: bool = True,
    ) -> Future[Any]:
        """Run ``fn`` in the background; callbacks run on the GUI thread.

        After ``shutdown`` (window closing) the work is dropped and a cancelled future returned: a view's
        timer that fires once more while the window closes must not raise into Qt's event loop.
        """
        if self._closed:
            dropped: Future[Any] = Future()
            dropped.cancel()
            return dropped
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        if self._synchronous:
            future: Future[Any] = Future()
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - delivered to on_error like the async path
                future.set_exception(exc)
            self._deliver(future, on_done, on_error)
            return future
        future = (self._db if uses_db else self._pool).submit(fn)
        future.add_done_callback(lambda f: self.finished.emit(f, on_done, on_error))
        return future

    def _deliver(self, future: Future[Any], on_done: Callback | None, on_error: ErrorCallback | None) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        if future.cancelled():  # cancelled at shutdown: nobody is waiting for the result any more
            return
        exc = future.exception()
        if exc is not None:
            handler = on_error or self._default_error
            if handler is None:
                log.error("background task failed", exc_info=exc)
            else:
                handler(exc)
            return
        if on_done is not None:
            on_done(future.result())

    @property
    def pending(self) -> int:
        """Tasks started and not yet delivered."""
        return self._pending

    def shutdown(self) -> None:
        """Wait for running work (on app close)."""
        self._closed = True
        self._db.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
