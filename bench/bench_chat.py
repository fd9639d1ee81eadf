"""The web chat under load, and the widget's size.

1. 200 concurrent widget conversations against ONE ``uvicorn`` server process (embedded SQLite), answered
   by the server's built-in assistant (no desktop online) from a demo workshop's public profile. Every
   visitor (its own client IP via ``X-Forwarded-For``, as behind the reverse proxy) opens a session and
   its SSE stream, then sends ``MESSAGES`` questions (prices, durations, opening hours) with a random think
   time. Round trip = ``POST /v1/widget/messages`` sent → the bot's ``message`` event arrived on that
   visitor's stream. Baseline: ``/healthz`` round trips sampled against the same server at the same time.
   Goal: p95 ≤ 100 ms; answers that never arrive count as misses (goal: none).
2. widget.js + frame.html + frame.js + frame.css gzipped (level 6, each as served) vs the 30 KB budget.

``python -m bench chat`` (the server needs the ``server`` extra).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.chat import build_profile
from app.demo import create_demo
from app.services.registry import Services
from bench.bench_sync import ServerProcess, _devices
from bench.common import Result, percentile

CONVERSATIONS = 200
MESSAGES = 3
THINK_SECONDS = (4.0, 12.0)
ANSWER_TIMEOUT = 15.0
HEALTH_INTERVAL = 0.05
ORIGIN = "https://www.huber-kfz.example"
QUESTIONS = (
    "Was kostet ein Ölwechsel?",
    "Wie lange dauert ein Reifenwechsel?",
    "Wann haben Sie geöffnet?",
    "Was kostet eine Inspektion?",
    "Was kostet die HU/AU?",
    "Hallo!",
)
WIDGET = Path(__file__).resolve().parents[1] / "resources" / "widget"
ASSETS = ("widget.js", "frame.html", "frame.js", "frame.css")
BUDGET_KB = 30.0


def _assets_kb() -> float:
    return sum(len(gzip.compress((WIDGET / name).read_bytes(), compresslevel=6)) for name in ASSETS) / 1024


def _setup(server: ServerProcess, folder: Path) -> str:
    """A location with a device that uploaded a demo workshop's public profile; returns the widget key."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        (_device_id, _location_id, token) = _devices(http, 1)[0]
        device = {"Authorization": f"Bearer {token}"}
        services = Services.open(folder / "werkstatt.db")
        try:
            create_demo(services, today=dt.date.today(), customers=10, vehicles=10, history_weeks=0)
            profile = build_profile(services, now=dt.datetime.now(dt.UTC))
        finally:
            services.close()
        http.put("/v1/chat/profile", json={"profile": profile.to_dict()}, headers=device).raise_for_status()
        widget = http.get("/v1/chat/widget", headers=device).raise_for_status().json()
    return str(widget["public_key"])


class _Visitor:
    """One browser: a session, its event stream and its questions."""

    def __init__(self, client: httpx.AsyncClient, key: str, number: int) -> None:
        self.client = client
        self.key = key
        self.headers = {
            "X-Forwarded-For": f"10.{number // 250}.{number % 250}.7",
            "Origin": ORIGIN,
            "Referer": ORIGIN + "/",
        }
        self.bot_messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.connected = asyncio.Event()

    async def _listen(self, token: str) -> None:
        async with self.client.stream(
            "GET", "/v1/widget/events", params={"token": token}, headers=self.headers, timeout=None
        ) as response:
            response.raise_for_status()
            self.connected.set()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "message":
                    message = json.loads(line[5:])["message"]
                    if message["author"] in ("bot", "system"):
                        await self.bot_messages.put(message)

    async def talk(self, round_trips: list[float], misses: list[str]) -> None:
        session = await self.client.post(
            "/v1/widget/session",
            json={"location_key": self.key, "consent": True, "language": "de"},
            headers=self.headers,
        )
        session.raise_for_status()
        token = session.json()["token"]
        auth = self.headers | {"Authorization": f"Bearer {token}"}
        listener = asyncio.create_task(self._listen(token))
        try:
            await asyncio.wait_for(self.connected.wait(), ANSWER_TIMEOUT)
            for _ in range(MESSAGES):
                await asyncio.sleep(random.uniform(*THINK_SECONDS))  # noqa: S311 - think time, not security
                body = {"client_id": str(uuid.uuid4()), "text": random.choice(QUESTIONS)}  # noqa: S311
                started = time.perf_counter()
                sent = await self.client.post("/v1/widget/messages", json=body, headers=auth)
                if sent.is_error:
                    misses.append(f"{sent.status_code} {sent.text[:120]}")
                    continue
                try:
                    await asyncio.wait_for(self.bot_messages.get(), ANSWER_TIMEOUT)
                except TimeoutError:
                    misses.append("no answer")
                    continue
                round_trips.append((time.perf_counter() - started) * 1000)
        finally:
            listener.cancel()


async def _health(client: httpx.AsyncClient, stop: asyncio.Event, samples: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        (await client.get("/healthz")).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(HEALTH_INTERVAL)


async def _load(url: str, key: str) -> tuple[list[float], list[float], list[str]]:
    round_trips: list[float] = []
    health: list[float] = []
    misses: list[str] = []
    limits = httpx.Limits(max_connections=4 * CONVERSATIONS, max_keepalive_connections=2 * CONVERSATIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        stop = asyncio.Event()
        sampler = asyncio.create_task(_health(client, stop, health))

        async def visitor(number: int) -> None:
            await asyncio.sleep(number * 0.01)  # arrive over two seconds, not all in one millisecond
            try:
                await _Visitor(client, key, number).talk(round_trips, misses)
            except (httpx.HTTPError, TimeoutError) as exc:
                misses.append(f"visitor {number}: {type(exc).__name__} {exc}")

        await asyncio.gather(*(visitor(n) for n in range(CONVERSATIONS)))
        stop.set()
        await sampler
    return round_trips, health, misses


def _conversations(server: ServerProcess, folder: Path) -> list[Result]:
    key = _setup(server, folder)
    round_trips, health, misses = asyncio.run(_load(server.url, key))
    expected = CONVERSATIONS * MESSAGES
    p95 = percentile(round_trips, 95) if len(round_trips) > 1 else float("inf")
    baseline = percentile(health, 95) if len(health) > 1 else None
    return [
        Result(
            f"chat round trip, {CONVERSATIONS} conversations, built-in assistant (p95)",
            p95,
            "ms",
            baseline=baseline,
            goal="≤ 100 ms",
            ok=p95 <= 100.0,
        ),
        Result("chat round trip (p50)", percentile(round_trips, 50) if len(round_trips) > 1 else float("inf"), "ms"),
        Result(
            f"chat answers missing of {expected}" + (f" (first: {misses[0]})" if misses else ""),
            float(expected - len(round_trips)),
            "",
            goal="0",
            ok=len(round_trips) == expected,
        ),
    ]


def run() -> list[Result]:
    """Start a server process, run the conversations, then weigh the widget's files."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with ServerProcess(folder) as server:
            results = _conversations(server, folder)
    size = _assets_kb()
    results.append(Result("widget assets gzipped", size, "KB", goal=f"≤ {BUDGET_KB:.0f} KB", ok=size <= BUDGET_KB))
    return results
