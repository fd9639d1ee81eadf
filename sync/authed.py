"""One authenticated request to the hosted API, shared by the sync, chat and billing clients.

The access token comes from a token source (a device session or the owner's login); when the server
answers 401 the token is refreshed once and the request repeated – an access token lives only minutes,
so an expired one is normal, not an error. Each client maps failures to its own error family: the line
or server gone (``offline``) and an error answer (``error``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx

from sync.errors import SyncAuthError


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
