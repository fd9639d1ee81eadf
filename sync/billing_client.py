"""The desktop's client of the subscription routes ``/v1/billing/*`` (Einstellungen → Abo).

Speaks the wire models of ``sync.protocol_billing`` with the owner's own login (``sync.owner_session``),
never a device token and never a Stripe secret: Checkout and the customer portal are Stripe-hosted pages
whose URL the server returns; the UI opens them in the browser. Every POST carries an
``Idempotency-Key`` (a UUID of the operation; pass the same key to retry the same operation).

Errors are German ``SyncError``s the Abo page shows as they are::

    BillingError               anything the server refused
     ├── BillingNotConfigured  503: the server has no Stripe configuration
     ├── BillingForbidden      403: not the owner (auditors and staff may not change the subscription)
     ├── BillingConflict       409: e.g. a downgrade to a plan with fewer locations than the organisation has
     └── BillingOffline        no connection, timeout, 429 or another 5xx: try again later

A refused login (401 after one refresh) is ``SyncAuthError`` (log in again). Qt-free; thread-safe as
far as httpx and ``OwnerSession`` are (the UI calls it from worker threads).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from app.i18n import N_
from sync.authed import authed_request
from sync.errors import SyncAuthError, SyncError, SyncUnavailable
from sync.owner_session import SESSION_EXPIRED, OwnerSession
from sync.protocol_billing import (
    PAYMENTS_NOT_CONFIGURED,
    BillingOverview,
    ChangeIn,
    CheckoutIn,
    Interval,
    PlanIdWire,
    UrlOut,
)

Wire = TypeVar("Wire", BillingOverview, UrlOut)
DEFAULT_TIMEOUT = 20.0
BASE = "/v1/billing"
OFFLINE = N_("Keine Verbindung zum CarBot-Server. Das Abo kann nur mit Internetverbindung verwaltet werden.")


class BillingError(SyncError):
    """The server refused a subscription request (German message)."""


class BillingNotConfigured(BillingError):
    """503: the server cannot take payments (no Stripe configuration)."""


class BillingForbidden(BillingError):
    """403: the account may not do this (only the owner changes the subscription)."""


class BillingConflict(BillingError):
    """409: the change is not possible in the organisation's current state (e.g. the location limit)."""


class BillingOffline(BillingError):
    """The server cannot be reached right now, or is overloaded."""


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def billing_error(response: httpx.Response) -> SyncError:
    """The German error for an error answer of a billing route."""
    status = response.status_code
    body = _body(response)
    detail = str(body.get("detail") or response.reason_phrase or status)
    if status == 503 and (body.get("code") == "billing_not_configured" or detail == PAYMENTS_NOT_CONFIGURED):
        return BillingNotConfigured(PAYMENTS_NOT_CONFIGURED, status=status)
    if status == 401:
        return SyncAuthError(SESSION_EXPIRED, status=status)
    if status == 403:
        return BillingForbidden(N_("Keine Berechtigung für das Abo: {detail}"), status=status, detail=detail)
    if status == 409:
        return BillingConflict(N_("Der Tarifwechsel ist nicht möglich: {detail}"), status=status, detail=detail)
    if status == 429 or status >= 500:
        return BillingOffline(
            N_("Der CarBot-Server ist vorübergehend nicht verfügbar ({status}). Bitte später erneut versuchen."),
            status=status,
        )
    return BillingError(N_("Der Server hat die Anfrage abgelehnt ({status}): {detail}"), status=status, detail=detail)


def _offline(exc: httpx.HTTPError) -> BillingOffline:
    if isinstance(exc, httpx.TimeoutException):
        return BillingOffline(
            N_("Der CarBot-Server antwortet nicht (Zeitüberschreitung). Bitte später erneut versuchen.")
        )
    return BillingOffline(OFFLINE)


class BillingClient:
    """``/v1/billing/*`` as the logged-in owner (or auditor: read only)."""

    def __init__(
        self,
        session: OwnerSession,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.session = session
        self.http = httpx.Client(base_url=session.server_url, transport=transport, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> BillingClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- HTTP ------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, body: BaseModel | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """One authenticated request; a 401 refreshes the owner's access token once and retries."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        content = body.model_dump_json() if body is not None else None
        response = authed_request(
            self.http,
            self.session,
            method,
            BASE + path,
            offline=_offline,
            error=billing_error,
            offline_errors=(httpx.HTTPError, SyncUnavailable),  # SyncUnavailable: the token refresh found no line
            headers=headers,
            content=content,
        )
        return _body(response)

    @staticmethod
    def _parse(model: type[Wire], data: dict[str, Any]) -> Wire:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise BillingError(
                N_("Die Antwort des Servers passt nicht zu dieser CarBot-Version. Bitte CarBot aktualisieren.")
            ) from exc

    # --- routes ----------------------------------------------------------------------------------

    def overview(self) -> BillingOverview:
        """``GET /v1/billing/subscription``: plan, status, usage, invoices and the plan table."""
        return self._parse(BillingOverview, self._request("GET", "/subscription"))

    def checkout(
        self, plan_id: PlanIdWire, interval: Interval, *, trial: bool = True, idempotency_key: str | None = None
    ) -> str:
        """``POST /v1/billing/checkout``: the URL of a Stripe Checkout page (owner only)."""
        self.session.require_owner()
        body = CheckoutIn(plan_id=plan_id, interval=interval, trial=trial)
        return self._parse(UrlOut, self._request("POST", "/checkout", body=body, idempotency_key=idempotency_key)).url

    def change(self, plan_id: PlanIdWire, interval: Interval, *, idempotency_key: str | None = None) -> BillingOverview:
        """``POST /v1/billing/change``: upgrade now (prorated) or downgrade at the end of the period (owner only)."""
        self.session.require_owner()
        body = ChangeIn(plan_id=plan_id, interval=interval)
        return self._parse(
            BillingOverview, self._request("POST", "/change", body=body, idempotency_key=idempotency_key)
        )

    def cancel(self, *, idempotency_key: str | None = None) -> BillingOverview:
        """``POST /v1/billing/cancel``: cancel at the end of the period (owner only)."""
        self.session.require_owner()
        return self._parse(BillingOverview, self._request("POST", "/cancel", idempotency_key=idempotency_key))

    def resume(self, *, idempotency_key: str | None = None) -> BillingOverview:
        """``POST /v1/billing/resume``: take a cancellation back before the period ends (owner only)."""
        self.session.require_owner()
        return self._parse(BillingOverview, self._request("POST", "/resume", idempotency_key=idempotency_key))

    def portal(self, *, idempotency_key: str | None = None) -> str:
        """``POST /v1/billing/portal``: the URL of the Stripe customer portal (owner only)."""
        self.session.require_owner()
        return self._parse(UrlOut, self._request("POST", "/portal", idempotency_key=idempotency_key)).url
