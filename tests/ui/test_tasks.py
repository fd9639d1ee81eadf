"""The TaskRunner after the window closed: late timers must not crash the app."""

from __future__ import annotations

from ui.tasks import TaskRunner


def test_work_submitted_after_shutdown_is_dropped_not_raised(qtbot) -> None:  # noqa: ARG001 - needs a QApplication
    runner = TaskRunner()
    runner.shutdown()
    called: list[str] = []
    future = runner.run(lambda: called.append("ran"), lambda _r: called.append("done"))
    assert future.cancelled()
    assert called == [] and runner.pending == 0
