"""The widget's side of the web chat: consent, visitor isolation, domains, rate limits, files, SSE.

Every test runs on SQLite (in-process store) and on PostgreSQL + Redis (``backend`` fixture).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.chat.assistant import BuiltinAssistant
from sync.server.chat.models import Conversation, Message
from sync.server.config import Settings
from sync.server.main import create_app
from sync.server.routes import widget as widget_routes
from sync.server.sync_models import ChangeLogEntry
from tests.server.chat_support import (
    SseReader,
    page,
    sample_profile,
    say,
    setup_workshop,
    start_visitor,
)
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock, bearer, make_settings
from tests.sync.sync_support import LiveServer


def _count(api: TestClient, model: type) -> int:
    with api.app.state.ctx.db.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_consent_is_required_and_nothing_is_stored_before_it(api: TestClient):
    shop = setup_workshop(api)
    for body in ({"location_key": shop.key}, {"location_key": shop.key, "consent": False}):
        refused = api.post("/v1/widget/session", json=body)
        assert refused.status_code == 422, refused.text
    assert _count(api, Conversation) == 0
    visitor = start_visitor(api, shop.key, language="tr")
    assert visitor.session["status"] == "bot" and visitor.session["language"] == "tr"
    assert visitor.session["messages"] == [] and visitor.session["branding"]["name"] == "Kfz-Werkstatt Berger"
    assert _count(api, Conversation) == 1
    # An empty conversation stays off the desktops until the visitor writes.
    pulled = api.get("/v1/sync/pull", params={"streams": "chat"}, headers=shop.device.headers).json()
    assert pulled["changes"] == []
    unknown = api.post("/v1/widget/session", json={"location_key": "wk_unbekannt12345", "consent": True})
    assert unknown.status_code == 404 and unknown.json()["code"] == "widget_unknown"


def test_a_visitor_can_never_read_another_conversation(api: TestClient):
    shop = setup_workshop(api)
    alice, bob = start_visitor(api, shop.key), start_visitor(api, shop.key)
    say(api, alice, "Geheimnis von Alice")
    say(api, bob, "Nachricht von Bob")
    assert [m["text"] for m in page(api, alice)["messages"] if m["author"] == "visitor"] == ["Geheimnis von Alice"]
    assert "Alice" not in api.get("/v1/widget/messages", headers=bob.headers).text
    # Token swap: Bob's claims with Alice's signature, and a token signed by a key that is not ours.
    head_a, _payload_a, sig_a = alice.token.split(".")
    _head_b, payload_b, _sig_b = bob.token.split(".")
    spliced = ".".join((head_a, payload_b, sig_a))
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(alice.token)["kid"]
    forged = jwt.encode(claims | {"sub": bob.conversation_id}, ec.generate_private_key(ec.SECP256R1()),
                        algorithm="ES256", headers={"kid": kid, "typ": "widget+jwt"})  # fmt: skip
    for token in (spliced, forged, shop.tenant.access_token, shop.device.token):
        response = api.get("/v1/widget/messages", headers=bearer(token))
        assert response.status_code == 401, response.text
        assert "Bob" not in response.text and "Alice" not in response.text
    # A visitor token is no access token either (typ and audience differ).
    assert api.get("/v1/me", headers=alice.headers).status_code == 401
    assert api.get("/v1/chat/conversations", headers=alice.headers).status_code == 401
    # Resuming needs the conversation's own token: Alice's token resumes Alice, never Bob.
    resumed = api.post("/v1/widget/session", json={"location_key": shop.key, "consent": True,
                                                   "resume_token": alice.token})  # fmt: skip
    assert resumed.json()["conversation_id"] == alice.conversation_id
    assert [m["text"] for m in resumed.json()["messages"]][0] == "Geheimnis von Alice"
    other_shop = setup_workshop(api, name="Autohaus Fremd")
    elsewhere = api.post("/v1/widget/session", json={"location_key": other_shop.key, "consent": True,
                                                     "resume_token": alice.token})  # fmt: skip
    assert elsewhere.json()["conversation_id"] != alice.conversation_id and elsewhere.json()["messages"] == []


def test_the_allowed_domains_are_enforced(api: TestClient):
    shop = setup_workshop(api)
    bad = api.put("/v1/chat/widget", json={"allowed_domains": ["nicht gültig!"]}, headers=shop.tenant.headers)
    assert bad.status_code == 422 and "Ungültige Domain" in bad.text
    saved = api.put("/v1/chat/widget", json={"allowed_domains": ["https://Werkstatt-Berger.de/kontakt"]},
                    headers=shop.tenant.headers)  # fmt: skip
    assert saved.status_code == 200 and saved.json()["allowed_domains"] == ["werkstatt-berger.de"]
    frame = f"/widget/frame?key={shop.key}"
    foreign = api.get(frame, headers={"Referer": "https://evil.example/"})
    assert foreign.status_code == 403 and "nicht freigegeben" in foreign.text
    assert api.get(frame).status_code == 403  # no referrer, no origin: refused while a list exists
    lookalike = api.get(frame, headers={"Referer": "https://werkstatt-berger.de.evil.example/"})
    assert lookalike.status_code == 403
    own = api.get(frame, headers={"Referer": "https://www.werkstatt-berger.de/"})
    assert own.status_code == 200
    ancestors = (
        "frame-ancestors https://werkstatt-berger.de:* http://werkstatt-berger.de:* "
        "https://*.werkstatt-berger.de:* http://*.werkstatt-berger.de:*;"
    )
    assert ancestors in own.headers["content-security-policy"]  # any port, both schemes, subdomains
    assert api.get(frame + "&origin=https://werkstatt-berger.de").status_code == 200
    # API calls whose Origin names a foreign site are refused; the frame's own (same-origin or null) pass.
    body = {"location_key": shop.key, "consent": True}
    refused = api.post("/v1/widget/session", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["code"] == "domain_not_allowed"
    visitor = start_visitor(api, shop.key, headers={"Origin": "http://testserver"})
    start_visitor(api, shop.key, headers={"Origin": "null"})
    sneaky = api.post("/v1/widget/messages", json={"client_id": str(uuid.uuid4()), "text": "Hallo"},
                      headers=visitor.headers | {"Referer": "https://evil.example/seite"})  # fmt: skip
    assert sneaky.status_code == 403
    assert page(api, visitor)["messages"] == []


@pytest.fixture
def strict_api(server_db_url: str, server_redis_url: str | None, clock: FakeClock) -> Iterator[TestClient]:
    """An app with tiny widget rate limits."""
    settings: Settings = make_settings(server_db_url, server_redis_url, chat_rate_visitor_messages=3,
                                       chat_rate_ip_sessions=4)  # fmt: skip
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


def test_rate_limits_per_visitor_and_ip(strict_api: TestClient):
    api = strict_api
    shop = setup_workshop(api)
    visitor = start_visitor(api, shop.key)
    for number in range(3):
        say(api, visitor, f"Nachricht {number}")
    refused = api.post("/v1/widget/messages", json={"client_id": str(uuid.uuid4()), "text": "zu viel"},
                       headers=visitor.headers)  # fmt: skip
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1 and "Bitte warten Sie" in refused.json()["detail"]
    assert "zu viel" not in str(page(api, visitor))
    # Another visitor still may write: the limit is per visitor ...
    say(api, start_visitor(api, shop.key), "Ich bin jemand anderes")
    # ... while new sessions from one IP address are limited, too.
    start_visitor(api, shop.key)
    start_visitor(api, shop.key)
    too_many = api.post("/v1/widget/session", json={"location_key": shop.key, "consent": True})
    assert too_many.status_code == 429


def test_a_resent_message_is_stored_once(api: TestClient):
    shop = setup_workshop(api)
    visitor = start_visitor(api, shop.key)
    client_id = str(uuid.uuid4())
    first = say(api, visitor, "Hallo, ist heute offen?", client_id)
    again = say(api, visitor, "Hallo, ist heute offen?", client_id)
    assert again == first and first["seq"] == 1 and first["client_id"] == client_id
    visitor_rows = [m for m in page(api, visitor)["messages"] if m["author"] == "visitor"]
    assert len(visitor_rows) == 1
    with api.app.state.ctx.db.sessions() as session:  # type: ignore[attr-defined]
        logged = session.scalars(select(ChangeLogEntry.entity_id).where(ChangeLogEntry.entity == "chat_message"))
        assert list(logged).count(first["id"]) == 1
    assert _count(api, Message) == len(page(api, visitor)["messages"])


def test_widget_files_are_served_compressed_cached_and_configured(api: TestClient):
    shop = setup_workshop(api)
    script = api.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-encoding"] == "gzip" and "max-age=300" in script.headers["cache-control"]
    assert "data-location-key" in script.text  # httpx decodes the gzip body
    plain = api.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == script.content
    assert api.get("/widget.js", headers={"If-None-Match": script.headers["etag"]}).status_code == 304
    assert api.get("/widget/frame.js").headers["content-type"].startswith("text/javascript")
    assert api.get("/widget/frame.css").headers["content-type"].startswith("text/css")
    assert api.get("/widget/frame?key=wk_unbekannt12345").status_code == 404
    # The branding goes into the page as JSON that cannot close the script element.
    evil = {"name": "</script><script>alert(1)</script>", "color": "#aa0000"}
    assert api.put("/v1/chat/widget", json={"branding": evil}, headers=shop.device.headers).status_code == 200
    assert api.put("/v1/chat/widget", json={"branding": evil | {"color": "red;}"}},
                   headers=shop.device.headers).status_code == 422  # fmt: skip
    frame = api.get(f"/widget/frame?key={shop.key}", headers={"Accept-Encoding": "gzip"})
    text = frame.text  # httpx undoes the gzip
    assert frame.headers["content-encoding"] == "gzip" and frame.headers["content-type"].startswith("text/html")
    assert frame.status_code == 200 and "{{CONFIG_JSON}}" not in text
    assert "<script>alert(1)" not in text and "\\u003c/script\\u003e" in text
    assert f'"locationKey":"{shop.key}"' in text and '"languages":["de","en","tr","pl"]' in text
    assert frame.headers["cache-control"] == "no-cache"
    csp = frame.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors *" in csp and "unsafe-inline" not in csp


class SlowAssistant:
    """The built-in assistant at the speed of a cloud model: typing, a pause, the draft, a pause, the answer."""

    def __init__(self, profile: Any) -> None:
        self.inner = BuiltinAssistant(profile)

    def reply(self, conversation: Any, executor: Any, *, on_delta: Any = None) -> Any:
        time.sleep(0.4)
        answer = self.inner.reply(conversation, executor)
        if on_delta is not None:
            on_delta(answer.text)
        time.sleep(0.4)
        return answer


def test_the_event_stream_delivers_live_events_and_a_reconnect_gets_everything(
    server_settings: Settings, clock: FakeClock
):
    app = create_app(server_settings, clock=clock)
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as api:
        app.state.chat.responder.assistant_factory = SlowAssistant
        shop = setup_workshop(api, profile=sample_profile(clock.now))  # type: ignore[arg-type]
        visitor = start_visitor(api, shop.key)
        stream = SseReader(f"{server.url}/v1/widget/events", {"token": visitor.token, "heartbeat": 1})
        try:
            assert stream.next("status")["status"] == "bot"
            say(api, visitor, "Was kostet ein Ölwechsel?")
            assert stream.next("message")["message"]["author"] == "visitor"
            assert stream.next("typing")["typing"] is True
            delta = stream.next("delta")
            assert delta["reply_to_seq"] == 1 and "ab 89,00 €" in delta["text"]
            answer = stream.next("message")["message"]
            assert answer["author"] == "bot" and answer["text"] == delta["text"] and answer["quick_replies"]
            assert stream.next("typing")["typing"] is False
            assert stream.next(":") == "heartbeat"
            api.post("/v1/widget/handoff", headers=visitor.headers)
            assert stream.next("message")["message"]["author"] == "system"
            assert stream.next("status")["status"] == "waiting_staff"
        finally:
            stream.close()
        # A reconnect with after=<seq> first replays everything after it, in order.
        replay = SseReader(f"{server.url}/v1/widget/events", {"token": visitor.token, "after": 1, "heartbeat": 1})
        try:
            assert [replay.next("message")["message"]["seq"] for _ in range(2)] == [2, 3]
            assert replay.next("status")["status"] == "waiting_staff" and replay.status == 200
        finally:
            replay.close()
        missing = SseReader(f"{server.url}/v1/widget/events", {})
        assert missing.ended.wait(10) and missing.status == 401
        missing.close()


def test_concurrent_messages_get_distinct_gap_free_numbers(server_settings: Settings, clock: FakeClock):
    app = create_app(server_settings, clock=clock)
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as api:
        shop = setup_workshop(api)  # type: ignore[arg-type]
        visitor = start_visitor(api, shop.key)
        results: list[dict[str, Any]] = []
        client_ids = [str(uuid.uuid4()) for _ in range(8)]

        def send(index: int) -> None:
            with httpx.Client(base_url=server.url) as own:
                for client_id in (client_ids[index], client_ids[index]):  # each one resent once
                    results.append(say(own, visitor, f"Nachricht {index}", client_id))

        threads = [threading.Thread(target=send, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        by_client = {r["client_id"]: r["seq"] for r in results}
        assert len(results) == 16 and len(by_client) == 8
        assert all(by_client[r["client_id"]] == r["seq"] for r in results)  # a resend returns the same seq
        messages = page(api, visitor)["messages"]
        assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
        assert sorted(m["seq"] for m in messages if m["author"] == "visitor") == sorted(by_client.values())


def test_an_event_stream_ends_after_its_maximum_duration(
    server_settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(widget_routes, "SSE_MAX_SECONDS", 1.5)
    app = create_app(server_settings, clock=clock)
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as api:
        visitor = start_visitor(api, setup_workshop(api).key)  # type: ignore[arg-type]
        started = time.monotonic()
        stream = SseReader(f"{server.url}/v1/widget/events", {"token": visitor.token, "heartbeat": 1})
        try:
            assert stream.ended.wait(10) and stream.status == 200
            assert 1.0 < time.monotonic() - started < 8
        finally:
            stream.close()
