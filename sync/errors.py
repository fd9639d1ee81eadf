"""Errors of the desktop's sync client, with German messages (they are ``WorkshopError``s, so the CLI and the
GUI show them like every domain error)::

    SyncError                 anything that stopped a sync round
     ├── SyncAuthError        401/403: the device must be registered again (or was removed)
     ├── SyncConflict         409: the server refused the request as a whole
     │    └── BotMuted        409 ``bot_muted``: the chat left the bot's hands (staff took over)
     ├── PlanRequired         403 ``plan_required``: the plan lacks the feature (e.g. the chat widget)
     ├── SyncUnavailable      no connection, timeout, 429 or 5xx: try again later (offline mode)
     └── CursorExpired        410 Gone: the pull cursor is too old; the client does a full resync

``wrap(exc)`` turns httpx's ``TransportError`` and ``HTTPStatusError`` into the right class (the httpx
error stays attached as ``__cause__``).
"""

from __future__ import annotations

from typing import Any

import httpx

from app.errors import WorkshopError


class SyncError(WorkshopError):
    """A sync round failed; ``status`` is the HTTP status when the server answered."""

    def __init__(self, message_id: str, *, status: int | None = None, **params: Any) -> None:
        super().__init__(message_id, status=status, **params)  # ``{status}`` may appear in the message
        self.status = status


class SyncAuthError(SyncError):
    """The server does not accept this device's credentials (any more)."""


class SyncConflict(SyncError):
    """The server refused the request because of a conflicting state."""


class BotMuted(SyncConflict):
    """The web chat is no longer the bot's (staff took over, or the message was answered already)."""


class PlanRequired(SyncError):
    """The organisation's plan does not include the feature the request needs."""


class SyncUnavailable(SyncError):
    """The server cannot be reached right now (offline, timeout, overload, maintenance)."""


class CursorExpired(SyncError):
    """The pull cursor is older than the server's retention: a full resync is needed."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or str(response.status_code)
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else response.reason_phrase or str(response.status_code)


def from_response(response: httpx.Response) -> SyncError:
    """The sync error for an error answer of the server."""
    status = response.status_code
    detail = _detail(response)
    if status in (401, 403):
        return SyncAuthError(
            "Der Server lehnt die Anmeldung dieses Arbeitsplatzes ab ({detail}). Bitte mit „carbot sync register“ "
            "neu anmelden.",
            status=status,
            detail=detail,
        )
    if status == 409:
        return SyncConflict("Der Server meldet einen Konflikt: {detail}", status=status, detail=detail)
    if status == 410:
        return CursorExpired(
            "Der Synchronisationsstand ist veraltet; es folgt ein vollständiger Abgleich.", status=status
        )
    if status == 429 or status >= 500:
        return SyncUnavailable(
            "Der Server ist vorübergehend nicht verfügbar ({status}). Die Änderungen bleiben gespeichert und werden "
            "später übertragen.",
            status=status,
        )
    return SyncError("Der Server hat die Anfrage abgelehnt ({status}): {detail}", status=status, detail=detail)


def wrap(exc: httpx.HTTPError) -> SyncError:
    """A SyncError for any httpx error (``raise wrap(exc) from exc``)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return from_response(exc.response)
    if isinstance(exc, httpx.TimeoutException):
        return SyncUnavailable("Der Server antwortet nicht (Zeitüberschreitung). Es wird später erneut versucht.")
    return SyncUnavailable(
        "Keine Verbindung zum Server ({reason}). Die Änderungen bleiben gespeichert und werden später übertragen.",
        reason=type(exc).__name__,
    )
