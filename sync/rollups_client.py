"""The desktop side of ``GET /v1/rollups``: the organisation's figures per location or per day.

The figures are computed on the server only (chat-sync-auth-billing.md §3.3); this module fetches and
parses them into frozen dataclasses with ``Decimal`` amounts. It reuses a ``SyncClient``'s HTTP
connection (server address, transport, timeout) by composition and never imports the server.

Who may see them: owners and auditors, not desktops (a device token gets 403), because a counter
desktop must not show the whole company's revenue. ``OwnerLogin`` therefore logs in as the person
(e-mail and password, like ``carbot sync register``), keeps the access token in memory only and logs
out again in ``close``; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import httpx

from sync.client import SyncClient
from sync.errors import SyncAuthError, SyncError, from_response, wrap

Group = Literal["location", "day"]
MONEY = ("net_total", "tax_total", "gross_total", "altteil_tax", "aw_sold", "labour_net", "parts_net", "other_net")
COUNTS = ("invoice_count", "storno_count", "new_customers", "appointments", "chats", "leads", "days_reported")


class TokenSource(Protocol):
    """Anything that hands out an access token (``OwnerLogin``; a device's ``DeviceSession`` fits too)."""

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """A valid access token."""


class OwnerLogin:
    """Access tokens of a person (owner or auditor), from e-mail and password; memory only."""

    def __init__(self, email: str, password: str) -> None:
        self._email = email
        self._password = password
        self._access: str | None = None
        self._refresh: str | None = None

    def access_token(self, http: httpx.Client, *, force_refresh: bool = False) -> str:
        """Log in (again) when there is no token yet or the server refused the last one."""
        if self._access is None or force_refresh:
            try:
                response = http.post("/v1/auth/login", json={"email": self._email, "password": self._password})
            except httpx.HTTPError as exc:
                raise wrap(exc) from exc
            if response.status_code == 401:
                raise SyncAuthError("E-Mail-Adresse oder Passwort ist falsch.", status=401)
            if response.is_error:
                raise from_response(response)
            body = response.json()
            self._access, self._refresh = str(body["access_token"]), str(body["refresh_token"])
        return self._access

    def close(self, http: httpx.Client) -> None:
        """End the person's session on the server (best effort: the token expires anyway)."""
        if self._access is None:
            return
        try:
            http.post("/v1/auth/logout", json={"refresh_token": self._refresh},
                      headers={"Authorization": f"Bearer {self._access}"})  # fmt: skip
        except httpx.HTTPError:
            pass
        self._access = self._refresh = None


@dataclass(frozen=True)
class RateFigures:
    """Revenue of one VAT rate."""

    vat_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Figures:
    """Summed daily facts (see ``sync.protocol.DailyFacts`` for the meaning of every field)."""

    revenue: tuple[RateFigures, ...]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    altteil_tax: Decimal
    aw_sold: Decimal
    labour_net: Decimal
    parts_net: Decimal
    other_net: Decimal
    invoice_count: int
    storno_count: int
    new_customers: int
    appointments: int
    chats: int
    leads: int
    days_reported: int


@dataclass(frozen=True)
class RollupGroup:
    """The figures of one location or one day."""

    location_id: str | None
    location_name: str | None
    date: dt.date | None
    figures: Figures


@dataclass(frozen=True)
class Rollup:
    """The answer of ``GET /v1/rollups``."""

    date_from: dt.date
    date_to: dt.date
    group: Group
    location_ids: tuple[str, ...]
    total: Figures
    groups: tuple[RollupGroup, ...]


def _figures(data: dict[str, Any]) -> Figures:
    revenue = tuple(
        RateFigures(Decimal(r["vat_rate"]), Decimal(r["net"]), Decimal(r["tax"]), Decimal(r["gross"]))
        for r in data["revenue"]
    )
    values: dict[str, Any] = {name: Decimal(data[name]) for name in MONEY}
    values |= {name: int(data[name]) for name in COUNTS}
    return Figures(revenue=revenue, **values)


def parse_rollup(data: dict[str, Any]) -> Rollup:
    """The dataclasses of a ``GET /v1/rollups`` JSON answer (amounts exact, as ``Decimal``)."""
    groups = tuple(
        RollupGroup(
            location_id=g.get("location_id"),
            location_name=g.get("location_name"),
            date=dt.date.fromisoformat(g["date"]) if g.get("date") else None,
            figures=_figures(g["figures"]),
        )
        for g in data["groups"]
    )
    return Rollup(
        date_from=dt.date.fromisoformat(data["date_from"]),
        date_to=dt.date.fromisoformat(data["date_to"]),
        group=data["group"],
        location_ids=tuple(data["location_ids"]),
        total=_figures(data["total"]),
        groups=groups,
    )


def fetch_rollups(
    client: SyncClient,
    credentials: TokenSource,
    date_from: dt.date,
    date_to: dt.date,
    *,
    group: Group = "location",
    location_id: str | None = None,
) -> Rollup:
    """``GET /v1/rollups`` over ``client``'s connection with ``credentials``' token (401: one retry)."""
    params = {"from": date_from.isoformat(), "to": date_to.isoformat(), "group": group}
    if location_id:
        params["location_id"] = location_id
    for attempt in range(2):
        token = credentials.access_token(client.http, force_refresh=attempt > 0)
        try:
            response = client.http.get("/v1/rollups", params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise wrap(exc) from exc
        if response.status_code == 401 and attempt == 0:
            continue
        if response.status_code == 403:
            detail = str(response.json().get("detail", "")) if response.content else ""
            raise SyncError("Der Server verweigert die Kennzahlen: {detail}", status=403, detail=detail)
        if response.is_error:
            raise from_response(response)
        return parse_rollup(response.json())
    raise SyncAuthError("Der Server lehnt die Anmeldung ab.", status=401)


class RollupsClient:
    """``SyncClient`` plus roll-ups: ``RollupsClient(sync_client, OwnerLogin(email, password)).rollups(...)``."""

    def __init__(self, client: SyncClient, credentials: TokenSource) -> None:
        self.client = client
        self.credentials = credentials

    def rollups(self, date_from: dt.date, date_to: dt.date, *, group: Group = "location",
                location_id: str | None = None) -> Rollup:  # fmt: skip
        """The organisation's figures of ``date_from``..``date_to`` (both inclusive)."""
        return fetch_rollups(self.client, self.credentials, date_from, date_to, group=group, location_id=location_id)

    def close(self) -> None:
        """Log the person out (if ``OwnerLogin``); the SyncClient stays open for its owner."""
        if isinstance(self.credentials, OwnerLogin):
            self.credentials.close(self.client.http)
