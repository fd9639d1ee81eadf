"""Errors of the hosted API and their JSON form ``{"detail": <German text>, "code": <stable id>}``.

Services raise these; ``main.install_error_handlers`` turns them into responses, so routers stay
thin and no error ever becomes a 500 with a stack trace::

    ApiError                 (status, German message id with named placeholders, code)
     ├── BadRequest          400
     ├── Unauthorized        401  missing/invalid/expired token or credentials
     ├── Forbidden           403  authenticated, but the role does not allow it
     ├── NotFound            404  also for other tenants' ids: we never confirm that they exist
     ├── Conflict            409
     ├── Unprocessable       422  a field is invalid (``field`` names it)
     ├── TooManyRequests     429  rate limit or lockout; ``retry_after`` seconds
     └── ServiceUnavailable  503  a dependency (Redis) is down and we fail closed
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from app.i18n import _


class ApiError(Exception):
    """An error with a German message id (gettext msgid) and named parameters."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, message_id: str, *, code: str | None = None, field: str = "", **params: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.code = code or self.default_code
        self.field = field
        self.params = params
        self.headers: dict[str, str] = {}

    @property
    def message(self) -> str:
        """The message in the server's language with its parameters filled in."""
        return _(self.message_id).format(**self.params)


class BadRequest(ApiError):
    """400: the request cannot be processed as sent."""


class Unauthorized(ApiError):
    """401: no valid credentials; the response carries ``WWW-Authenticate: Bearer``."""

    status_code = 401
    default_code = "unauthorized"

    def __init__(self, message_id: str = "Bitte melden Sie sich an.", **kwargs: Any) -> None:
        super().__init__(message_id, **kwargs)
        self.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(ApiError):
    """403: the caller is known but may not do this."""

    status_code = 403
    default_code = "forbidden"

    def __init__(self, message_id: str = "Dafür fehlt Ihnen die Berechtigung.", **kwargs: Any) -> None:
        super().__init__(message_id, **kwargs)


class NotFound(ApiError):
    """404: unknown, or belongs to another organisation (indistinguishable on purpose)."""

    status_code = 404
    default_code = "not_found"

    def __init__(self, message_id: str = "Nicht gefunden.", **kwargs: Any) -> None:
        super().__init__(message_id, **kwargs)


class Conflict(ApiError):
    """409: a unique value is taken or the state does not allow it."""

    status_code = 409
    default_code = "conflict"


class Unprocessable(ApiError):
    """422: a field value is not acceptable."""

    status_code = 422
    default_code = "invalid"


class TooManyRequests(ApiError):
    """429: rate limit or temporary lockout."""

    status_code = 429
    default_code = "too_many_requests"

    def __init__(self, message_id: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message_id, **kwargs)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class ServiceUnavailable(ApiError):
    """503: a backing service failed and the check fails closed."""

    status_code = 503
    default_code = "unavailable"

    def __init__(
        self,
        message_id: str = "Der Dienst ist vorübergehend nicht erreichbar. Bitte gleich erneut versuchen.",
        **kw: Any,
    ) -> None:
        super().__init__(message_id, **kw)
        self.headers = {"Retry-After": "5"}


class ErrorBody(BaseModel):
    """The JSON body of every error response."""

    detail: str
    code: str


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ValidationErrorBody(ErrorBody):
    """The JSON body of a 422 response."""

    errors: list[FieldProblem] = []


# Documented on every router, so /openapi.json describes the error bodies we really send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Anfrage nicht lesbar (z. B. kein UTF-8)"},
    401: {"model": ErrorBody, "description": "Nicht angemeldet oder Token ungültig"},
    403: {"model": ErrorBody, "description": "Keine Berechtigung"},
    404: {"model": ErrorBody, "description": "Nicht gefunden (auch für Daten anderer Organisationen)"},
    409: {"model": ErrorBody, "description": "Konflikt (z. B. E-Mail-Adresse schon registriert)"},
    422: {"model": ValidationErrorBody, "description": "Ungültige Eingabe"},
    429: {"model": ErrorBody, "description": "Zu viele Anfragen"},
    503: {"model": ErrorBody, "description": "Vorübergehend nicht verfügbar"},
}
