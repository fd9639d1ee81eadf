"""One authenticated request to the hosted API, shared by the sync, chat and billing clients.

The access token comes from a token source (a device session or the owner's login); when the server
answers 401 the token is refreshed once and the request repeated – an access token lives only minutes,
so an expired one is normal, not an error. Each client maps failures to its own error family: the line
or server gone (``offline``) and an error answer (``error``). ``DeviceClient`` is the connection set-up the
sync and chat clients share (one connection pool per client, closed with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, Self

import httpx

from sync.errors import SyncAuthError, SyncError, from_response, wrap

DEFAULT_TIMEOUT = 15.0


class TokenSource(Protocol):
    """Anything that hands out a (possibly refreshed) access token."""

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` after the server rejected the last one."""


def authed_request(
    http: httpx.Client,
    tokens: TokenSource,
    method: str,
    url: str,
    *,
    offline: Callable[[Any], Exception],
    error: Callable[[httpx.Response], Exception],
    offline_errors: tuple[type[Exception], ...] = (httpx.TransportError,),
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """``method url`` with the bearer token; a 401 refreshes the token once and retries.

    ``offline_errors`` (raised by the request or by fetching the token) become ``offline(exc)``; an error
    status becomes ``error(response)``.
    """
    for attempt in range(2):
        try:
            token = tokens.access_token(http, force_refresh=attempt > 0)
            response = http.request(
                method, url, headers={**(headers or {}), "Authorization": f"Bearer {token}"}, **kwargs
            )
        except offline_errors as exc:
            raise offline(exc) from exc
        if response.status_code == 401 and attempt == 0:
            continue
        if response.is_error:
            raise error(response)
        return response
    raise SyncAuthError("Der Server lehnt die Anmeldung ab.", status=401)  # pragma: no cover - returns or raises


class DeviceClient:
    """An HTTP client of one hosted API that authenticates as one registered device.

    Subclasses (``SyncClient``, ``ChatClient``) add their routes and may map error answers to their own
    exceptions by overriding ``_error``.
    """

    def __init__(
        self,
        base_url: str,
        credentials: TokenSource,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def _error(response: httpx.Response) -> SyncError:
        """The exception for an error answer (the sync family by default)."""
        return from_response(response)

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> httpx.Response:
        """One authenticated request; a 401 refreshes the access token once and retries."""
        return authed_request(
            self.http,
            self.credentials,
            method,
            path,
            offline=wrap,
            error=self._error,
            timeout=timeout or self.http.timeout,
            **kwargs,
        )
