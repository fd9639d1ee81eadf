"""SyncClient against scripted servers (httpx.MockTransport): token refresh, offline, 409/410, resumability."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db import Database
from app.models import OutboxEntry, RemoteRecord
from app.services.customers import CustomerInput, CustomerService
from sync import local
from sync.client import SyncClient
from sync.credentials import CredentialStore, DeviceCredentials, DeviceSession
from sync.errors import SyncAuthError, SyncConflict, SyncError, SyncUnavailable, wrap
from tests.sync.sync_support import MemoryKeyring

DEVICE, LOCATION = "dev-1", "loc-1"
Handler = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Answers like the hosted API; ``script`` overrides single paths."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: dict[str, list[Handler]] = {}
        self.refresh_counter = 0
        self.valid_tokens = {"access-0"}
        self.seq = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self.script.get(request.url.path)
        if queued:
            return queued.pop(0)(request)
        if request.url.path == "/v1/auth/refresh":
            self.refresh_counter += 1
            token = f"access-{self.refresh_counter}"
            self.valid_tokens = {token}
            return httpx.Response(
                200, json={"access_token": token, "expires_in": 600, "refresh_token": f"refresh-{self.refresh_counter}"}
            )
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return httpx.Response(401, json={"detail": "Die Anmeldung ist abgelaufen.", "code": "token_expired"})
        if request.url.path == "/v1/sync/push":
            body = json.loads(request.content)
            results = []
            for op in body["ops"]:
                self.seq += 1
                results.append({"op_id": op["op_id"], "status": "applied", "version": 1, "seq": self.seq})
            return httpx.Response(200, json={"batch_id": body["batch_id"], "results": results, "last_seq": self.seq})
        if request.url.path == "/v1/sync/pull":
            return httpx.Response(200, json={"changes": [], "next_since": self.seq, "has_more": False})
        return httpx.Response(404, json={"detail": "Nicht gefunden.", "code": "not_found"})

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(keyring: MemoryKeyring) -> CredentialStore:
    store = CredentialStore("device:test", backend=keyring)
    store.save(DeviceCredentials("http://srv", DEVICE, LOCATION, "refresh-0"))
    return store


@pytest.fixture
def desktop(db: Database) -> Database:
    local.register(db, server_url="http://srv", device_id=DEVICE, location_id=LOCATION)
    return db


def make_client(server: Handler, store: CredentialStore, **kwargs: Any) -> SyncClient:
    session = DeviceSession(store)
    return SyncClient("http://srv", session, transport=httpx.MockTransport(server), **kwargs)


def outbox_states(db: Database) -> list[str]:
    with db.unit() as s:
        return list(s.scalars(select(OutboxEntry.state).order_by(OutboxEntry.id)))


def add_customers(db: Database, count: int) -> None:
    for i in range(count):
        CustomerService(db).create(CustomerInput(last_name=f"Kunde {i}"))


def test_a_round_pushes_in_batches_and_stores_the_cursor(desktop: Database, store: CredentialStore) -> None:
    add_customers(desktop, 5)
    server = FakeServer()
    with make_client(server, store, batch_size=2) as client:
        report = client.run_once(desktop)
    assert (report.pushed, report.acked, report.cursor) == (6, 6, 6)  # 5 customers + today's daily facts
    assert server.paths().count("/v1/sync/push") == 3
    pushes = [json.loads(r.content) for r in server.requests if r.url.path == "/v1/sync/push"]
    assert all(
        r.headers["Idempotency-Key"] == body["batch_id"]
        for r, body in zip([r for r in server.requests if r.url.path == "/v1/sync/push"], pushes, strict=True)
    )
    assert {body["location_id"] for body in pushes} == {LOCATION}
    assert set(outbox_states(desktop)) == {"acked"}
    state = local.state(desktop)
    assert state.cursor == 6 and state.pending == 0 and state.last_sync_at is not None and state.last_error == ""


def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_saved(
    desktop: Database, store: CredentialStore
) -> None:
    add_customers(desktop, 1)
    server = FakeServer()
    with make_client(server, store) as client:
        client.run_once(desktop)
        server.valid_tokens = set()  # every access token the server knew has expired
        add_customers(desktop, 1)
        client.run_once(desktop)
    assert server.paths().count("/v1/auth/refresh") == 2  # first token, then after the 401
    saved = store.load()
    assert saved is not None and saved.refresh_token == "refresh-2"
    assert "refresh-2" not in repr(saved)


def test_a_lost_refresh_answer_is_retried_with_the_same_token(desktop: Database, store: CredentialStore) -> None:
    server = FakeServer()
    sent: list[str] = []

    def lost(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["refresh_token"])
        raise httpx.ReadError("connection reset", request=request)

    server.script["/v1/auth/refresh"] = [lost]
    with make_client(server, store) as client:
        client.run_once(desktop)
    assert sent == ["refresh-0"] and store.load().refresh_token == "refresh-1"  # type: ignore[union-attr]


def test_a_refused_refresh_means_register_again(desktop: Database, store: CredentialStore) -> None:
    server = FakeServer()
    server.script["/v1/auth/refresh"] = [lambda r: httpx.Response(401, json={"detail": "x", "code": "reuse"})]
    with make_client(server, store) as client, pytest.raises(SyncAuthError) as caught:
        client.run_once(desktop)
    assert "carbot sync register" in caught.value.message


def test_offline_keeps_the_ops_and_the_next_round_resends_them(desktop: Database, store: CredentialStore) -> None:
    add_customers(desktop, 3)
    server = FakeServer()

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    server.script["/v1/sync/push"] = [offline]
    with make_client(server, store) as client:
        with pytest.raises(SyncUnavailable):
            client.run_once(desktop)
        assert set(outbox_states(desktop)) == {"sent"}  # marked before sending: resent as they are
        state = local.state(desktop)
        assert state.pending == 4 and "Keine Verbindung" in state.last_error and state.last_sync_at is None
        first_ops = [op["op_id"] for op in json.loads(server.requests[-1].content)["ops"]]
        client.run_once(desktop)
    second_ops = [op["op_id"] for op in json.loads(server.requests[-2].content)["ops"]]
    assert second_ops == first_ops  # the very same op ids: the server answers them as duplicates if it had them
    assert set(outbox_states(desktop)) == {"acked"} and local.state(desktop).last_error == ""


def test_rejected_and_conflicting_ops_are_marked_with_the_reason(desktop: Database, store: CredentialStore) -> None:
    add_customers(desktop, 2)
    server = FakeServer()

    def judge(request: httpx.Request) -> httpx.Response:
        ops = json.loads(request.content)["ops"]
        results = [
            {"op_id": ops[0]["op_id"], "status": "rejected", "reason": "Eine festgeschriebene Rechnung …"},
            {"op_id": ops[1]["op_id"], "status": "conflict", "version": 4, "reason": "neuer"},
        ] + [{"op_id": op["op_id"], "status": "duplicate", "version": 1} for op in ops[2:]]
        return httpx.Response(
            200, json={"batch_id": json.loads(request.content)["batch_id"], "results": results, "last_seq": 0}
        )

    server.script["/v1/sync/push"] = [judge]
    with make_client(server, store) as client:
        report = client.run_once(desktop)
    assert (report.rejected, report.conflicts, report.acked) == (1, 1, 1)
    with desktop.unit() as s:
        rows = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
        assert [(r.state, r.last_error) for r in rows][:2] == [
            ("rejected", "Eine festgeschriebene Rechnung …"),
            ("conflict", "neuer"),
        ]


def test_an_answer_for_other_ops_is_an_error(desktop: Database, store: CredentialStore) -> None:
    add_customers(desktop, 1)
    server = FakeServer()
    server.script["/v1/sync/push"] = [
        lambda r: httpx.Response(
            200, json={"batch_id": json.loads(r.content)["batch_id"], "results": [], "last_seq": 0}
        )
    ]
    with make_client(server, store) as client, pytest.raises(SyncError):
        client.run_once(desktop)
    assert "sent" in outbox_states(desktop)


@pytest.mark.parametrize(
    ("status", "error"), [(409, SyncConflict), (503, SyncUnavailable), (429, SyncUnavailable), (400, SyncError)]
)
def test_error_answers_become_sync_errors(
    desktop: Database, store: CredentialStore, status: int, error: type[SyncError]
) -> None:
    server = FakeServer()
    server.script["/v1/sync/pull"] = [lambda r: httpx.Response(status, json={"detail": "Nein.", "code": "x"})]
    with make_client(server, store) as client, pytest.raises(error) as caught:
        client.run_once(desktop)
    assert type(caught.value) is error and caught.value.status == status


def test_a_timeout_is_unavailable() -> None:
    request = httpx.Request("GET", "http://srv/v1/sync/pull")
    assert isinstance(wrap(httpx.ReadTimeout("slow", request=request)), SyncUnavailable)
    assert "Zeitüberschreitung" in wrap(httpx.ReadTimeout("slow", request=request)).message


def test_410_gone_triggers_the_full_resync_and_keeps_the_outbox(desktop: Database, store: CredentialStore) -> None:
    server = FakeServer()
    with desktop.unit() as s:
        s.add(RemoteRecord(stream="settings", entity="number_prefix", entity_id="OLD", data="{}", seq=1))
    add_customers(desktop, 1)
    server.script["/v1/sync/push"] = [lambda r: httpx.Response(503, json={"detail": "Wartung", "code": "x"})]
    server.script["/v1/sync/pull"] = [lambda r: httpx.Response(410, json={"detail": "alt", "code": "cursor_gone"})]
    pages = [
        {
            "records": [
                {
                    "seq": 0,
                    "stream": "settings",
                    "entity": "number_prefix",
                    "entity_id": "W1",
                    "op": "upsert",
                    "data": {"prefix": "W1"},
                }
            ],
            "as_of_seq": 40,
            "after": 7,
        },
        {
            "records": [
                {
                    "seq": 0,
                    "stream": "settings",
                    "entity": "number_prefix",
                    "entity_id": "W2",
                    "op": "upsert",
                    "data": {"prefix": "W2"},
                }
            ],
            "as_of_seq": 41,
            "after": None,
        },
    ]
    server.script["/v1/sync/snapshot"] = [lambda r, p=page: httpx.Response(200, json=p) for page in pages]
    with make_client(server, store) as client:
        with pytest.raises(SyncUnavailable):
            client.run_once(desktop)  # push fails: nothing pulled yet
        report = client.run_once(desktop)
    assert report.full_resync and report.cursor == 40  # the first page's position: later changes come again
    assert local.state(desktop).cursor == 40 and local.state(desktop).pending == 0
    assert [e[1] for e in local.remote_records(desktop, "settings")] == ["W1", "W2"]  # OLD is gone
    snapshot_after = [r.url.params["after"] for r in server.requests if r.url.path == "/v1/sync/snapshot"]
    assert snapshot_after == ["0", "7"]


def test_watch_stops_on_request_and_backs_off_when_offline(desktop: Database, store: CredentialStore) -> None:
    server = FakeServer()
    stop = threading.Event()
    errors: list[SyncError] = []

    def offline(request: httpx.Request) -> httpx.Response:
        stop.set()  # the second failure also ends the test
        raise httpx.ConnectError("offline", request=request)

    server.script["/v1/sync/pull"] = [offline]
    with make_client(server, store) as client:
        client.watch(desktop, stop, idle_seconds=0.1, on_error=errors.append)
    assert len(errors) == 1 and isinstance(errors[0], SyncUnavailable)


def test_the_keyring_holds_the_only_copy_of_the_refresh_token(keyring: MemoryKeyring, store: CredentialStore) -> None:
    [(service, account)] = keyring.secrets
    assert (service, account) == ("carbot-werkstatt-sync", "device:test")
    assert json.loads(keyring.secrets[(service, account)])["refresh_token"] == "refresh-0"
    store.clear()
    assert store.load() is None
    with pytest.raises(SyncAuthError):
        DeviceSession(store)


def test_two_sessions_on_one_keyring_entry_never_present_a_spent_refresh_token(store: CredentialStore) -> None:
    """The app and ``carbot chat agent`` (two processes) share the device's keyring entry: after one of them
    rotated the refresh token, the other must refresh with the new one, or the server revokes the family."""
    current = {"token": "refresh-0", "n": 0}
    presented: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content)["refresh_token"]
        presented.append(token)
        if token != current["token"]:
            return httpx.Response(401, json={"detail": "Anmeldung widerrufen.", "code": "token_reused"})
        current["n"] += 1
        current["token"] = f"refresh-{current['n']}"
        return httpx.Response(
            200, json={"access_token": f"access-{current['n']}", "expires_in": 600, "refresh_token": current["token"]}
        )

    app_session, agent_session = DeviceSession(store), DeviceSession(store)
    with httpx.Client(base_url="http://srv", transport=httpx.MockTransport(server)) as http:
        assert app_session.access_token(http) == "access-1"
        assert agent_session.access_token(http) == "access-2"  # read refresh-1 from the keyring, not refresh-0
        assert app_session.access_token(http, force_refresh=True) == "access-3"
    assert presented == ["refresh-0", "refresh-1", "refresh-2"]
    assert store.load() is not None and store.load().refresh_token == "refresh-3"  # type: ignore[union-attr]
