"""The webhook delivery worker: signs, sends, retries with exponential backoff, keeps the log.

``WebhookWorker.run_pending(now)`` sends every delivery that is due; ``create_app`` runs it in a
background task every ``worker_interval_seconds`` (every worker process may run it: due deliveries are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite has one writer, and a claimed delivery is
leased for ``lease_seconds`` so no other worker sends it meanwhile). Tests call it directly.

**Signature** (Stripe's scheme, docs/api.md): header ``CarBot-Signature: t=<unix seconds>,v1=<hex>``
where ``hex = HMAC-SHA256(endpoint secret, "<t>." + raw request body)``. Receivers recompute it over
the raw body, compare in constant time and reject timestamps older than five minutes (replays).
Other headers: ``CarBot-Event`` (type), ``CarBot-Delivery`` (delivery id, stable across retries),
``CarBot-Event-Id`` (event id: de-duplicate on it; delivery is at least once).

**Retries.** Any answer other than 2xx (redirects too: they are never followed), a timeout or a refused
address counts as a failed attempt. Attempt ``n`` failed → next try after ``min(backoff_max,
backoff_base · 2^(n-1))`` plus up to ``jitter`` of that; after ``max_attempts`` the delivery is
``failed``. Deliveries of removed endpoints or of organisations without ``public_api`` are
``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import socket
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.plans import Feature
from sync.server.db import ServerDatabase
from sync.server.models import Clock
from sync.server.plans_gate import plan_state
from sync.server.webhooks import address_allowed
from sync.server.webhooks_models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "CarBot-Signature"
USER_AGENT = "CarBot-Webhooks/1"
Resolver = Callable[[str, int], Sequence[str]]


class WebhookSettings(BaseSettings):
    """``CARBOT_WEBHOOK_*`` variables; the defaults are the production values."""

    model_config = SettingsConfigDict(env_prefix="CARBOT_WEBHOOK_", extra="ignore", frozen=True)

    # Development and tests only: accept http://127.0.0.1, http://[::1] and http://localhost targets.
    allow_local_http: bool = False
    worker_interval_seconds: float = Field(default=5.0, ge=0)  # 0: no background worker
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    max_attempts: int = Field(default=10, ge=1, le=30)
    backoff_base_seconds: float = Field(default=60.0, gt=0)
    backoff_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    jitter: float = Field(default=0.1, ge=0, le=1)
    batch_size: int = Field(default=50, ge=1, le=1000)
    lease_seconds: float = Field(default=120.0, gt=0)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``CarBot-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """Check a ``CarBot-Signature`` header as a receiver should (reference implementation, tested)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    url: str
    secret: str
    payload: dict[str, Any]
    event_id: str
    event_type: str
    attempts: int


