"""Two organisations, every route: nobody reads or writes across organisations; roles hold.

Tenancy matrix: each route is called by organisation A's users and device with organisation B's ids
and must answer 404 or 403 with no data of B. A completeness check fails as soon as a route is added
without an entry here, and every route except the public ones must refuse a request without token.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.server.billing_support import *  # noqa: F403  (billing fixtures: fake_stripe, billing_api)
from tests.server.billing_support import FakeStripe, subscribe
from tests.server.chat_support import say, start_visitor
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, Tenant, bearer, login, register_tenant
from tests.server.plan_support import Device, appointment, grant_plan, invoice, op, push

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/widget/session"),  # consent starts a conversation; the visitor token comes from here
    ("POST", "/v1/billing/stripe-webhook"),  # Stripe's signature on the raw body is the credential
}
# Every authenticated route and the test below that proves it stays inside the caller's organisation.
MATRIX = {
    ("GET", "/v1/me"): "test_me_and_lists_show_only_the_own_organisation",
    ("GET", "/v1/locations"): "test_me_and_lists_show_only_the_own_organisation",
    ("POST", "/v1/locations"): "test_writes_cannot_name_another_organisation",
    ("GET", "/v1/locations/{location_id}"): "test_other_organisations_ids_are_not_found",
    ("GET", "/v1/users"): "test_me_and_lists_show_only_the_own_organisation",
    ("POST", "/v1/users"): "test_writes_cannot_name_another_organisation",
    ("GET", "/v1/users/{user_id}"): "test_other_organisations_ids_are_not_found",
    ("GET", "/v1/devices"): "test_me_and_lists_show_only_the_own_organisation",
    ("POST", "/v1/devices"): "test_writes_cannot_name_another_organisation",
    ("DELETE", "/v1/devices/{device_id}"): "test_other_organisations_ids_are_not_found",
    ("POST", "/v1/sync/push"): "test_sync_routes_stay_inside_the_organisation",
    ("GET", "/v1/sync/pull"): "test_sync_routes_stay_inside_the_organisation",
    ("GET", "/v1/sync/snapshot"): "test_sync_routes_stay_inside_the_organisation",
    ("GET", "/v1/sync/events"): "test_sync_routes_stay_inside_the_organisation",
    ("GET", "/v1/rollups"): "test_integration_routes_stay_inside_the_organisation",
    ("POST", "/v1/api-keys"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/api-keys"): "test_integration_routes_stay_inside_the_organisation",
    ("DELETE", "/v1/api-keys/{key_id}"): "test_integration_routes_stay_inside_the_organisation",
    ("POST", "/v1/api-keys/{key_id}/rotate"): "test_integration_routes_stay_inside_the_organisation",
    ("POST", "/v1/webhooks"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/webhooks"): "test_integration_routes_stay_inside_the_organisation",
    ("DELETE", "/v1/webhooks/{endpoint_id}"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/webhooks/deliveries"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/public/appointments"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/public/invoices"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/public/webhooks"): "test_integration_routes_stay_inside_the_organisation",
    ("POST", "/v1/public/webhooks"): "test_integration_routes_stay_inside_the_organisation",
    ("DELETE", "/v1/public/webhooks/{endpoint_id}"): "test_integration_routes_stay_inside_the_organisation",
    ("GET", "/v1/billing/subscription"): "test_billing_routes_stay_inside_the_organisation",
    ("POST", "/v1/billing/checkout"): "test_billing_routes_stay_inside_the_organisation",
    ("POST", "/v1/billing/change"): "test_billing_routes_stay_inside_the_organisation",
    ("POST", "/v1/billing/cancel"): "test_billing_routes_stay_inside_the_organisation",
    ("POST", "/v1/billing/resume"): "test_billing_routes_stay_inside_the_organisation",
    ("POST", "/v1/billing/portal"): "test_billing_routes_stay_inside_the_organisation",
    ("GET", "/v1/chat/agent/tasks"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/chat/conversations/{conversation_id}/messages"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/chat/conversations/{conversation_id}/draft"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/chat/conversations/{conversation_id}/status"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/chat/conversations/{conversation_id}/bookings"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/chat/conversations"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/chat/conversations/{conversation_id}/messages"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/chat/usage"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/chat/widget"): "test_chat_routes_stay_inside_the_organisation",
    ("PUT", "/v1/chat/widget"): "test_chat_routes_stay_inside_the_organisation",
    ("PUT", "/v1/chat/profile"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/widget/messages"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/widget/messages"): "test_chat_routes_stay_inside_the_organisation",
    ("GET", "/v1/widget/events"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/widget/lead"): "test_chat_routes_stay_inside_the_organisation",
    ("POST", "/v1/widget/handoff"): "test_chat_routes_stay_inside_the_organisation",
}


@dataclass
class Org:
    """One organisation with a user of every role, two locations and a registered desktop."""

    tenant: Tenant
    second_location_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # role (and "device") -> access token
    user_ids: dict[str, str] = field(default_factory=dict)
    device_id: str = ""
    device_refresh: str = ""

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.tokens[role])

    @property
    def ids(self) -> set[str]:
        return {
            self.tenant.organization_id,
            self.tenant.location_id,
            self.second_location_id,
            self.device_id,
            *self.user_ids.values(),
        }


def _ok(response: Response, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _build(api: TestClient, name: str) -> Org:
    org = Org(register_tenant(api, name=name))
    org.tokens["owner"] = org.tenant.access_token
    org.user_ids["owner"] = org.tenant.user_id
    owner = org.tenant.headers
    grant_plan(api.app, org.tenant.organization_id, "enterprise")  # type: ignore[arg-type]  (two locations)
    org.second_location_id = _ok(api.post("/v1/locations", json={"name": "Filiale"}, headers=owner), 201)["id"]
    for role in ("counter", "mechanic", "auditor"):
        email = f"{role}-{uuid.uuid4().hex[:6]}@werkstatt.example"
        body = {"email": email, "role": role, "password": PASSWORD, "name": role.title()}
        if role != "auditor":
            body["location_ids"] = [org.tenant.location_id]
        org.user_ids[role] = _ok(api.post("/v1/users", json=body, headers=owner), 201)["id"]
        org.tokens[role] = login(api, email)["access_token"]
    device = _ok(
        api.post("/v1/devices", json={"location_id": org.tenant.location_id, "name": "Theke 1"}, headers=owner), 201
    )
    org.device_id, org.device_refresh = device["device_id"], device["refresh_token"]
    org.tokens["device"] = device["access_token"]
    return org


@pytest.fixture
def orgs(api: TestClient) -> tuple[Org, Org]:
    return _build(api, "Werkstatt Adler"), _build(api, "Autoservice Biber")


ROLES = ("owner", "counter", "mechanic", "auditor", "device")


def _assert_nothing_of(response: Response, other: Org) -> None:
    assert response.status_code < 500, response.text
    for secret_id in other.ids:
        assert secret_id not in response.text
    assert other.tenant.email not in response.text


def _routes(api: TestClient) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves, from its OpenAPI document."""
    paths = api.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_every_route_is_public_or_in_the_tenancy_matrix(api: TestClient):
    routes = _routes(api)
    assert PUBLIC | set(MATRIX) <= routes  # the lists name real routes (so the check below is not vacuous)
    missing = routes - PUBLIC - set(MATRIX)
    assert not missing, f"routes without a tenancy test: {sorted(missing)}"
    assert all(test in globals() for test in MATRIX.values())


