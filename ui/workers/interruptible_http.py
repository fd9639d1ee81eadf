"""An httpx transport whose requests can be cut off from another thread (for long polls on app close).

The in-app chat agent waits up to 20 s in ``GET /v1/chat/agent/tasks``. ``httpx.Client.close()`` from the
GUI thread does not wake a thread blocked in that read (on Linux a ``close()`` of the socket leaves a
``recv()`` in another thread waiting until its timeout), but ``socket.shutdown()`` does. This transport
keeps the sockets it opened (an ``httpcore`` network backend, public API) and ``interrupt()`` shuts them
down: the blocked request fails at once with an ``httpx.TransportError`` (the agent's ``SyncUnavailable``)
and every later request fails before it connects.

Only for small JSON answers: the body is read completely inside ``handle_request``.
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class _TrackingBackend(httpcore.SyncBackend):
    """The default socket backend, remembering every stream so ``interrupt`` can shut it down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: weakref.WeakSet[httpcore.NetworkStream] = weakref.WeakSet()
        self.interrupted = False

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect (refused once interrupted) and remember the stream."""
        if self.interrupted:
            raise httpcore.ConnectError("the connection was closed by the application")
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        with self._lock:
            self._streams.add(stream)
            if not self.interrupted:
                return stream
        _shutdown(stream)  # interrupted while connecting: nobody else will ever own this socket
        stream.close()
        raise httpcore.ConnectError("the connection was closed by the application")

    def interrupt(self) -> None:
        """Shut down every open socket (wakes threads blocked reading them) and refuse new ones."""
        with self._lock:
            self.interrupted = True
            streams = list(self._streams)
        for stream in streams:
            _shutdown(stream)


def _shutdown(stream: httpcore.NetworkStream) -> None:
    sock = stream.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed or never connected: nothing to wake
        pass


class InterruptibleTransport(httpx.BaseTransport):
    """HTTP/1.1 over an ``httpcore`` pool (TLS verified with httpx's defaults); ``interrupt()`` cuts it off."""

    def __init__(self, *, verify: bool = True) -> None:
        self._backend = _TrackingBackend()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            network_backend=self._backend,
            max_connections=4,
            max_keepalive_connections=2,
            keepalive_expiry=5.0,
        )

    @property
    def interrupted(self) -> bool:
        """True after ``interrupt()``."""
        return self._backend.interrupted

    def interrupt(self) -> None:
        """Fail the running request at once and every later one (any thread)."""
        self._backend.interrupt()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole answer; httpcore errors become the matching httpx errors."""
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,  # a SyncByteStream: an Iterable[bytes]
            extensions=request.extensions,
        )
        try:
            response = self._pool.handle_request(core)
            try:
                content = b"".join(response.iter_stream())
            finally:
                response.close()
        except httpcore.TimeoutException as exc:
            raise _httpx_error(exc, httpx.TimeoutException, request) from exc
        except (
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.ProxyError,
            httpcore.UnsupportedProtocol,
        ) as exc:
            raise _httpx_error(exc, httpx.TransportError, request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=httpx.ByteStream(content),
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def _httpx_error(exc: Exception, fallback: type[httpx.TransportError], request: httpx.Request) -> httpx.TransportError:
    """The httpx exception of the same name (httpx mirrors httpcore's names: ReadTimeout, ConnectError, …)."""
    cls = getattr(httpx, type(exc).__name__, fallback)
    if not (isinstance(cls, type) and issubclass(cls, httpx.TransportError)):
        cls = fallback
    return cls(str(exc) or type(exc).__name__, request=request)
