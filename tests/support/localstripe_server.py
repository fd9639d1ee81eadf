"""localstripe on 127.0.0.1 for the billing tests: a launcher and a handle for the pytest fixture.

The stock ``localstripe`` command binds every interface (``::``) and keeps its store in the fixed file
``/tmp/localstripe.pickle`` (chat-sync-auth-billing.md §5). Run as a module, this file starts the same
aiohttp app on loopback only and redirects the store's pickle into the given folder::

    python -m tests.support.localstripe_server --port 8420 --store /tmp/carbot-localstripe-x

``LocalStripe`` starts that in a subprocess on a free port inside its own temp folder (removed on
stop) and waits until it answers; the subprocess exits by itself when the test run that started it dies.
localstripe accepts any ``sk_`` key longer than five characters.
What it can and cannot stand in for: customers, tax ids, products, legacy Plans, subscriptions,
cancel and signed webhooks, yes; Prices, Checkout, portal, Stripe Tax, ``customer.subscription.updated``
and idempotency, no (tests/server/billing_support.py fakes those).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from tests.support.processes import (
    ServerStartError,
    free_port,
    log_tail,
    make_workdir,
    register_running,
    terminate,
    unregister_running,
)

PREFIX = "carbot-localstripe-"
API_KEY = "sk_test_carbot_localstripe"
ROOT = Path(__file__).resolve().parents[2]


def _serve(port: int, store_dir: Path) -> None:
    """Patch the store's pickle path, then serve localstripe's app on 127.0.0.1:``port``."""
    from aiohttp import web
    from localstripe import resources, server

    pickle_file = store_dir / "localstripe.pickle"

    def load(self: Any) -> None:
        with contextlib.suppress(FileNotFoundError):
            with pickle_file.open("rb") as handle:
                old = pickle.load(handle)  # noqa: S301  (our own file from this very run)
            self.clear()
            self.update(old)

    def dump(self: Any) -> None:
        with pickle_file.open("wb") as handle:
            pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)

    parent = os.getppid()

    def orphan_watch() -> None:  # the test run was killed (SIGKILL, CI timeout): do not outlive it
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphan_watch, daemon=True).start()
    resources.Store.try_load_from_disk = load  # type: ignore[method-assign]
    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


class LocalStripe:
    """A localstripe subprocess on a free loopback port with its store in a temp folder."""

    def __init__(self) -> None:
        self.port = 0
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The API base (``CARBOT_STRIPE_API_BASE``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Self:
        """Start the server and wait until it answers an authenticated request."""
        self.workdir = make_workdir(PREFIX)
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        log = (self.workdir / "localstripe.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "tests.support.localstripe_server", "--port", str(self.port),
             "--store", str(self.workdir)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        register_running(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/v1/customers", auth=(API_KEY, ""), timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        tail = log_tail(self.workdir / "localstripe.log")
        self.stop()
        raise ServerStartError(f"localstripe did not start:\n{tail}")

    def register_webhook(self, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
        """Deliver events (all, or ``events``) to ``url`` signed with ``secret``."""
        data: list[tuple[str, str]] = [("url", url), ("secret", secret)]
        data += [("events[]", event) for event in events or []]
        response = httpx.post(
            f"{self.url}/_config/webhooks/{name}",
            content=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )
        response.raise_for_status()

    def flush(self) -> None:
        """Empty the store (webhook registrations stay)."""
        httpx.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()

    def stop(self) -> None:
        """Stop the process and remove the folder."""
        if self.process is not None and self.process.poll() is None:
            terminate(self.process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        self.process = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        unregister_running(self)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the subprocess."""
    parser = argparse.ArgumentParser(description="localstripe on 127.0.0.1 with its store in a folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args(argv)
    _serve(args.port, args.store)


if __name__ == "__main__":
    main()
