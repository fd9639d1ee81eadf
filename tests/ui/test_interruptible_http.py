"""The interruptible transport of the in-app chat agent never leaves a socket open behind it."""

from __future__ import annotations

import socket
from typing import Any

import httpcore
import pytest

from ui.workers.interruptible_http import _TrackingBackend


def test_a_connection_interrupted_while_it_was_made_is_closed(monkeypatch: pytest.MonkeyPatch):
    listener = socket.create_server(("127.0.0.1", 0))
    backend = _TrackingBackend()
    made: list[Any] = []
    connect = httpcore.SyncBackend.connect_tcp

    def connect_and_get_interrupted(self: Any, *args: Any, **kwargs: Any) -> Any:
        stream = connect(self, *args, **kwargs)
        made.append(stream)
        backend.interrupted = True  # the app closes while the connection is being made
        return stream

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_and_get_interrupted)
    try:
        with pytest.raises(httpcore.ConnectError):
            backend.connect_tcp("127.0.0.1", listener.getsockname()[1], timeout=2)
        [stream] = made
        assert stream.get_extra_info("socket").fileno() == -1  # closed, not only shut down
    finally:
        listener.close()
