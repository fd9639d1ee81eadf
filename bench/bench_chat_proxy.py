"""The LLM proxy's overhead: a customer's message to the first token shown in the widget.

Set-up, all on loopback: a real ``carbot server`` process (uvicorn, embedded SQLite); a demo workshop's
desktop database registered as a device of the location; the desktop's answering loop
(``sync.chat_agent.ChatAgent`` with ``ConfiguredAssistants``, as ``carbot chat agent`` runs it) in its
own process, configured for the OpenAI-compatible provider at the stub ``bench.llm_stub`` in this process
(settings in a JSON file through ``LlmConfigStore``, the API key in an in-memory keyring). The stub waits
``FIRST_TOKEN_DELAY`` before the first word and ``CHUNK_DELAY`` between words.

Measured ``MESSAGES`` times in sequence, each in a NEW conversation (a fresh widget session and event
stream, its own client IP via ``X-Forwarded-For``, so the visitor rate limits and a growing history play
no part): the event stream is open, ``POST /v1/widget/messages`` is sent, and the clock stops at the
first ``delta`` event on the stream (the first token shown). The next round starts once the stored bot
message arrived, so the agent is back in its long poll. Baseline, interleaved in the same run: the stub's
own time to first token when the very request body the agent sent is POSTed to it directly with httpx
(send → first ``data:`` chunk with content). Reported: p50/p95 of both and the differences; goal ≤ 30 ms
added at p50 and p95. A message answered without a ``delta`` from the stub (e.g. by a built-in assistant)
counts as a miss (goal: none). Unmeasured warm-up messages go first, until one was answered through the
stub (the agent polls, connections and caches are warm).

``python -m bench chat_proxy`` (the server needs the ``server`` extra).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.chat.llm.config import ApiKeyStore, LlmConfig, LlmConfigStore
from app.db import open_database
from app.demo import create_demo
from app.services.registry import Services
from bench.bench_sync import ServerProcess, _devices
from bench.common import Result, percentile
from bench.llm_stub import LlmStub
from sync import local
from sync.chat_agent import ChatAgent
from sync.chat_answer import ConfiguredAssistants
from sync.chat_client import ChatClient
from sync.credentials import StaticCredentials

MESSAGES = 30
WARM_UPS = 10
FIRST_TOKEN_DELAY = 0.15
CHUNK_DELAY = 0.02
GOAL_MS = 30.0
ANSWER_TIMEOUT = 20.0
PAUSE = 0.2
"""Seconds between rounds: the agent is idle in its long poll when the next visitor writes."""
ORIGIN = "https://www.huber-kfz.example"
QUESTION = "Was kostet ein Ölwechsel?"
API_KEY = "sk-bench-0000000000000000"


class CarbotServer(ServerProcess):
    """``carbot server --host 127.0.0.1 --port N`` (migrates, then uvicorn) on its own SQLite file."""

    def __enter__(self) -> CarbotServer:
        carbot = Path(sys.executable).with_name("carbot")
        command = [str(carbot), "server", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"carbot server ended with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("carbot server did not start")

    def __exit__(self, *_exc: object) -> None:
        # uvicorn's graceful shutdown waits for the agent's open long poll (up to 20 s); a second signal forces it.
        assert self.process is not None
        for _signal in range(2):
            self.process.terminate()
            try:
                self.process.wait(3)
                return
            except subprocess.TimeoutExpired:
                continue
        self.process.kill()
        self.process.wait(10)


class MemoryKeyring:
    """An in-memory keyring backend (the OS keyring is not touched by the benchmark)."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret or None."""
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Remove a secret."""
        self.secrets.pop((service, username), None)


@dataclass(frozen=True)
class DesktopSetup:
    """What the desktop process needs (picklable): its database, the server, its device and the LLM settings."""

    db_path: str
    server_url: str
    device: tuple[str, str, str]  # device id, location id, access token
    config_path: str


def prepare_desktop(server: ServerProcess, folder: Path, stub: LlmStub) -> DesktopSetup:
    """The demo database registered as the location's device; the LLM settings point at the stub."""
    path = folder / "werkstatt.db"
    services = Services.open(path)
    try:
        create_demo(services, today=dt.date.today(), customers=10, vehicles=10, history_weeks=0)
    finally:
        services.close()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        device = _devices(http, 1)[0]
    db = open_database(path)
    try:
        local.register(db, server_url=server.url, device_id=device[0], location_id=device[1])
    finally:
        db.close()
    config_path = folder / "chat-llm.json"
    LlmConfigStore(config_path).save(
        LlmConfig.from_dict({"provider": "openai", "base_url": stub.base_url, "monthly_budget_eur": "1000"})
    )
    return DesktopSetup(str(path), server.url, device, str(config_path))


