"""Helpers of the sync tests: an in-memory keyring, a live uvicorn server, a faulty TCP proxy, desktops.

- ``MemoryKeyring``: a keyring backend that keeps secrets in a dict (tests never touch the OS keyring
  and never write credentials to files).
- ``LiveServer``: the real app under a real uvicorn server on a free loopback port, in a thread.
- ``FaultProxy``: a loopback TCP proxy that understands just enough HTTP/1.1 to drop connections before
  or after the upstream answered, cut request bodies in half, delay, duplicate and replay requests
  later (so they arrive out of order).
- ``Desktop``: a desktop database registered as a device, with its sync client.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from keyring.backend import KeyringBackend

from app.db import Database, open_database
from sync import local
from sync.client import SyncClient
from sync.credentials import CredentialStore, DeviceSession, register_device
from tests.server.fixtures import PASSWORD
from tests.server.plan_support import grant_plan


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict (test only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


class LiveServer:
    """``app`` served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-uvicorn", daemon=True)
        self.port = 0

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"


FAULTS = ("drop_before", "drop_after", "truncate", "duplicate", "replay")


class FaultProxy:
    """Loopback proxy with HTTP-aware faults on requests whose path starts with one of ``paths``."""

    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int = 7,
        fault_rate: float = 0.4,
        delay_rate: float = 0.3,
        max_delay: float = 0.12,
        paths: tuple[str, ...] = ("/v1/sync/",),
    ) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.delay_rate = delay_rate
        self.max_delay = max_delay
        self.paths = paths
        self.stats: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self.port = 0
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        """Base URL through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes, str] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        length = 0
        kept = [lines[0]]
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            if name.strip().lower() != "connection":
                kept.append(line)
        kept.append("Connection: close")  # one request per upstream connection: the answer ends at EOF
        body = await reader.readexactly(length) if length else b""
        return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1"), body, path

    async def _forward(self, head: bytes, body: bytes, *, cut: bool = False) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(head + (body[: len(body) // 2] if cut else body))
            await writer.drain()
            if cut:
                return b""
            return await reader.read()
        finally:
            writer.close()

    async def _replay(self, head: bytes, body: bytes, after: float) -> None:
        await asyncio.sleep(after)
        try:
            await self._forward(head, body)
        except OSError:
            pass

    def _choose(self, path: str) -> str | None:
        if not path.startswith(self.paths) or self.rng.random() >= self.fault_rate:
            return None
        return self.rng.choice(FAULTS)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            head, body, path = request
            fault = self._choose(path)
            self.stats[fault or "none"] += 1
            if path.startswith(self.paths) and self.rng.random() < self.delay_rate:
                self.stats["delay"] += 1
                await asyncio.sleep(self.rng.uniform(0.0, self.max_delay))
            if fault == "drop_before":
                return
            if fault == "truncate":
                await self._forward(head, body, cut=True)
                return
            if fault == "duplicate":
                self._spawn(self._forward(head, body))
            answer = await self._forward(head, body)
            if fault == "replay":
                self._spawn(self._replay(head, body, self.rng.uniform(0.2, 1.5)))
            if fault == "drop_after":
                return
            writer.write(answer)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@dataclass
class Desktop:
    """One desktop installation: database, keyring entry and sync client."""

    db: Database
    client: SyncClient
    device_id: str
    location_id: str

    def close(self) -> None:
        """Close client and database."""
        self.client.close()
        self.db.close()


def register_org(http: httpx.Client, app: Any, *, locations: int = 2) -> dict[str, Any]:
    """An organisation with ``locations`` locations through the API: owner e-mail and location ids.

    More than one location needs the Enterprise plan; it is granted directly (there is no billing yet).
    """
    email = f"inhaber-{uuid.uuid4().hex[:8]}@werkstatt.example"
    body = {
        "organization_name": "Autohaus Sonne",
        "location_name": "Hauptbetrieb",
        "email": email,
        "password": PASSWORD,
        "name": "Inhaber",
    }
    reg = http.post("/v1/auth/register", json=body)
    assert reg.status_code == 201, reg.text
    owner = {"Authorization": f"Bearer {reg.json()['access_token']}"}
    ids = [reg.json()["location_id"]]
    if locations > 1:
        grant_plan(app, reg.json()["organization_id"], "enterprise")
    for number in range(2, locations + 1):
        created = http.post("/v1/locations", json={"name": f"Filiale {number}"}, headers=owner)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return {"email": email, "location_ids": ids, "organization_id": reg.json()["organization_id"]}


def make_desktop(
    path: Path,
    http: httpx.Client,
    keyring: MemoryKeyring,
    *,
    email: str,
    location_id: str,
    sync_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    issuer: str | None = None,
    timeout: float = 10.0,
) -> Desktop:
    """Register a fresh desktop database at ``path`` as a device of ``location_id``."""
    db = open_database(path)
    store = CredentialStore(f"device:{path}", backend=keyring)
    reg = register_device(http, store, email=email, password=PASSWORD, location=location_id, name=path.stem)
    local.register(db, server_url=reg.server_url, device_id=reg.device_id, location_id=reg.location_id)
    session = DeviceSession(store)
    session.accept(reg.access_token, reg.expires_in, store.load().refresh_token)  # type: ignore[union-attr]
    client = SyncClient(
        sync_url or reg.server_url, session, transport=transport, entitlement_issuer=issuer, timeout=timeout
    )
    return Desktop(db, client, reg.device_id, reg.location_id)