def test_every_non_public_route_refuses_requests_without_a_token(api: TestClient):
    checked = 0
    for method, template in sorted(_routes(api) - PUBLIC):
        path = re.sub(r"\{[^}]+\}", lambda _match: str(uuid.uuid4()), template)
        response = api.request(method, path, json={})
        assert response.status_code == 401, (method, template, response.text)
        assert response.json()["detail"] == "Bitte melden Sie sich an."
        checked += 1
    assert checked >= len(MATRIX)


def test_me_and_lists_show_only_the_own_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    for role in ROLES:
        me = api.get("/v1/me", headers=a.headers(role))
        assert _ok(me)["organization_id"] == a.tenant.organization_id
        _assert_nothing_of(me, b)
    for path in ("/v1/locations", "/v1/users", "/v1/devices"):
        for role in ("owner", "auditor"):
            response = api.get(path, headers=a.headers(role))
            assert response.status_code == 200 and response.json()
            _assert_nothing_of(response, b)
    assert {loc["id"] for loc in _ok(api.get("/v1/locations", headers=a.headers("owner")))} == {
        a.tenant.location_id,
        a.second_location_id,
    }
    assert set(a.user_ids.values()) == {u["id"] for u in _ok(api.get("/v1/users", headers=a.headers("auditor")))}
    assert [d["id"] for d in _ok(api.get("/v1/devices", headers=a.headers("owner")))] == [a.device_id]


