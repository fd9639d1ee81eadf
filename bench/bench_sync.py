"""Sync against a real ``uvicorn`` server process on loopback (embedded SQLite backend).

1. Latency under 50 connected desktops: 50 clients, each sending one request per second (random phase,
   open loop, ~50 requests/s in all) for ``SECONDS``, cycling through a push of 100 changes, a pull and
   the bare ``/healthz`` of the same server – each client starts at a random point of that cycle, so about
   a third of them push in any second (not all 50 in the same one); so the baseline is measured under the
   same load in the same run. Goal: p95 ≤ 25 ms and ≤ 3× the baseline. (A closed loop of 50 clients pushing back to back
   would only measure the queue: one push of 100 changes holds the single SQLite writer ~4 ms.)
2. First sync of 100,000 changes end to end: a desktop database with 100,000 customers is registered
   (every record queued in the outbox) and synced in one ``run_once`` (500 pushes of 200 ops, then the
   pull). Goal ≤ 20 s; memory flat: the peak RSS growth of the desktop process while syncing is reported
   (sampled every 50 ms), and must stay under 100 MB.

``python -m bench sync`` (the server needs the ``server`` extra).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from app.db import open_database
from app.models import Customer
from app.sync_outbox import new_op_id
from bench.common import Result, percentile
from sync import local
from sync.client import SyncClient
from sync.credentials import StaticCredentials

CLIENTS = 50
SECONDS = 30.0
CHANGES_PER_PUSH = 100
FIRST_SYNC = 100_000
PASSWORD = "Bench-Passwort-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``uvicorn sync.server.main:create_app_from_env`` in its own process, on its own SQLite file."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.env = os.environ | {
            "CARBOT_SERVER_DB_URL": f"sqlite:///{folder / 'server.db'}",
            "CARBOT_ARGON2_TIME_COST": "1",
            "CARBOT_ARGON2_MEMORY_KIB": "8192",
            "CARBOT_ARGON2_PARALLELISM": "1",
            "CARBOT_LOG_LEVEL": "WARNING",
            "CARBOT_REGISTER_RATE_PER_IP": "1000",
            "CARBOT_LOGIN_RATE_PER_IP": "1000",
            "CARBOT_LOGIN_RATE_PER_EMAIL": "1000",
        }
        self.env.pop("CARBOT_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "sync.server.main:create_app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the sync server did not start")

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(15)

    def rss_mb(self) -> float:
        assert self.process is not None
        return _rss_mb(self.process.pid)


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _devices(http: httpx.Client, count: int) -> list[tuple[str, str, str]]:
    """(device id, location id, access token) of ``count`` devices of one new organisation."""
    email = f"bench-{uuid.uuid4().hex[:8]}@werkstatt.example"
    reg = (
        http.post(
            "/v1/auth/register",
            json={"organization_name": "Bench GmbH", "location_name": "Bench", "email": email, "password": PASSWORD},
        )
        .raise_for_status()
        .json()
    )
    owner = {"Authorization": f"Bearer {reg['access_token']}"}
    made = []
    for number in range(count):
        body = {"location_id": reg["location_id"], "name": f"PC {number}"}
        device = http.post("/v1/devices", json=body, headers=owner).raise_for_status().json()
        made.append((device["device_id"], device["location_id"], device["access_token"]))
    return made


def _push_body(device: tuple[str, str, str], counter: list[int]) -> dict[str, Any]:
    ops = []
    for _ in range(CHANGES_PER_PUSH):
        counter[0] += 1
        n = counter[0]
        ops.append(
            {
                "op_id": new_op_id(),
                "entity": "customer",
                "entity_id": f"{device[0][:8]}-{n}",
                "op": "upsert",
                "hlc": f"{n:016d}-00000-bench",
                "payload": {"id": n, "last_name": f"Kunde {n}", "city": "München", "postcode": "80331"},
            }
        )
    return {"device_id": device[0], "location_id": device[1], "batch_id": str(uuid.uuid4()), "ops": ops}


KINDS = ("push", "pull", "healthz")


async def _one_client(url: str, device: tuple[str, str, str], samples: dict[str, list[float]]) -> None:
    """One desktop: a request per second, cycling push → pull → /healthz (random phase, open loop).

    The push bodies are built and encoded before the clock starts, as a desktop has its batch ready when
    it sends: building 100 ops for one client must not delay the responses of the 49 others in this
    load generator (it shares the machine with the server) and count as the server's latency.
    """
    counter = [0]
    headers = {"Authorization": f"Bearer {device[2]}"}
    pushes = int(SECONDS) // len(KINDS) + 2
    bodies = iter([json.dumps(_push_body(device, counter)).encode() for _ in range(pushes)])
    push_headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await client.get("/healthz")  # open the connection before measuring
        await asyncio.sleep(random.uniform(0, 1.0))  # noqa: S311 - random phase per desktop
        started = time.perf_counter()
        tick = 0
        first = random.randrange(len(KINDS))  # noqa: S311 - so a third of the desktops push at any moment
        while time.perf_counter() - started < SECONDS:
            kind = KINDS[(first + tick) % len(KINDS)]
            begin = time.perf_counter()
            if kind == "push":
                response = await client.post("/v1/sync/push", content=next(bodies), headers=push_headers)
            elif kind == "pull":
                response = await client.get("/v1/sync/pull", params={"since": 0, "streams": "records", "limit": 100})
            else:
                response = await client.get("/healthz")
            samples[kind].append((time.perf_counter() - begin) * 1000)
            response.raise_for_status()
            tick += 1
            await asyncio.sleep(max(0.0, started + tick - time.perf_counter()))


def _latency(server: ServerProcess) -> list[Result]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        devices = _devices(http, CLIENTS)
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}

    async def everyone() -> None:
        await asyncio.gather(*(_one_client(server.url, device, samples) for device in devices))

    asyncio.run(everyone())
    push, pull, baseline = (percentile(samples[kind], 95) for kind in KINDS)
    goal = "≤ 25 ms and ≤ 3× /healthz"
    return [
        Result(
            f"sync push of {CHANGES_PER_PUSH} changes, {CLIENTS} clients (p95)",
            push,
            "ms",
            baseline=baseline,
            goal=goal,
            ok=push <= 25.0 and push <= 3 * baseline,
        ),
        Result(
            f"sync pull, {CLIENTS} clients (p95)",
            pull,
            "ms",
            baseline=baseline,
            goal=goal,
            ok=pull <= 25.0 and pull <= 3 * baseline,
        ),
    ]


class _RssSampler(threading.Thread):
    """Peak resident memory of this process (and the server's) while the first sync runs."""

    def __init__(self, server: ServerProcess) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.start_mb, self.server_start_mb = _rss_mb(), server.rss_mb()
        self.peak_mb, self.server_peak_mb = self.start_mb, self.server_start_mb
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak_mb = max(self.peak_mb, _rss_mb())
            self.server_peak_mb = max(self.server_peak_mb, self.server.rss_mb())


def _first_sync(server: ServerProcess, folder: Path) -> list[Result]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        [device] = _devices(http, 1)
    db = open_database(folder / "desktop.db")
    try:
        with db.unit() as s:
            s.execute(
                insert(Customer),
                [
                    {"number": f"K{i}", "last_name": f"Kunde {i}", "city": "Augsburg", "postcode": "86150"}
                    for i in range(FIRST_SYNC)
                ],
            )
        sampler = _RssSampler(server)
        sampler.start()
        started = time.perf_counter()
        queued = local.register(db, server_url=server.url, device_id=device[0], location_id=device[1])
        with SyncClient(server.url, StaticCredentials(*device), timeout=60) as client:
            report = client.run_once(db)
        seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
    finally:
        db.close()
    if queued < FIRST_SYNC or report.acked != report.pushed or report.pushed < FIRST_SYNC:
        raise RuntimeError(f"first sync incomplete: queued {queued}, pushed {report.pushed}, acked {report.acked}")
    growth = sampler.peak_mb - sampler.start_mb
    server_growth = sampler.server_peak_mb - sampler.server_start_mb
    return [
        Result(f"first sync of {FIRST_SYNC:,} changes end to end", seconds, "s", goal="≤ 20 s", ok=seconds <= 20.0),
        Result(
            "first sync: peak RSS growth of the desktop process",
            growth,
            "MB",
            goal="flat (≤ 100 MB)",
            ok=growth <= 100.0,
        ),
        Result(
            "first sync: peak RSS growth of the server process",
            server_growth,
            "MB",
            goal="flat (≤ 100 MB)",
            ok=server_growth <= 100.0,
        ),
    ]


def run() -> list[Result]:
    """Start a server process, measure latency under load, then the first sync of 100,000 changes."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with ServerProcess(folder) as server:
            results = _latency(server)
        first = folder / "first"  # a fresh server database for the first sync
        first.mkdir()
        with ServerProcess(first) as fresh:
            results += _first_sync(fresh, first)
    return results
