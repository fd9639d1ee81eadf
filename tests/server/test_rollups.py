"""GET /v1/rollups: daily facts pushed by two locations, summed exactly on the server, tenant-scoped."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main as cli_main
from app.plans import SubscriptionStatus
from sync.client import SyncClient
from sync.credentials import StaticCredentials
from sync.errors import SyncAuthError, SyncError
from sync.rollups_client import OwnerLogin, RateFigures, RollupsClient, fetch_rollups
from sync.server.main import create_app
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import PASSWORD, FakeClock, Tenant, bearer, login, register_tenant
from tests.server.plan_support import Device, add_location, grant_plan, op, push, register_device
from tests.sync.sync_support import LiveServer

D1, D2, D3 = dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)


def facts(day: dt.date, *, net19: str, net7: str = "0.00", aw: str = "0.00", labour: str = "0.00",
          parts: str = "0.00", invoices: int = 0, customers: int = 0, appointments: int = 0,
          rate19: str = "19") -> dict[str, Any]:  # fmt: skip
    """A DailyFacts payload whose totals are consistent with its two VAT rates."""
    tax19 = (Decimal(net19) * Decimal("0.19")).quantize(Decimal("0.01"))
    tax7 = (Decimal(net7) * Decimal("0.07")).quantize(Decimal("0.01"))
    net, tax = Decimal(net19) + Decimal(net7), tax19 + tax7
    revenue = [{"vat_rate": rate19, "net": net19, "tax": str(tax19), "gross": str(Decimal(net19) + tax19)}]
    if net7 != "0.00":
        revenue.append({"vat_rate": "7", "net": net7, "tax": str(tax7), "gross": str(Decimal(net7) + tax7)})
    return {"date": day.isoformat(), "revenue": revenue, "net_total": str(net), "tax_total": str(tax),
            "gross_total": str(net + tax), "invoice_count": invoices, "aw_sold": aw, "labour_net": labour,
            "parts_net": parts, "new_customers": customers, "appointments": appointments, "chats": 1,
            "leads": 1}  # fmt: skip


def push_facts(api: TestClient, device: Device, *days: dict[str, Any]) -> None:
    results = push(api, device, [op("daily_fact", day["date"], day) for day in days])
    assert [r["status"] for r in results] == ["applied"] * len(days), results


def rollup(api: TestClient, headers: dict[str, str], **params: Any) -> Any:
    query = {"from": D1.isoformat(), "to": D3.isoformat(), **params}
    return api.get("/v1/rollups", params=query, headers=headers)


@pytest.fixture
def enterprise(api: TestClient) -> tuple[Tenant, str, str]:
    """An Enterprise organisation with two locations that both pushed facts for D1 and D2."""
    tenant = register_tenant(api, name="Autohaus Sonne")
    grant_plan(api.app, tenant.organization_id, "enterprise")  # type: ignore[arg-type]
    second = add_location(api, tenant, "Filiale Nord")
    main_desk = register_device(api, tenant, tenant.location_id)
    north_desk = register_device(api, tenant, second)
    push_facts(api, main_desk,
               facts(D1, net19="1000.10", net7="20.00", aw="12.50", labour="700.10", parts="320.00", invoices=3,
                     customers=2, appointments=4),
               facts(D2, net19="0.10", aw="0.10", labour="0.10", invoices=1, appointments=1))  # fmt: skip
    push_facts(api, north_desk,
               facts(D1, net19="0.20", aw="0.20", parts="0.20", invoices=1, customers=1, rate19="19.00"),
               facts(D2, net19="999.99", net7="0.30", aw="7.30", labour="500.00", parts="500.29",
                     invoices=2))  # fmt: skip
    return tenant, tenant.location_id, second


def test_owner_sees_both_locations_grouped_by_location_with_exact_sums(
    api: TestClient, enterprise: tuple[Tenant, str, str]
):
    tenant, main, north = enterprise
    response = rollup(api, tenant.headers, group="location")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["location_ids"] == [north, main] and body["currency"] == "EUR"  # by name: Filiale, Haupt…
    by_location = {g["location_id"]: g for g in body["groups"]}
    assert by_location[main]["location_name"] == "Hauptbetrieb"
    first = by_location[main]["figures"]
    assert first["net_total"] == "1020.20" and first["aw_sold"] == "12.60" and first["labour_net"] == "700.20"
    assert first["invoice_count"] == 4 and first["appointments"] == 5 and first["days_reported"] == 2
    assert first["revenue"] == [
        {"vat_rate": "19.00", "net": "1000.20", "tax": "190.04", "gross": "1190.24"},
        {"vat_rate": "7.00", "net": "20.00", "tax": "1.40", "gross": "21.40"},
    ]
    second = by_location[north]["figures"]
    assert second["net_total"] == "1000.49" and second["parts_net"] == "500.49" and second["leads"] == 2
    total = body["total"]
    # 0.10 + 0.20 is exactly 0.30 here (no binary floats anywhere), and "19" and "19.00" are one rate.
    assert total["net_total"] == "2020.69" and total["aw_sold"] == "20.10"
    assert total["gross_total"] == str(sum(Decimal(g["figures"]["gross_total"]) for g in body["groups"]))
    assert [r["vat_rate"] for r in total["revenue"]] == ["19.00", "7.00"]
    assert total["revenue"][0]["net"] == "2000.39" and total["revenue"][1]["net"] == "20.30"
    assert total["invoice_count"] == 7 and total["new_customers"] == 3 and total["days_reported"] == 4


def test_owner_sees_both_locations_grouped_by_day(api: TestClient, enterprise: tuple[Tenant, str, str]):
    tenant, _main, north = enterprise
    body = rollup(api, tenant.headers, group="day").json()
    assert [g["date"] for g in body["groups"]] == [D1.isoformat(), D2.isoformat()]  # D3 has no facts
    day1, day2 = (g["figures"] for g in body["groups"])
    assert day1["net_total"] == "1020.30" and day1["aw_sold"] == "12.70" and day1["invoice_count"] == 4
    assert day2["net_total"] == "1000.39" and day2["labour_net"] == "500.10" and day2["days_reported"] == 2
    assert body["total"]["net_total"] == "2020.69"
    one_day = rollup(api, tenant.headers, group="day", **{"from": D2.isoformat(), "to": D2.isoformat()}).json()
    assert [g["date"] for g in one_day["groups"]] == [D2.isoformat()]
    only_north = rollup(api, tenant.headers, location_id=north).json()
    assert only_north["location_ids"] == [north] and only_north["total"]["net_total"] == "1000.49"


def test_another_organisation_sees_nothing(api: TestClient, enterprise: tuple[Tenant, str, str]):
    tenant, main, north = enterprise
    other = register_tenant(api, name="Reifen Schulz")
    grant_plan(api.app, other.organization_id, "enterprise")  # type: ignore[arg-type]
    response = rollup(api, other.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["location_ids"] == [other.location_id] and body["total"]["days_reported"] == 0
    assert body["total"]["net_total"] == "0.00" and main not in response.text and north not in response.text
    for location in (main, north):
        foreign = rollup(api, other.headers, location_id=location)
        assert foreign.status_code == 404 and location not in foreign.text
    assert rollup(api, tenant.headers).json()["total"]["net_total"] == "2020.69"  # control


def test_roles_and_plans(api: TestClient, enterprise: tuple[Tenant, str, str], clock: FakeClock):
    tenant, main, _north = enterprise
    for role in ("auditor", "counter"):
        email = f"{role}@sonne.example"
        body = {"email": email, "role": role, "password": PASSWORD, "name": role}
        if role == "counter":
            body["location_ids"] = [main]
        assert api.post("/v1/users", json=body, headers=tenant.headers).status_code == 201
    auditor = bearer(login(api, "auditor@sonne.example")["access_token"])
    counter = bearer(login(api, "counter@sonne.example")["access_token"])
    assert rollup(api, auditor).json()["total"]["net_total"] == "2020.69"
    assert rollup(api, counter).status_code == 403
    desk = register_device(api, tenant, main, "Theke 2")
    assert rollup(api, desk.headers).status_code == 403
    # Downgraded to Professional: two locations together need Enterprise, one location at a time does not.
    grant_plan(api.app, tenant.organization_id, "professional")  # type: ignore[arg-type]
    refused = rollup(api, tenant.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "plan_required"
    assert rollup(api, tenant.headers, location_id=main).json()["total"]["net_total"] == "1020.20"
    # Cancelled: read-only mode keeps the basic reports of one location.
    grant_plan(api.app, tenant.organization_id, "enterprise", SubscriptionStatus.CANCELLED)  # type: ignore[arg-type]
    assert rollup(api, tenant.headers).status_code == 403
    assert rollup(api, tenant.headers, location_id=main).status_code == 200


def test_single_location_starter_trial_sees_its_own_figures(api: TestClient, clock: FakeClock):
    tenant = register_tenant(api, name="Kfz Meier")
    push_facts(api, register_device(api, tenant, tenant.location_id), facts(D1, net19="10.00", invoices=1))
    assert rollup(api, tenant.headers).json()["total"]["net_total"] == "10.00"
    limited = api.post("/v1/locations", json={"name": "Zweigstelle"}, headers=tenant.headers)
    assert limited.status_code == 403 and limited.json()["code"] == "plan_limit"
    clock.advance(days=15)  # the 14-day Starter trial is over: read-only, still the own basic figures
    owner = bearer(login(api, tenant.email)["access_token"])
    assert rollup(api, owner).json()["total"]["invoice_count"] == 1


def test_period_is_checked(api: TestClient):
    tenant = register_tenant(api)
    backwards = rollup(api, tenant.headers, **{"from": D2.isoformat(), "to": D1.isoformat()})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    too_long = rollup(api, tenant.headers, **{"from": "2025-01-01", "to": "2026-01-02"})
    assert too_long.status_code == 422
    assert rollup(api, tenant.headers, group="woche").status_code == 422
    assert api.get("/v1/rollups", params={"from": "2026-01-01"}, headers=tenant.headers).status_code == 422


def test_desktop_client_reads_the_rollups_with_the_owners_login(api: TestClient, enterprise: tuple[Tenant, str, str]):
    tenant, main, north = enterprise
    client = SyncClient("http://testserver", StaticCredentials("", "", ""), transport=api._transport)
    owner = OwnerLogin(tenant.email, PASSWORD)
    rollups = RollupsClient(client, owner)
    result = rollups.rollups(D1, D3, group="location")
    assert result.location_ids == (north, main) and result.total.net_total == Decimal("2020.69")
    assert result.total.revenue[0] == RateFigures(Decimal("19.00"), Decimal("2000.39"), Decimal("380.08"),
                                                  Decimal("2380.47"))  # fmt: skip
    assert [g.location_name for g in result.groups] == ["Filiale Nord", "Hauptbetrieb"]
    by_day = rollups.rollups(D1, D3, group="day")
    assert [g.date for g in by_day.groups] == [D1, D2] and by_day.groups[1].figures.aw_sold == Decimal("7.40")
    rollups.close()
    # A desktop's own device token is not enough: the figures of every location are the owner's business.
    desk = register_device(api, tenant, main, "Theke 3")
    with pytest.raises(SyncError) as refused:
        fetch_rollups(client, StaticCredentials(desk.id, main, desk.token), D1, D3)
    assert refused.value.status == 403
    with pytest.raises(SyncAuthError):
        RollupsClient(client, OwnerLogin(tenant.email, "falsches-Passwort-123")).rollups(D1, D3)
    client.close()


def test_cli_prints_the_rollups_as_json(
    enterprise: tuple[Tenant, str, str], server_settings: Any, clock: FakeClock, capsys: pytest.CaptureFixture[str]
):
    tenant, main, north = enterprise
    with LiveServer(create_app(server_settings, clock=clock)) as live:
        args = ["sync", "rollups", "--server", live.url, "--email", tenant.email, "--password", PASSWORD,
                "--from", D1.isoformat(), "--to", D3.isoformat(), "--json"]  # fmt: skip
        assert cli_main(args) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["total"]["net_total"] == "2020.69" and printed["location_ids"] == [north, main]
        assert cli_main([*args[:-1], "--group", "day"]) == 0
        text = capsys.readouterr().out
        assert "Gesamt: netto 2.020,69\xa0€" in text and "USt. 19 %: netto 2.000,39\xa0€" in text
        assert text.count("02.11.2026: netto 1.020,30") == 1  # one line per day
