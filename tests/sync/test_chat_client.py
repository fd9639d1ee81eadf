"""ChatClient's error mapping and token handling against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from sync.chat_client import ChatClient
from sync.credentials import CredentialStore, DeviceCredentials, DeviceSession
from sync.errors import BotMuted, PlanRequired, SyncAuthError, SyncConflict, SyncError, SyncUnavailable
from tests.sync.sync_support import MemoryKeyring

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> ChatClient:
    store = CredentialStore("device:test", backend=MemoryKeyring())
    store.save(DeviceCredentials("http://srv", "dev-1", "loc-1", "refresh-0"))
    return ChatClient("http://srv", DeviceSession(store), transport=httpx.MockTransport(handler))


def _answer(status: int, code: str, detail: str = "Nein.") -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            return httpx.Response(200, json={"access_token": "a", "expires_in": 600, "refresh_token": "r"})
        return httpx.Response(status, json={"detail": detail, "code": code})

    return handle


@pytest.mark.parametrize(
    ("status", "code", "error", "text"),
    [
        (409, "bot_muted", BotMuted, "Mitarbeiter hat das Gespräch übernommen"),
        (409, "conflict", SyncConflict, "Konflikt"),
        (403, "plan_required", PlanRequired, "nicht enthalten (Im Tarif fehlt das Widget.)"),
        (403, "forbidden", SyncAuthError, "lehnt die Anmeldung"),
        (503, "unavailable", SyncUnavailable, "vorübergehend nicht verfügbar"),
    ],
)
def test_chat_errors_are_german_and_distinct(status: int, code: str, error: type[SyncError], text: str) -> None:
    with _client(_answer(status, code, "Im Tarif fehlt das Widget.")) as client, pytest.raises(SyncError) as info:
        client.post_message("c-1", "Hallo", reply_to_seq=1, client_id=uuid.uuid4())
    assert type(info.value) is error
    assert text in info.value.message


def test_offline_is_unavailable() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("kein Netz", request=request)

    with _client(handle) as client, pytest.raises(SyncUnavailable) as info:
        client.agent_tasks(wait=0)
    assert "Keine Verbindung zum Server" in info.value.message


def test_expired_token_is_refreshed_once_and_the_request_repeated() -> None:
    seen: list[str] = []
    tokens = iter(("alt", "neu"))

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/refresh":
            token = next(tokens)
            return httpx.Response(200, json={"access_token": token, "expires_in": 600, "refresh_token": token})
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer alt":
            return httpx.Response(401, json={"detail": "abgelaufen", "code": "token_expired"})
        assert request.url.params["wait"] == "2.0"
        return httpx.Response(200, json={"tasks": [], "lead_limit_reached": True})

    with _client(handle) as client:
        tasks = client.agent_tasks(wait=2.0)
    assert tasks.tasks == [] and tasks.lead_limit_reached
    assert seen == ["Bearer alt", "Bearer neu"]
