"""The parts of the widget's end-to-end test: a real ``carbot server`` process, a workshop website, a desktop.

- ``CarbotServer``: ``carbot server --host 127.0.0.1 --port N`` as its own process on a fresh SQLite
  file (the embedded default), output in a log file whose tail the assertions show.
- ``WorkshopSite``: the workshop's website on ``localhost`` (another site than the API on 127.0.0.1, so
  the widget runs as a real third-party iframe) with the pasted script tag.
- ``Workshop``: the demo desktop database registered as a device of the location, its sync client, its
  chat client and the answering loop (``sync.chat_agent.ChatAgent``, what ``carbot chat agent`` runs)
  in a thread with a report of what it did.
"""

from __future__ import annotations

import datetime as dt
import html
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from app.demo import create_demo
from app.money import round_money
from app.services.catalog import price_for
from app.services.registry import Services
from sync.chat_agent import AgentReport, ChatAgent
from sync.chat_client import ChatClient
from tests.sync.sync_support import Desktop, MemoryKeyring, make_desktop, register_org

PASSWORD_ENV = {
    "CARBOT_ARGON2_TIME_COST": "1",
    "CARBOT_ARGON2_MEMORY_KIB": "8192",
    "CARBOT_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CarbotServer:
    """``carbot server`` in its own process on a fresh SQLite database."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = folder / "server.log"
        self.env = os.environ | PASSWORD_ENV | {
            "CARBOT_SERVER_DB_URL": f"sqlite:///{folder / 'server.db'}",
            "CARBOT_LOG_LEVEL": "WARNING",
            "CARBOT_REGISTER_RATE_PER_IP": "1000",
            "CARBOT_LOGIN_RATE_PER_IP": "1000",
            "CARBOT_LOGIN_RATE_PER_EMAIL": "1000",
        } | env  # fmt: skip
        self.env.pop("CARBOT_REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output (for assertion messages)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> CarbotServer:
        carbot = Path(sys.executable).with_name("carbot")
        command = [str(carbot), "server", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"carbot server ended with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"carbot server did not start:\n{self.log_tail()}")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class CuttableProxy:
    """A loopback TCP pass-through in front of the API whose connections the test can cut (a dead line).

    ``cut()`` closes every open connection (the widget's event stream ends as on a network failure) and
    refuses new ones until ``restore()``.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.down = False
        self.thread = threading.Thread(target=self._accept, name="cuttable-proxy", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the API through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CuttableProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()
        self.listener.close()

    def cut(self) -> None:
        """Drop every connection now and refuse new ones."""
        with self.lock:
            self.down = True
            sockets, self.open = list(self.open), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self) -> None:
        """Accept connections again."""
        with self.lock:
            self.down = False

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.down:
                    client.close()
                    continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class WorkshopSite:
    """The workshop's own website: one page with the widget's script tag, served on ``localhost``."""

    def __init__(self, api_url: str, location_key: str) -> None:
        page = (
            "<!doctype html><html lang='de'><head><meta charset='utf-8'><title>Kfz-Meisterbetrieb Huber</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            # The host page's own CSS must not reach the widget (iframe + !important launcher styles).
            "<style>button{background:hotpink;font-size:40px} iframe{border:9px solid red}</style></head>"
            "<body><h1>Kfz-Meisterbetrieb Huber</h1><p>Ihre Werkstatt in München.</p>"
            f"<script src='{html.escape(api_url)}/widget.js' data-location-key='{html.escape(location_key)}' "
            "async></script></body></html>"
        ).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_args: Any) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="workshop-site", daemon=True)

    @property
    def url(self) -> str:
        """The page's address (host ``localhost``: another site than the API's 127.0.0.1)."""
        return f"http://localhost:{self.server.server_address[1]}/"

    def __enter__(self) -> WorkshopSite:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class Workshop:
    """The demo workshop's desktop: database, device registration, sync and chat clients, answering loop."""

    desktop: Desktop
    chat: ChatClient
    agent: ChatAgent
    reports: list[AgentReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def create(cls, folder: Path, http: httpx.Client, server_url: str) -> Workshop:
        """The demo database (this week's calendar) registered as a device of a new organisation's location."""
        path = folder / "werkstatt.db"
        services = Services.open(path)
        try:
            create_demo(services, today=dt.date.today(), customers=12, vehicles=15, history_weeks=0)
        finally:
            services.close()
        org = register_org(http, None, locations=1)
        desktop = make_desktop(
            path, http, MemoryKeyring(), email=org["email"], location_id=org["location_ids"][0], sync_url=server_url
        )
        chat = ChatClient(server_url, desktop.client.credentials)
        agent = ChatAgent(desktop.db, chat, poll_wait=2.0, draft_interval=0.1)
        workshop = cls(desktop, chat, agent)
        agent.on_report = workshop.reports.append
        agent.on_error = workshop.errors.append
        return workshop

    def start_agent(self, timeout: float = 30.0) -> None:
        """Run the answering loop in a thread; returns once it has polled for tasks (the server sees it)."""
        self._thread = threading.Thread(target=self.agent.run_forever, args=(self._stop,), name="chat-agent")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.reports:
            assert time.monotonic() < deadline, f"the chat agent never finished a round: {self.errors}"
            time.sleep(0.05)

    def answered(self) -> int:
        """Bot messages the desktop's loop sent so far."""
        return sum(report.answered for report in list(self.reports))

    def sync(self) -> Any:
        """One sync round of the desktop (pushes its outbox, pulls the chat stream, imports booking requests)."""
        return self.desktop.client.run_once(self.desktop.db)

    def oil_change_prices(self) -> dict[str, Decimal]:
        """Name → "ab" price incl. VAT of every active oil-change service in the desktop's catalogue."""
        services = Services.for_database(self.desktop.db)
        settings = services.settings.get()
        prices = {
            item.name: round_money(
                price_for(item, settings.labour_rate_net, settings.aw_per_hour) * (1 + item.vat_rate / 100)
            )
            for item in services.catalog.search("Ölwechsel", limit=500)
            if "ölwechsel" in item.name.casefold()
        }
        assert len(prices) > 3, "the demo catalogue has no oil changes"
        return prices

    def close(self) -> None:
        """Stop the loop and close clients and database."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self.chat.close()
        self.desktop.close()


def euro_de(amount: Decimal) -> str:
    """1234.5 → "1.234,50 €" (German format, as the widget shows prices to German visitors)."""
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{text} €"
