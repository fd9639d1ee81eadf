"""Outgoing webhooks: outbox written by the sync push, signed deliveries, retries with backoff, SSRF rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.webhooks import EventType, emit_event
from sync.server.webhooks_delivery import WebhookSettings, WebhookWorker, sign, verify
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, Tenant, login, register_tenant
from tests.server.plan_support import Device, appointment, grant_plan, invoice, op, push, register_device

EVENTS = ["appointment.created", "invoice.finalized", "lead.created"]


class Receiver:
    """A local HTTP endpoint that fails the first ``failures`` attempts of every delivery, then answers 200."""

    def __init__(self, failures: int = 2, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.attempts: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay)
                delivery = self.headers["CarBot-Delivery"]
                receiver.attempts[delivery] += 1
                self.send_response(500 if receiver.attempts[delivery] <= receiver.failures else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/carbot-hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def app_with(monkeypatch: pytest.MonkeyPatch, settings: Settings, clock: FakeClock, **env: str) -> TestClient:
    values = {"ALLOW_LOCAL_HTTP": "1", "WORKER_INTERVAL_SECONDS": "0", "JITTER": "0"} | env
    for name, value in values.items():
        monkeypatch.setenv(f"CARBOT_WEBHOOK_{name}", value)
    return TestClient(create_app(settings, clock=clock))


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch, server_settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """An app that allows http://127.0.0.1 targets, without background worker (tests call run_pending)."""
    with app_with(monkeypatch, server_settings, clock) as client:
        yield client


def worker(api: TestClient) -> WebhookWorker:
    found: WebhookWorker = api.app.state.webhooks  # type: ignore[attr-defined]
    return found


def professional_with_desk(api: TestClient, name: str = "Autohaus Sonne") -> tuple[Tenant, Device]:
    tenant = register_tenant(api, name=name)
    grant_plan(api.app, tenant.organization_id, "professional")  # type: ignore[arg-type]
    return tenant, register_device(api, tenant, tenant.location_id)


