"""Helpers of the web-chat tests: a workshop with widget key, desktop and public profile; visitors; SSE.

Everything goes through the real API (``/v1/chat/*`` as the desktop, ``/v1/widget/*`` as the browser's
iframe). ``SseReader`` reads a live ``text/event-stream`` from a real uvicorn server in a thread.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient

from app.chat.profile import FreeInterval, PublicProfile, PublicService
from tests.server.fixtures import Tenant, bearer, register_tenant
from tests.server.plan_support import Device, register_device

T = TypeVar("T")
BERLIN = ZoneInfo("Europe/Berlin")


def sample_profile(now: dt.datetime) -> dict[str, Any]:
    """The public data of a small workshop: Ölwechsel ab 89,00 €, HU/AU, free mornings on the next days."""
    local = now.astimezone(BERLIN).replace(tzinfo=None)
    first = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(8, 0))
    free = tuple(
        FreeInterval(first + dt.timedelta(days=i), first + dt.timedelta(days=i, hours=4), "1") for i in range(5)
    )
    profile = PublicProfile(
        workshop_name="Kfz-Werkstatt Berger",
        phone="030 1234567",
        email="info@berger.example",
        address="Hauptstraße 1, 10115 Berlin",
        opening_hours=tuple((day, (("08:00", "12:00"), ("13:00", "17:00"))) for day in range(7)),
        services=(
            PublicService("OE-0001", "Ölwechsel inkl. Filter", "Wartung", Decimal("89.00"), 60),
            PublicService("HU-0001", "HU/AU", "Prüfung", Decimal("139.00"), 60),
        ),
        free_intervals=free,
        slot_minutes=30,
        generated_at=now,
    )
    return profile.to_dict()


@dataclass
class Workshop:
    """An organisation with its first location's desktop and widget key."""

    tenant: Tenant
    device: Device
    key: str

    @property
    def location_id(self) -> str:
        return self.tenant.location_id


def setup_workshop(api: TestClient, *, name: str = "Kfz-Werkstatt Berger", profile: dict[str, Any] | None = None
                   ) -> Workshop:  # fmt: skip
    """Register an organisation and a desktop, create the widget key, upload ``profile`` (if given)."""
    tenant = register_tenant(api, name=name)
    device = register_device(api, tenant, tenant.location_id)
    widget = api.get("/v1/chat/widget", headers=device.headers)
    assert widget.status_code == 200, widget.text
    if profile is not None:
        uploaded = api.put("/v1/chat/profile", json={"profile": profile}, headers=device.headers)
        assert uploaded.status_code == 204, uploaded.text
    return Workshop(tenant, device, widget.json()["public_key"])


@dataclass
class Visitor:
    """A visitor's widget session."""

    token: str
    conversation_id: str
    session: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def start_visitor(api: TestClient | httpx.Client, key: str, *, language: str = "de",
                  headers: dict[str, str] | None = None) -> Visitor:  # fmt: skip
    """Give consent and start a conversation."""
    response = api.post("/v1/widget/session", json={"location_key": key, "consent": True, "language": language},
                        headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    return Visitor(body["token"], body["conversation_id"], body)


def say(api: TestClient | httpx.Client, visitor: Visitor, text: str, client_id: str | None = None) -> dict[str, Any]:
    """Send a visitor message (asserting 201)."""
    response = api.post("/v1/widget/messages", json={"client_id": client_id or str(uuid.uuid4()), "text": text},
                        headers=visitor.headers)  # fmt: skip
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def page(api: TestClient | httpx.Client, visitor: Visitor, after: int = 0) -> dict[str, Any]:
    """``GET /v1/widget/messages?after=``."""
    response = api.get("/v1/widget/messages", params={"after": after}, headers=visitor.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def wait_until(probe: Callable[[], T | None], *, timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_author(api: TestClient | httpx.Client, visitor: Visitor, author: str, *, timeout: float = 10.0
                    ) -> dict[str, Any]:  # fmt: skip
    """The first message of ``author`` once it is there."""

    def probe() -> dict[str, Any] | None:
        return next((m for m in page(api, visitor)["messages"] if m["author"] == author), None)

    return wait_until(probe, timeout=timeout, what=f"a {author} message")


def authors(api: TestClient | httpx.Client, visitor: Visitor) -> list[str]:
    """The authors of the conversation's messages in order."""
    return [m["author"] for m in page(api, visitor)["messages"]]


class SseReader:
    """Reads a server-sent-event stream in a thread into a queue of ``(event, data)`` (comments as ``":"``)."""

    def __init__(self, url: str, params: dict[str, Any]) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.status: int | None = None
        self.ended = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=60.0))
        self._thread = threading.Thread(target=self._run, args=(url, params), daemon=True)
        self._stop = False
        self._response: httpx.Response | None = None
        self._thread.start()

    def _run(self, url: str, params: dict[str, Any]) -> None:
        try:
            with self._client.stream("GET", url, params=params, headers={"Accept": "text/event-stream"}) as resp:
                self._response = resp
                self.status = resp.status_code
                name = "message"
                for line in resp.iter_lines():
                    if self._stop:
                        break
                    if line.startswith(":"):
                        self.events.put((":", line[1:].strip()))
                    elif line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.put((name, json.loads(line[5:].strip())))
                        name = "message"
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def next(self, event: str, *, timeout: float = 10.0, where: Callable[[Any], bool] | None = None) -> Any:
        """The data of the next ``event`` (other events in between are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event within {timeout} s")
            try:
                name, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if name == event and (where is None or where(data)):
                return data

    def close(self) -> None:
        """Stop reading and close the connection."""
        self._stop = True
        if self._response is not None:
            self._response.close()  # interrupts the blocked read
        self._client.close()
        self._thread.join(5)
