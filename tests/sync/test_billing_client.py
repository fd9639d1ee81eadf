"""sync.billing_client against the real hosted API (uvicorn on loopback, no Stripe configured), plus the
error mapping and the Idempotency-Key on a scripted transport.

Without a Stripe secret the server still shows the subscription (plan, status, usage, plan table) and
answers every payment route with 503 and the German text; the subscription itself is set on the server
with ``sync.server.plans_gate.set_subscription`` as an operator would.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import plans
from app.plans import SubscriptionStatus
from sync.billing_client import (
    BillingClient,
    BillingConflict,
    BillingError,
    BillingForbidden,
    BillingNotConfigured,
    BillingOffline,
)
from sync.errors import SyncAuthError
from sync.owner_session import OwnerCredentials, OwnerCredentialStore, OwnerRoleError, OwnerSession
from sync.protocol_billing import PAYMENTS_NOT_CONFIGURED, BillingOverview, plan_catalogue
from sync.server.main import create_app
from tests.server.fixtures import PASSWORD, FakeClock, make_settings
from tests.server.plan_support import grant_plan
from tests.sync.sync_support import LiveServer, MemoryKeyring, register_org


@pytest.fixture
def server_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def live(tmp_path: Path, server_clock: FakeClock) -> Iterator[LiveServer]:
    settings = make_settings(f"sqlite:///{tmp_path / 'server.db'}")
    with LiveServer(create_app(settings, clock=server_clock)) as server:
        yield server


@pytest.fixture
def app(live: LiveServer) -> Any:
    return live.server.config.app


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
def store(tmp_path: Path) -> OwnerCredentialStore:
    return OwnerCredentialStore(f"owner:{tmp_path / 'werkstatt.db'}", backend=MemoryKeyring())


@pytest.fixture
def org(http: httpx.Client, app: Any) -> dict[str, Any]:
    return register_org(http, app, locations=1)


@pytest.fixture
def owner(http: httpx.Client, org: dict[str, Any], store: OwnerCredentialStore) -> Iterator[BillingClient]:
    session = OwnerSession.login(http, store, email=org["email"], password=PASSWORD)
    with BillingClient(session) as client:
        yield client


def test_a_new_organisation_sees_the_starter_trial_with_usage_and_the_plan_table(
    owner: BillingClient, server_clock: FakeClock
) -> None:
    overview = owner.overview()
    assert isinstance(overview, BillingOverview)
    assert (overview.plan_id, overview.status, overview.effective_status) == ("starter", "trialing", "trialing")
    assert overview.interval is None and not overview.cancel_at_period_end and not overview.read_only
    assert overview.trial_ends_at is not None
    expected_end = server_clock() + dt.timedelta(days=plans.TRIAL_DAYS)
    assert abs(overview.trial_ends_at - expected_end) < dt.timedelta(minutes=1)
    assert overview.usage.locations == 1 and overview.usage.locations_limit == plans.limit("starter", "locations")
    assert overview.usage.leads_limit == plans.limit("starter", "leads_per_month")
    assert overview.usage.leads_this_month == 0
    # The plan table is app.plans, exactly (no price is typed anywhere else).
    assert overview.plans == plan_catalogue()
    assert [(p.id, p.monthly_net, p.yearly_net) for p in overview.plans] == [
        (p.id, p.monthly_net, p.yearly_net) for p in plans.PLANS
    ]


def test_the_overview_follows_the_subscription_stored_on_the_server(
    owner: BillingClient, http: httpx.Client, app: Any, org: dict[str, Any], server_clock: FakeClock
) -> None:
    period_end = (server_clock() + dt.timedelta(days=20)).replace(microsecond=0)
    grant_plan(app, org["organization_id"], "enterprise", current_period_end=period_end)
    token = owner.session.access_token(owner.http)
    added = http.post("/v1/locations", json={"name": "Filiale Nord"}, headers={"Authorization": f"Bearer {token}"})
    assert added.status_code == 201, added.text
    overview = owner.overview()
    assert (overview.plan_id, overview.plan_name, overview.status) == ("enterprise", "Enterprise", "active")
    assert overview.current_period_end == period_end and overview.grace_until is None
    assert overview.usage.locations == 2 and overview.usage.locations_limit is None
    assert overview.usage.leads_limit is None


def test_past_due_shows_the_grace_and_after_it_the_read_only_mode(
    owner: BillingClient, app: Any, org: dict[str, Any], server_clock: FakeClock
) -> None:
    grace = (server_clock() + dt.timedelta(days=plans.PAST_DUE_GRACE_DAYS)).replace(microsecond=0)
    grant_plan(app, org["organization_id"], "professional", SubscriptionStatus.PAST_DUE, grace_until=grace)
    overview = owner.overview()
    assert (overview.plan_id, overview.status, overview.grace_until, overview.read_only) == (
        "professional", "past_due", grace, False,
    )  # fmt: skip
    server_clock.advance(days=plans.PAST_DUE_GRACE_DAYS, minutes=1)
    assert owner.overview().read_only is True
    grant_plan(app, org["organization_id"], "professional", SubscriptionStatus.CANCELLED)
    cancelled = owner.overview()
    assert cancelled.effective_status == "cancelled" and cancelled.read_only is True


def test_every_payment_route_answers_503_in_german_without_stripe(owner: BillingClient) -> None:
    calls = (
        lambda: owner.checkout("professional", "month"),
        lambda: owner.change("enterprise", "year"),
        owner.cancel,
        owner.resume,
        owner.portal,
    )
    for call in calls:
        with pytest.raises(BillingNotConfigured) as refused:
            call()
        assert refused.value.message == PAYMENTS_NOT_CONFIGURED and refused.value.status == 503


def test_an_auditor_reads_the_overview_but_may_not_change_anything(
    owner: BillingClient, http: httpx.Client, store: OwnerCredentialStore
) -> None:
    token = owner.session.access_token(owner.http)
    body = {"email": "pruefer@werkstatt.example", "password": PASSWORD, "name": "Prüfer", "role": "auditor"}
    assert http.post("/v1/users", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    session = OwnerSession.login(http, store, email="pruefer@werkstatt.example", password=PASSWORD)
    with BillingClient(session) as auditor:
        assert auditor.overview().plan_id == "starter"
        with pytest.raises(OwnerRoleError, match="Nur der Inhaber"):
            auditor.checkout("starter", "month")  # refused before anything is sent
        with pytest.raises(BillingForbidden) as forbidden:  # and the server says the same
            auditor._request("POST", "/cancel")
        assert forbidden.value.status == 403 and "Keine Berechtigung" in forbidden.value.message


def test_no_connection_is_a_german_offline_error(store: OwnerCredentialStore) -> None:
    credentials = OwnerCredentials("http://127.0.0.1:9", "a@b.de", "u", "o", "", "owner", "refresh")
    with BillingClient(OwnerSession(store, credentials), timeout=2) as client:
        with pytest.raises(BillingOffline) as offline:
            client.overview()
    assert "Internetverbindung" in offline.value.message


# --- scripted transport: error mapping and idempotency keys ----------------------------------------------


class Script:
    """Answers /v1/auth/refresh with a rotated pair and every billing route from ``answers``."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.refreshes = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/auth/refresh":
            self.refreshes += 1
            n = self.refreshes
            return httpx.Response(200, json={"access_token": f"a{n}", "expires_in": 600, "refresh_token": f"r{n}"})
        return self.answers.pop(0)

    def billing(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/v1/billing/")]


def scripted(script: Script, store: OwnerCredentialStore, role: str = "owner") -> BillingClient:
    credentials = OwnerCredentials("http://srv", "inhaber@werkstatt.example", "u1", "o1", "Kfz Huber", role, "r0")
    return BillingClient(OwnerSession(store, credentials), transport=httpx.MockTransport(script))


def error(status: int, detail: str, code: str = "x") -> httpx.Response:
    return httpx.Response(status, json={"detail": detail, "code": code})


def test_posts_carry_an_idempotency_key_that_a_401_retry_keeps(store: OwnerCredentialStore) -> None:
    script = Script(error(401, "abgelaufen"), httpx.Response(200, json={"url": "https://checkout.stripe.com/c/1"}))
    key = str(uuid.uuid4())
    with scripted(script, store) as client:
        assert (
            client.checkout("enterprise", "year", trial=False, idempotency_key=key) == "https://checkout.stripe.com/c/1"
        )
    first, second = script.billing()
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == key
    assert first.headers["Authorization"] == "Bearer a1" and second.headers["Authorization"] == "Bearer a2"
    assert json.loads(second.content) == {"plan_id": "enterprise", "interval": "year", "trial": False}
    assert script.refreshes == 2  # the first token, then once more after the 401


def test_every_operation_gets_its_own_key(store: OwnerCredentialStore) -> None:
    url = {"url": "https://billing.stripe.com/p/1"}
    script = Script(httpx.Response(200, json=url), httpx.Response(200, json=url))
    with scripted(script, store) as client:
        client.portal()
        client.portal()
    keys = [r.headers["Idempotency-Key"] for r in script.billing()]
    assert len(set(keys)) == 2 and all(uuid.UUID(k) for k in keys)


@pytest.mark.parametrize(
    ("answer", "kind", "text"),
    [
        (error(409, "Ihr Tarif erlaubt höchstens 1 Standort(e).", "location_limit"), BillingConflict,
         "Der Tarifwechsel ist nicht möglich: Ihr Tarif erlaubt höchstens 1 Standort(e)."),
        (error(403, "Dafür fehlt Ihnen die Berechtigung.", "forbidden"), BillingForbidden,
         "Keine Berechtigung für das Abo: Dafür fehlt Ihnen die Berechtigung."),
        (error(503, PAYMENTS_NOT_CONFIGURED, "billing_not_configured"), BillingNotConfigured, PAYMENTS_NOT_CONFIGURED),
        (error(503, "Redis fehlt", "unavailable"), BillingOffline, "vorübergehend nicht verfügbar (503)"),
        (error(502, "Bad Gateway"), BillingOffline, "vorübergehend nicht verfügbar (502)"),
        (error(422, "Ungültiger Wert."), BillingError, "abgelehnt (422): Ungültiger Wert."),
        (httpx.Response(200, json={"plan_id": "gold"}), BillingError, "passt nicht zu dieser CarBot-Version"),
    ],
)  # fmt: skip
def test_error_answers_become_german_billing_errors(
    store: OwnerCredentialStore, answer: httpx.Response, kind: type[BillingError], text: str
) -> None:
    with scripted(Script(answer), store) as client, pytest.raises(kind) as raised:
        client.change("starter", "month")
    assert text in raised.value.message


def test_a_401_after_the_refresh_means_log_in_again(store: OwnerCredentialStore) -> None:
    with scripted(Script(error(401, "abgelaufen"), error(401, "abgelaufen")), store) as client:
        with pytest.raises(SyncAuthError, match="erneut anmelden"):
            client.overview()