@dataclass
class DeliveryReport:
    """What one ``run_pending`` did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


class _Refused(Exception):
    """The target address is not allowed (private network, loopback, ...)."""


class WebhookWorker:
    """Sends due deliveries of every organisation (one per app; thread-safe per call)."""

    def __init__(self, db: ServerDatabase, settings: WebhookSettings | None = None, *,
                 transport: httpx.BaseTransport | None = None, resolver: Resolver = system_resolver,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        self.db = db
        self.settings = settings or WebhookSettings()
        self.resolver = resolver
        self.rng = rng or random.Random()
        self._stopping = threading.Event()
        # No keep-alive: connections go to vetted IP addresses, and a pooled TLS connection opened for one
        # host name must never carry a request for another name that resolves to the same address.
        self.http = httpx.Client(transport=transport, timeout=self.settings.timeout_seconds, follow_redirects=False,
                                 headers={"User-Agent": USER_AGENT},
                                 limits=httpx.Limits(max_keepalive_connections=0))  # fmt: skip

    def stop(self) -> None:
        """Let a running ``run_pending`` end after the delivery it is sending (shutdown)."""
        self._stopping.set()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.stop()
        self.http.close()

    def backoff(self, attempts: int) -> dt.timedelta:
        """The pause after the ``attempts``-th failed attempt."""
        s = self.settings
        seconds = min(s.backoff_max_seconds, s.backoff_base_seconds * 2 ** min(attempts - 1, 30))
        return dt.timedelta(seconds=seconds * (1 + s.jitter * self.rng.random()))

    def run_pending(self, now: dt.datetime) -> DeliveryReport:
        """Send every delivery due at ``now``; returns what happened."""
        report = DeliveryReport()
        while not self._stopping.is_set():
            jobs = self._claim(now, report)
            for job in jobs:
                if self._stopping.is_set():
                    break  # its lease runs out and another worker (or the next start) sends it
                self._finish(job, self._send(job, now), now, report)
            if len(jobs) < self.settings.batch_size:
                break
        return report

    def _claim(self, now: dt.datetime, report: DeliveryReport) -> list[_Job]:
        """Lease up to ``batch_size`` due deliveries; cancel those that must not be sent any more."""
        lease = now + dt.timedelta(seconds=self.settings.lease_seconds)
        jobs: list[_Job] = []
        with self.db.unit() as session:
            rows = session.execute(
                select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_try_at <= now)
                .order_by(WebhookDelivery.next_try_at, WebhookDelivery.id)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            allowed: dict[str, bool] = {}
            for delivery, endpoint, event in rows:
                org = delivery.organization_id
                if org not in allowed:
                    allowed[org] = Feature.PUBLIC_API in plan_state(session, org).features(now)
                if endpoint.deleted_at is not None or not allowed[org]:
                    reason = "Empfänger entfernt." if endpoint.deleted_at else "Tarif ohne öffentliche API."
                    delivery.status, delivery.next_try_at, delivery.last_error = "cancelled", None, reason
                    report.cancelled += 1
                    continue
                delivery.next_try_at = lease
                jobs.append(_Job(delivery.id, endpoint.url, endpoint.secret, event.payload, event.id, event.type,
                                 delivery.attempts))  # fmt: skip
        return jobs

    def _target(self, url: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL with the host replaced by a vetted address, the Host header and the TLS server name."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        local = self.settings.allow_local_http
        try:
            addresses = list(self.resolver(host, port))
        except OSError as exc:
            raise _Refused(f"Adresse nicht auflösbar ({type(exc).__name__}).") from exc
        if not addresses or not all(address_allowed(a, allow_local=local) for a in addresses):
            raise _Refused("Zieladresse nicht erlaubt (kein öffentliches Netz).")
        address = addresses[0]
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return pinned, {"Host": host_header}, extensions

    def _send(self, job: _Job, now: dt.datetime) -> tuple[int | None, str]:
        """POST the event; (status code or None, error text or "")."""
        body = json.dumps(job.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        try:
            url, headers, extensions = self._target(job.url)
        except _Refused as exc:
            return None, str(exc)
        headers |= {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(job.secret, body, int(now.timestamp())),
            "CarBot-Event": job.event_type,
            "CarBot-Event-Id": job.event_id,
            "CarBot-Delivery": job.delivery_id,
        }
        try:
            response = self.http.post(url, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return None, "Zeitüberschreitung."
        except httpx.HTTPError as exc:
            return None, f"Keine Verbindung ({type(exc).__name__})."
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}"

    def _finish(self, job: _Job, outcome: tuple[int | None, str], now: dt.datetime, report: DeliveryReport) -> None:
        status_code, error = outcome
        with self.db.unit() as session:
            delivery = session.get(WebhookDelivery, job.delivery_id)
            if delivery is None or delivery.status != "pending":
                return  # cancelled meanwhile (endpoint removed)
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status_code = status_code
            delivery.last_error = error[:500]
            if not error:
                delivery.status, delivery.delivered_at, delivery.next_try_at = "delivered", now, None
                report.delivered += 1
            elif delivery.attempts >= self.settings.max_attempts:
                delivery.status, delivery.next_try_at = "failed", None
                report.failed += 1
            else:
                delivery.next_try_at = now + self.backoff(delivery.attempts)
                report.retrying += 1
        log.info("webhook delivery %s attempt %d: %s", job.delivery_id, job.attempts + 1, error or status_code)


def pending_count(session: Session) -> int:
    """Deliveries still waiting (diagnostics and tests)."""
    return len(session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")).all())


async def _loop(worker: WebhookWorker, clock: Clock, interval: float, stop: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            return
        try:
            await run_in_threadpool(worker.run_pending, clock())
        except Exception as exc:  # the loop must survive a database hiccup; the next round retries
            log.error("webhook worker round failed: %s", type(exc).__name__, exc_info=exc)


@contextlib.asynccontextmanager
async def run_worker(worker: WebhookWorker, clock: Clock) -> AsyncIterator[None]:
    """Run ``worker.run_pending`` every ``worker_interval_seconds`` while the app lives (0: never)."""
    interval = worker.settings.worker_interval_seconds
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(worker, clock, interval, stop)) if interval > 0 else None
    try:
        yield
    finally:
        # No task.cancel(): a cancelled await would leave the worker thread running against a database
        # that is being closed. The worker stops after its current delivery, and we wait for that.
        worker.stop()
        stop.set()
        if task is not None:
            await task