def register_endpoint(api: TestClient, tenant: Tenant, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json={"url": url, "events": events or EVENTS}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def deliveries(api: TestClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/webhooks/deliveries", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_signed_delivery_retries_with_backoff_until_the_receiver_accepts(
    hooks: TestClient, receiver: Receiver, clock: FakeClock
):
    tenant, desk = professional_with_desk(hooks)
    endpoint = register_endpoint(hooks, tenant, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    listed = hooks.get("/v1/webhooks", headers=tenant.headers)
    assert secret not in listed.text and "secret" not in listed.json()[0]
    push(hooks, desk, [op("appointment", "t-1", appointment()), op("invoice", "r-1", invoice("W1-2026-000007"))])
    pending = deliveries(hooks, tenant, status="pending")
    assert sorted(d["event_type"] for d in pending) == ["appointment.created", "invoice.finalized"]
    assert deliveries(hooks, tenant, status="delivered") == []

    start = clock.now
    first = worker(hooks).run_pending(clock.now)
    assert (first.retrying, first.delivered) == (2, 0)
    entry = deliveries(hooks, tenant)[0]
    assert entry["attempts"] == 1 and entry["last_status_code"] == 500 and entry["last_error"] == "HTTP 500"
    assert dt.datetime.fromisoformat(entry["next_try_at"]) == start + dt.timedelta(seconds=60)
    assert worker(hooks).run_pending(clock.now).retrying == 0  # not due yet: nothing is sent
    clock.advance(seconds=60)
    assert worker(hooks).run_pending(clock.now).retrying == 2
    entry = deliveries(hooks, tenant)[0]
    assert dt.datetime.fromisoformat(entry["next_try_at"]) == clock.now + dt.timedelta(seconds=120)  # doubled
    clock.advance(seconds=120)
    assert worker(hooks).run_pending(clock.now).delivered == 2
    log = deliveries(hooks, tenant)
    assert {(d["status"], d["attempts"], d["last_status_code"], d["next_try_at"]) for d in log} == {
        ("delivered", 3, 200, None)
    }
    assert len(receiver.requests) == 6 and set(receiver.attempts.values()) == {3}

    for headers, body in receiver.requests:  # the documented scheme, recomputed independently
        fields = dict(part.split("=", 1) for part in headers["carbot-signature"].split(","))
        expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, fields["v1"])
        assert verify(secret, body, headers["carbot-signature"], now=int(fields["t"]))
        assert not verify(secret, body + b" ", headers["carbot-signature"], now=int(fields["t"]))
        assert not verify(secret, body, headers["carbot-signature"], now=int(fields["t"]) + 301)  # replayed late
        event = json.loads(body)
        assert headers["carbot-event"] == event["type"] and headers["carbot-event-id"] == event["id"]
        assert event["organization_id"] == tenant.organization_id and event["data"]["location_id"] == desk.location_id
    finalized = next(json.loads(b) for _h, b in receiver.requests if b"invoice.finalized" in b)
    assert finalized["data"]["object"]["number"] == "W1-2026-000007" and finalized["data"]["id"] == "r-1"


def test_only_new_records_send_events_in_the_push_transaction(hooks: TestClient, receiver: Receiver):
    tenant, desk = professional_with_desk(hooks)
    register_endpoint(hooks, tenant, receiver.url, ["appointment.created"])
    push(hooks, desk, [op("appointment", "t-1", appointment())])
    push(hooks, desk, [op("appointment", "t-1", appointment("2026-11-04T10:00:00+01:00"))])  # moved: an update
    push(hooks, desk, [op("invoice", "r-1", invoice("W1-2026-000001"))])  # not subscribed
    rejected = push(hooks, desk, [op("invoice", "r-2", {"status": "draft", "kind": "invoice"}),
                                  op("appointment", "t-2", {"title": "x"}, kind="delete")])  # fmt: skip
    assert rejected[0]["status"] == "rejected"
    assert [d["event_type"] for d in deliveries(hooks, tenant)] == ["appointment.created"]


def test_failed_after_max_attempts_and_removed_endpoints_are_cancelled(
    monkeypatch: pytest.MonkeyPatch, server_settings: Settings, clock: FakeClock
):
    with Receiver(failures=99) as down, app_with(monkeypatch, server_settings, clock, MAX_ATTEMPTS="3") as api:
        tenant, desk = professional_with_desk(api)
        first = register_endpoint(api, tenant, down.url, ["appointment.created"])
        second = register_endpoint(api, tenant, down.url + "/zwei", ["appointment.created"])
        push(api, desk, [op("appointment", "t-1", appointment())])
        assert api.delete(f"/v1/webhooks/{second['id']}", headers=tenant.headers).status_code == 200
        for pause in (60, 120, 0):  # the backoff: 60 s, then 120 s
            worker(api).run_pending(clock.now)
            clock.advance(seconds=pause)
        log = {d["endpoint_id"]: d for d in deliveries(api, tenant)}
        assert (log[first["id"]]["status"], log[first["id"]]["attempts"]) == ("failed", 3)
        assert log[second["id"]]["status"] == "cancelled" and log[second["id"]]["attempts"] == 0
        assert len(down.requests) == 3
        assert [e["id"] for e in api.get("/v1/webhooks", headers=tenant.headers).json()] == [first["id"]]


def test_target_urls_must_be_public_https(api: TestClient):
    tenant = register_tenant(api)
    grant_plan(api.app, tenant.organization_id, "professional")  # type: ignore[arg-type]
    for url in ("http://crm.example.de/hook", "https://10.0.0.8/hook", "https://169.254.169.254/latest/meta-data",
                "https://[::1]/x", "https://[::ffff:192.168.0.1]/x", "https://localhost/x", "https://127.0.0.1/x",
                "https://user:pw@crm.example.de/x", "ftp://crm.example.de/x", "https://100.64.0.1/x",
                "http://127.0.0.1:8080/x"):  # fmt: skip
        response = api.post("/v1/webhooks", json={"url": url, "events": EVENTS}, headers=tenant.headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "url", url
    assert register_endpoint(api, tenant, "https://crm.example.de/carbot")["url"] == "https://crm.example.de/carbot"


def test_names_resolving_to_private_addresses_are_never_contacted(hooks: TestClient, clock: FakeClock):
    tenant, desk = professional_with_desk(hooks)
    register_endpoint(hooks, tenant, "https://intern.example/hook", ["appointment.created"])
    push(hooks, desk, [op("appointment", "t-1", appointment())])
    contacted: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        contacted.append(f"{host}:{port}")
        return ["93.184.216.34", "10.1.2.3"]  # one private answer is enough to refuse (rebinding)

    strict = WebhookWorker(hooks.app.state.ctx.db, WebhookSettings(jitter=0), resolver=resolver)  # type: ignore[attr-defined]
    try:
        assert strict.run_pending(clock.now).retrying == 1
    finally:
        strict.close()
    entry = deliveries(hooks, tenant)[0]
    assert contacted == ["intern.example:443"] and entry["last_status_code"] is None
    assert entry["last_error"] == "Zieladresse nicht erlaubt (kein öffentliches Netz)."


def test_lead_event_emit_function_and_plan_gate(hooks: TestClient, receiver: Receiver, clock: FakeClock):
    tenant, _desk = professional_with_desk(hooks)
    register_endpoint(hooks, tenant, receiver.url, ["lead.created"])
    ctx = hooks.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.unit() as session:
        data = {"lead_id": "l-1", "name": "Max Kunde", "phone": "+49 30 1234567"}
        event_id = emit_event(session, tenant.organization_id, EventType.LEAD_CREATED, subject="l-1", data=data,
                              now=clock.now)  # fmt: skip
        again = emit_event(session, tenant.organization_id, EventType.LEAD_CREATED, subject="l-1", data=data,
                           now=clock.now)  # fmt: skip
    assert event_id is not None and event_id.startswith("evt_") and again is None
    receiver.failures = 0
    assert worker(hooks).run_pending(clock.now).delivered == 1
    assert json.loads(receiver.requests[0][1])["data"]["name"] == "Max Kunde"
    starter = register_tenant(hooks, name="Kfz Meier")
    refused = hooks.post("/v1/webhooks", json={"url": receiver.url, "events": EVENTS}, headers=starter.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "plan_required"


def test_another_organisation_sees_no_deliveries(hooks: TestClient, receiver: Receiver):
    tenant, desk = professional_with_desk(hooks)
    endpoint = register_endpoint(hooks, tenant, receiver.url)
    push(hooks, desk, [op("appointment", "t-1", appointment())])
    other, _ = professional_with_desk(hooks, "Reifen Schulz")
    assert deliveries(hooks, other) == [] and hooks.get("/v1/webhooks", headers=other.headers).json() == []
    assert deliveries(hooks, other, endpoint_id=endpoint["id"]) == []
    assert hooks.delete(f"/v1/webhooks/{endpoint['id']}", headers=other.headers).status_code == 404
    assert len(deliveries(hooks, tenant)) == 1


def test_the_background_worker_of_the_app_delivers(
    monkeypatch: pytest.MonkeyPatch, server_settings: Settings, clock: FakeClock, receiver: Receiver
):
    receiver.failures = 0
    with app_with(monkeypatch, server_settings, clock, WORKER_INTERVAL_SECONDS="0.1") as api:
        tenant, desk = professional_with_desk(api)
        register_endpoint(api, tenant, receiver.url, ["appointment.created"])
        push(api, desk, [op("appointment", "t-1", appointment())])
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.requests) == 1
    assert sign("s", b"{}", 1) == "t=1,v1=" + hmac.new(b"s", b"1.{}", hashlib.sha256).hexdigest()


def test_https_delivery_goes_to_the_vetted_address_under_the_hosts_name(hooks: TestClient, clock: FakeClock):
    tenant, desk = professional_with_desk(hooks)
    register_endpoint(hooks, tenant, "https://crm.example.de:8443/carbot?kanal=werkstatt", ["appointment.created"])
    push(hooks, desk, [op("appointment", "t-1", appointment())])
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    public = WebhookWorker(hooks.app.state.ctx.db, WebhookSettings(), transport=httpx.MockTransport(answer),  # type: ignore[attr-defined]
                           resolver=lambda host, port: ["93.184.216.34"])  # fmt: skip
    try:
        assert public.run_pending(clock.now).delivered == 1
    finally:
        public.close()
    [request] = seen
    assert str(request.url) == "https://93.184.216.34:8443/carbot?kanal=werkstatt"
    assert request.headers["host"] == "crm.example.de:8443"
    assert request.extensions["sni_hostname"] == "crm.example.de"  # TLS checks the certificate of the name
    assert deliveries(hooks, tenant)[0]["last_status_code"] == 204


def test_shutdown_waits_for_the_delivery_in_flight(
    monkeypatch: pytest.MonkeyPatch, server_settings: Settings, clock: FakeClock
):
    with Receiver(failures=0, delay=1.5) as slow:
        with app_with(monkeypatch, server_settings, clock, WORKER_INTERVAL_SECONDS="0.05") as api:
            tenant, desk = professional_with_desk(api)
            register_endpoint(api, tenant, slow.url, ["appointment.created"])
            push(api, desk, [op("appointment", "t-1", appointment())])
            deadline = time.monotonic() + 10
            while not slow.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            assert slow.requests  # the app shuts down while the receiver is still answering
        # Right after the shutdown the answer is recorded: the worker was not abandoned mid-delivery.
        with app_with(monkeypatch, server_settings, clock) as again:
            owner = replace(tenant, access_token=login(again, tenant.email)["access_token"])
            [entry] = deliveries(again, owner)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 1, 200)