def run_desktop(setup: DesktopSetup, stop: Any, errors: Any) -> None:
    """The desktop process: ``ChatAgent`` with ``ConfiguredAssistants``, as ``carbot chat agent`` runs it.

    Its own process, as on the counter PC: sharing the interpreter (and its GIL) with the widget client and
    the stub would add delays that do not exist between a browser, a desktop and a cloud LLM.
    """
    db = open_database(Path(setup.db_path))
    chat = ChatClient(setup.server_url, StaticCredentials(*setup.device))
    keys = ApiKeyStore(MemoryKeyring())
    keys.set("openai", API_KEY)
    assistants = ConfiguredAssistants(db, config_store=LlmConfigStore(Path(setup.config_path)), keys=keys)
    agent = ChatAgent(db, chat, assistants, on_error=errors.put)  # default long-poll wait, drafts as shipped
    done = threading.Event()

    def relay_stop() -> None:
        stop.wait()
        done.set()

    threading.Thread(target=relay_stop, daemon=True).start()
    try:
        agent.run_forever(done)
    finally:
        chat.close()
        db.close()


class Desktop:
    """The desktop process (spawned: a fresh interpreter, no threads inherited)."""

    def __init__(self, setup: DesktopSetup) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.errors = context.Queue()
        self.process = context.Process(target=run_desktop, args=(setup, self.stop, self.errors), name="desktop")

    def start(self) -> None:
        """Start the process (it polls for tasks once it has imported everything)."""
        self.process.start()

    def close(self) -> list[str]:
        """Stop the loop (it ends once its long poll returns: the server's end breaks it); the agent's errors."""
        self.stop.set()
        errors: list[str] = []
        deadline = time.monotonic() + 30
        while self.process.is_alive() and time.monotonic() < deadline:
            self._drain(errors)  # a child with unread queue items would not exit
            self.process.join(0.2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        self._drain(errors)
        return errors

    def _drain(self, into: list[str]) -> None:
        while True:
            try:
                into.append(str(self.errors.get_nowait()))
            except queue.Empty:
                return


class Miss(Exception):
    """A round that did not show a first token from the stub."""


async def _listen(client: httpx.AsyncClient, token: str, headers: dict[str, str], out: asyncio.Queue[Any]) -> None:
    """The widget's event stream: (event, data, perf_counter at arrival) for every event."""
    async with client.stream(
        "GET", "/v1/widget/events", params={"token": token}, headers=headers, timeout=None
    ) as response:
        response.raise_for_status()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                await out.put((event, json.loads(line[5:]), time.perf_counter()))


async def _until(events: asyncio.Queue[Any], wanted: str) -> tuple[dict[str, Any], float]:
    """The next event ``wanted`` (a bot message before the first ``delta`` is a miss)."""
    while True:
        event, data, at = await asyncio.wait_for(events.get(), ANSWER_TIMEOUT)
        if event == wanted:
            return data, at
        if wanted == "delta" and event == "message" and data["message"]["author"] in ("bot", "system"):
            raise Miss(f"answer without a streamed token: {data['message']['text'][:80]!r}")


async def _via_widget(client: httpx.AsyncClient, key: str, number: int, first_word: str) -> float:
    """Milliseconds from sending a visitor message to the first ``delta`` on the widget's stream."""
    headers = {"X-Forwarded-For": f"10.9.{number // 250}.{number % 250 + 1}", "Origin": ORIGIN, "Referer": ORIGIN}
    body = {"location_key": key, "consent": True, "language": "de"}
    session = (await client.post("/v1/widget/session", json=body, headers=headers)).raise_for_status().json()
    events: asyncio.Queue[Any] = asyncio.Queue()
    listener = asyncio.create_task(_listen(client, session["token"], headers, events))
    try:
        await _until(events, "status")  # the stream's first state: it is live now
        auth = headers | {"Authorization": f"Bearer {session['token']}"}
        message = {"client_id": str(uuid.uuid4()), "text": QUESTION}
        started = time.perf_counter()
        (await client.post("/v1/widget/messages", json=message, headers=auth)).raise_for_status()
        delta, shown = await _until(events, "delta")
        if not str(delta.get("text", "")).startswith(first_word):
            raise Miss(f"first token not from the stub: {delta.get('text', '')[:80]!r}")
        while True:  # the stored answer: the agent is done and goes back to its long poll
            data, _at = await _until(events, "message")
            if data["message"]["author"] == "bot":
                break
        return (shown - started) * 1000
    finally:
        listener.cancel()


async def _direct(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> float:
    """Milliseconds from POSTing ``body`` to the stub to its first chunk with content (read to the end)."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", "Authorization": f"Bearer {API_KEY}"}
    first: float | None = None
    started = time.perf_counter()
    async with client.stream("POST", url, content=content, headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if first is None and line.startswith("data:") and line[5:].strip() != "[DONE]":
                choices = json.loads(line[5:]).get("choices") or [{}]
                if (choices[0].get("delta") or {}).get("content"):
                    first = time.perf_counter()
    if first is None:
        raise Miss("the stub sent no content")
    return (first - started) * 1000


async def _measure(server_url: str, key: str, stub: LlmStub) -> tuple[list[float], list[float], list[str]]:
    first_word = stub.pieces[0]
    widget: list[float] = []
    direct: list[float] = []
    misses: list[str] = []
    async with (
        httpx.AsyncClient(base_url=server_url, timeout=30) as client,
        httpx.AsyncClient(timeout=30) as provider,
    ):
        for attempt in range(WARM_UPS):  # until the agent polls and the whole path answered once
            try:
                await _via_widget(client, key, 200 + attempt, first_word)
                break
            except (Miss, TimeoutError):
                await asyncio.sleep(1.0)
        else:
            raise RuntimeError("the desktop agent never answered through the LLM stub")
        for number in range(MESSAGES):
            await asyncio.sleep(PAUSE)
            try:
                widget.append(await _via_widget(client, key, number, first_word))
            except (Miss, TimeoutError, httpx.HTTPError) as exc:
                misses.append(f"{type(exc).__name__}: {exc}")
                continue
            assert stub.last_body is not None
            await asyncio.sleep(PAUSE)
            direct.append(await _direct(provider, stub.base_url + "/chat/completions", stub.last_body))
    return widget, direct, misses


def _results(widget: list[float], direct: list[float], misses: list[str]) -> list[Result]:
    def pct(samples: list[float], p: int) -> float:
        return percentile(samples, p) if len(samples) > 1 else float("inf")

    results: list[Result] = []
    for p in (50, 95):
        shown, own = pct(widget, p), pct(direct, p)
        results.append(Result(f"chat proxy: first token in the widget (p{p})", shown, "ms", baseline=own))
        results.append(Result(f"chat proxy: LLM stub's own first token (p{p})", own, "ms"))
    for p in (50, 95):
        added = pct(widget, p) - pct(direct, p)
        results.append(
            Result(
                f"chat proxy overhead, {MESSAGES} messages (p{p} difference)",
                added,
                "ms",
                goal=f"≤ {GOAL_MS:.0f} ms",
                ok=added <= GOAL_MS,
            )
        )
    results.append(
        Result(
            f"chat proxy rounds without a streamed first token of {MESSAGES}"
            + (f" (first: {misses[0]})" if misses else ""),
            float(len(misses)),
            "",
            goal="0",
            ok=not misses,
        )
    )
    return results


def run() -> list[Result]:
    """Server, stub and desktop up; measure through the widget and directly, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with LlmStub(first_token_delay=FIRST_TOKEN_DELAY, chunk_delay=CHUNK_DELAY) as stub:
            with CarbotServer(folder) as server:
                setup = prepare_desktop(server, folder, stub)
                with ChatClient(server.url, StaticCredentials(*setup.device)) as chat:
                    key = chat.widget_config().public_key
                desktop = Desktop(setup)
                desktop.start()
                try:
                    widget, direct, misses = asyncio.run(_measure(server.url, key, stub))
                finally:
                    desktop.stop.set()  # the server's end (next) breaks the agent's long poll
            errors = desktop.close()
    if errors and not widget:
        misses.append(f"agent: {errors[0]}")
    return _results(widget, direct, misses)