def test_other_organisations_ids_are_not_found(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    for role in ROLES:
        headers = a.headers(role)
        for location_id in (b.tenant.location_id, b.second_location_id, "kein-gültiger-wert"):
            response = api.get(f"/v1/locations/{location_id}", headers=headers)
            assert response.status_code in (403, 404)
            _assert_nothing_of(response, b)
        for user_id in b.user_ids.values():
            response = api.get(f"/v1/users/{user_id}", headers=headers)
            assert response.status_code in (403, 404)
            _assert_nothing_of(response, b)
        response = api.delete(f"/v1/devices/{b.device_id}", headers=headers)
        assert response.status_code in (403, 404)
        _assert_nothing_of(response, b)
    assert api.get(f"/v1/locations/{b.tenant.location_id}", headers=a.headers("owner")).status_code == 404
    assert api.get(f"/v1/users/{b.user_ids['owner']}", headers=a.headers("owner")).status_code == 404
    assert api.delete(f"/v1/devices/{b.device_id}", headers=a.headers("owner")).status_code == 404
    # B's desktop is untouched and keeps syncing.
    assert api.post("/v1/auth/refresh", json={"refresh_token": b.device_refresh}).status_code == 200


def test_writes_cannot_name_another_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    owner = a.headers("owner")
    device = api.post("/v1/devices", json={"location_id": b.tenant.location_id, "name": "Fremd"}, headers=owner)
    assert device.status_code == 404
    staff = {
        "email": "neu@werkstatt.example",
        "role": "counter",
        "password": PASSWORD,
        "location_ids": [b.tenant.location_id],
    }
    assert api.post("/v1/users", json=staff, headers=owner).status_code == 404
    sneaky = api.post("/v1/locations", json={"name": "X", "organization_id": b.tenant.organization_id}, headers=owner)
    assert sneaky.status_code == 422
    _assert_nothing_of(sneaky, b)
    # Nothing was created anywhere.
    assert len(_ok(api.get("/v1/devices", headers=b.headers("owner")))) == 1
    assert len(_ok(api.get("/v1/users", headers=b.headers("owner")))) == 4
    assert len(_ok(api.get("/v1/locations", headers=b.headers("owner")))) == 2
    assert len(_ok(api.get("/v1/devices", headers=owner))) == 1


def test_roles_inside_one_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, _ = orgs
    loc1, loc2 = a.tenant.location_id, a.second_location_id
    auditor, counter, mechanic, device = (a.headers(role) for role in ("auditor", "counter", "mechanic", "device"))
    # The auditor reads everything and writes nothing.
    assert api.post("/v1/locations", json={"name": "Neu"}, headers=auditor).status_code == 403
    staff = {"email": "x@werkstatt.example", "role": "mechanic", "password": PASSWORD, "location_ids": [loc1]}
    assert api.post("/v1/users", json=staff, headers=auditor).status_code == 403
    assert api.post("/v1/devices", json={"location_id": loc1, "name": "PC"}, headers=auditor).status_code == 403
    assert api.delete(f"/v1/devices/{a.device_id}", headers=auditor).status_code == 403
    assert api.get(f"/v1/users/{a.user_ids['owner']}", headers=auditor).status_code == 200
    # Counter staff: own location only; may register a desktop there, nothing else.
    assert [loc["id"] for loc in _ok(api.get("/v1/locations", headers=counter))] == [loc1]
    assert api.get(f"/v1/locations/{loc2}", headers=counter).status_code == 404
    assert api.post("/v1/devices", json={"location_id": loc2, "name": "PC"}, headers=counter).status_code == 404
    assert api.post("/v1/devices", json={"location_id": loc1, "name": "PC"}, headers=counter).status_code == 201
    assert api.get("/v1/users", headers=counter).status_code == 403
    # Mechanics cannot register desktops; devices are no users at all.
    assert api.post("/v1/devices", json={"location_id": loc1, "name": "PC"}, headers=mechanic).status_code == 403
    for path in ("/v1/locations", "/v1/users", "/v1/devices"):
        assert api.get(path, headers=device).status_code == 403
    me = _ok(api.get("/v1/me", headers=device))
    assert me["kind"] == "device" and me["location_ids"] == [loc1] and me["email"] is None


def test_removed_device_loses_access_at_once(api: TestClient, orgs: tuple[Org, Org]):
    a, _ = orgs
    assert _ok(api.delete(f"/v1/devices/{a.device_id}", headers=a.headers("owner")))["revoked_at"] is not None
    assert api.get("/v1/me", headers=a.headers("device")).status_code == 401
    assert api.post("/v1/auth/refresh", json={"refresh_token": a.device_refresh}).status_code == 401


def _push(api: TestClient, org: Org, *, location_id: str, device_id: str, payload: dict) -> Response:  # type: ignore[type-arg]
    op = {
        "op_id": str(uuid.uuid4()),
        "entity": "customer",
        "entity_id": uuid.uuid4().hex,
        "op": "upsert",
        "hlc": f"{1_800_000_000_000:016d}-00000-{org.device_id[:8]}",
        "payload": payload,
    }
    body = {"device_id": device_id, "location_id": location_id, "batch_id": str(uuid.uuid4()), "ops": [op]}
    return api.post("/v1/sync/push", json=body, headers=org.headers("device"))


def test_sync_routes_stay_inside_the_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    secret = {"name": "Geheimkunde Biber", "email": "geheim@biber.example"}
    pushed = _push(api, b, location_id=b.tenant.location_id, device_id=b.device_id, payload=secret)
    assert pushed.status_code == 200, pushed.text
    own = api.get("/v1/sync/pull", params={"streams": "records"}, headers=b.headers("device"))
    assert "Geheimkunde Biber" in own.text  # control: B's record is really on the server
    # A's desktop names B's location and device in a push: refused, nothing written.
    foreign = _push(api, a, location_id=b.tenant.location_id, device_id=b.device_id, payload={"name": "Eindringling"})
    assert foreign.status_code in (403, 404, 422), foreign.text
    _assert_nothing_of(foreign, b)
    device = a.headers("device")
    for path, params in (
        ("/v1/sync/pull", {"streams": "records,settings,entitlements"}),
        ("/v1/sync/snapshot", {"streams": "records,settings,entitlements"}),
        ("/v1/sync/events", {"after": 0, "wait": 0}),
    ):
        response = api.get(path, params=params, headers=device)
        assert response.status_code < 500, response.text
        assert "Geheimkunde" not in response.text
        _assert_nothing_of(response, b)
    assert (
        "Eindringling" not in api.get("/v1/sync/pull", params={"streams": "records"}, headers=b.headers("device")).text
    )
    # People are no desktops: user tokens are refused on every sync route.
    for role in ("owner", "auditor", "counter"):
        assert api.get("/v1/sync/pull", headers=a.headers(role)).status_code == 403
        assert api.get("/v1/sync/snapshot", headers=a.headers(role)).status_code == 403
        assert api.get("/v1/sync/events", params={"wait": 0}, headers=a.headers(role)).status_code == 403
        pushed_by_user = api.post(
            "/v1/sync/push",
            json={
                "device_id": a.device_id,
                "location_id": a.tenant.location_id,
                "batch_id": str(uuid.uuid4()),
                "ops": [],
            },
            headers=a.headers(role),
        )
        assert pushed_by_user.status_code == 403


def test_integration_routes_stay_inside_the_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    b_owner, b_desk = b.headers("owner"), Device(b.device_id, b.tenant.location_id, b.tokens["device"])
    facts = {"date": "2026-11-02", "net_total": "987654.32", "invoice_count": 9}
    push(api, b_desk, [op("daily_fact", "2026-11-02", facts), op("appointment", "geheim-t", appointment()),
                       op("invoice", "geheim-r", invoice("B1-2026-000001"))])  # fmt: skip
    b_key = _ok(api.post("/v1/api-keys", json={"name": "B", "scopes": ["invoices:read"]}, headers=b_owner), 201)
    b_hook = _ok(api.post("/v1/webhooks", json={"url": "https://b.example/hook", "events": ["lead.created"]},
                          headers=b_owner), 201)  # fmt: skip
    scopes = ["appointments:read", "invoices:read", "webhooks:manage"]
    a_key = bearer(_ok(api.post("/v1/api-keys", json={"name": "A", "scopes": scopes}, headers=a.headers("owner")),
                       201)["key"])  # fmt: skip
    for role in ROLES:
        headers = a.headers(role)
        for method, path, body in (
            ("GET", "/v1/rollups?from=2026-11-01&to=2026-11-30", None),
            ("GET", f"/v1/rollups?from=2026-11-01&to=2026-11-30&location_id={b.tenant.location_id}", None),
            ("GET", "/v1/api-keys", None),
            ("DELETE", f"/v1/api-keys/{b_key['id']}", None),
            ("POST", f"/v1/api-keys/{b_key['id']}/rotate", None),
            ("GET", "/v1/webhooks", None),
            ("GET", f"/v1/webhooks/deliveries?endpoint_id={b_hook['id']}", None),
            ("DELETE", f"/v1/webhooks/{b_hook['id']}", None),
            ("POST", "/v1/api-keys", {"name": "X", "scopes": ["invoices:read"]}),
            ("POST", "/v1/webhooks", {"url": "https://a.example/hook", "events": ["lead.created"]}),
        ):
            response = api.request(method, path, json=body, headers=headers)
            _assert_nothing_of(response, b)
            assert b_key["id"] not in response.text and b_hook["id"] not in response.text
            assert "987654" not in response.text and "Geheim" not in response.text
    public = (("GET", "/v1/public/appointments"), ("GET", "/v1/public/invoices"), ("GET", "/v1/public/webhooks"),
              ("DELETE", f"/v1/public/webhooks/{b_hook['id']}"))  # fmt: skip
    for method, path in public:
        response = api.request(method, path, headers=a_key)
        assert response.status_code in (200, 404), response.text
        _assert_nothing_of(response, b)
        assert "geheim" not in response.text and b_hook["id"] not in response.text
    created = api.post("/v1/public/webhooks", json={"url": "https://a.example/2", "events": ["lead.created"]},
                       headers=a_key)  # fmt: skip
    assert created.status_code == 201 and created.json()["url"] == "https://a.example/2"
    # B's key, endpoint and figures are untouched; B's key still works.
    assert [k["revoked_at"] for k in _ok(api.get("/v1/api-keys", headers=b_owner))] == [None]
    assert [h["id"] for h in _ok(api.get("/v1/webhooks", headers=b_owner))] == [b_hook["id"]]
    assert _ok(api.get("/v1/public/invoices", headers=bearer(b_key["key"])))["items"][0]["id"] == "geheim-r"
    rollup = _ok(api.get("/v1/rollups", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=b_owner))
    assert rollup["total"]["net_total"] == "987654.32"


def test_billing_routes_stay_inside_the_organisation(billing_api: TestClient, fake_stripe: FakeStripe):
    a, b = _build(billing_api, "Werkstatt Adler"), _build(billing_api, "Autoservice Biber")
    sub_b = subscribe(billing_api, b.tenant, fake_stripe, "carbot_enterprise_monthly")
    b_customer = sub_b["customer"]
    fake_stripe.invoices.append({"id": "in_geheim_b", "customer": b_customer, "created": 1_800_000_000, "total": 1,
                                 "currency": "eur", "status": "paid", "number": "GEHEIM-B-0001"})  # fmt: skip
    b_before = _ok(billing_api.get("/v1/billing/subscription", headers=b.headers("owner")))
    assert b_before["invoices"][0]["number"] == "GEHEIM-B-0001"  # control: B's invoice is really there
    fake_stripe.requests.clear()
    for role in ROLES:
        for method, path, body in (
            ("GET", "/v1/billing/subscription", None),
            ("POST", "/v1/billing/checkout", {"plan_id": "enterprise", "interval": "month"}),
            ("POST", "/v1/billing/change", {"plan_id": "starter", "interval": "month"}),
            ("POST", "/v1/billing/cancel", None),
            ("POST", "/v1/billing/resume", None),
            ("POST", "/v1/billing/portal", None),
        ):
            response = billing_api.request(method, path, json=body, headers=a.headers(role))
            _assert_nothing_of(response, b)
            for secret in ("GEHEIM-B", "in_geheim_b", b_customer, sub_b["id"]):
                assert secret not in response.text
    # Stripe saw no write for B's customer or subscription, and B's state is untouched.
    assert fake_stripe.calls("POST", "/v1/checkout/sessions")  # control: A's owner did reach Stripe
    for request in fake_stripe.writes():
        assert sub_b["id"] not in request.path and b_customer not in request.form.values()
    assert fake_stripe.customers[b_customer]["metadata"]["organization_id"] == b.tenant.organization_id
    assert _ok(billing_api.get("/v1/billing/subscription", headers=b.headers("owner"))) == b_before
    a_view = _ok(billing_api.get("/v1/billing/subscription", headers=a.headers("owner")))
    assert a_view["plan_id"] == "enterprise" and a_view["invoices"] == []  # A's own (operator) plan


def test_chat_routes_stay_inside_the_organisation(api: TestClient, orgs: tuple[Org, Org]):
    a, b = orgs
    b_key = _ok(api.get("/v1/chat/widget", headers=b.headers("device")))["public_key"]
    b_visitor = start_visitor(api, b_key)
    say(api, b_visitor, "Geheimnis Biber, bitte Rückruf unter 0171 9999999")
    b_conv = b_visitor.conversation_id
    a_visitor = start_visitor(api, _ok(api.get("/v1/chat/widget", headers=a.headers("device")))["public_key"])
    say(api, a_visitor, "Hallo von Adler")
    convs = f"/v1/chat/conversations/{b_conv}"
    staff = {"client_id": str(uuid.uuid4()), "author": "staff", "text": "Eindringling"}
    bot = {"client_id": str(uuid.uuid4()), "author": "bot", "text": "Eindringling", "reply_to_seq": 1}
    booking = {"client_id": str(uuid.uuid4()), "service_code": "X-1", "start": "2026-12-01T09:00:00",
               "end": "2026-12-01T10:00:00", "contact": {"name": "Eindringling", "phone": "0170 1111111"}}  # fmt: skip
    b_location = b.tenant.location_id
    for role in ROLES:
        headers = a.headers(role)
        for method, path, body in (
            ("POST", f"{convs}/messages", staff),
            ("POST", f"{convs}/messages", bot),
            ("POST", f"{convs}/draft", {"reply_to_seq": 1, "text": "Eindringling"}),
            ("POST", f"{convs}/status", {"status": "closed"}),
            ("POST", f"{convs}/bookings", booking),
            ("GET", f"{convs}/messages", None),
            ("GET", f"/v1/chat/widget?location_id={b_location}", None),
            ("PUT", f"/v1/chat/widget?location_id={b_location}", {"allowed_domains": ["evil.example"]}),
            ("PUT", f"/v1/chat/profile?location_id={b_location}", {"profile": {}}),
        ):
            response = api.request(method, path, json=body, headers=headers)
            assert response.status_code in (403, 404, 422), (role, method, path, response.text)
            _assert_nothing_of(response, b)
            assert "Geheimnis" not in response.text and "0171 9999999" not in response.text
        for path in ("/v1/chat/conversations", "/v1/chat/usage", "/v1/chat/agent/tasks?wait=0", "/v1/chat/widget"):
            response = api.get(path, headers=headers)
            assert response.status_code in (200, 403, 422), (role, path, response.text)
            _assert_nothing_of(response, b)
            assert b_conv not in response.text and "Geheimnis" not in response.text
        if role in ("mechanic", "auditor"):  # the chat is for owners, the counter and the desktop
            assert api.get("/v1/chat/conversations", headers=headers).status_code == 403
    assert [c["id"] for c in _ok(api.get("/v1/chat/conversations", headers=a.headers("owner")))] == [
        a_visitor.conversation_id]  # fmt: skip
    assert _ok(api.get("/v1/chat/usage", headers=a.headers("counter")))["leads"] == 0
    # A visitor token reaches only its own conversation, whatever the widget routes are asked.
    for method, path, body in (
        ("GET", "/v1/widget/messages", None),
        ("POST", "/v1/widget/messages", {"client_id": str(uuid.uuid4()), "text": "Noch mal Adler"}),
        ("POST", "/v1/widget/lead", {"contact": {"phone": "0170 2222222"}}),
        ("POST", "/v1/widget/handoff", None),
    ):
        response = api.request(method, path, json=body, headers=a_visitor.headers)
        assert response.status_code in (200, 201), response.text
        assert b_conv not in response.text and "Geheimnis" not in response.text
        _assert_nothing_of(response, b)
    events = api.get("/v1/widget/events", params={"token": b_visitor.token + "x"})
    assert events.status_code == 401
    # B's conversation is untouched: no foreign message, status, booking or lead change.
    b_view = _ok(api.get(f"{convs}/messages", headers=b.headers("owner")))
    assert "Eindringling" not in str(b_view) and b_view["status"] != "closed"
    b_pull = _ok(api.get("/v1/sync/pull", params={"streams": "chat"}, headers=b.headers("device")))
    assert "Eindringling" not in str(b_pull) and "Adler" not in str(b_pull)
    b_widget = _ok(api.get("/v1/chat/widget", params={"location_id": b_location}, headers=b.headers("owner")))
    assert b_widget["allowed_domains"] == [] and b_widget["public_key"] == b_key
