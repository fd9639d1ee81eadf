"""``carbot server stripe-catalog`` and ``carbot server subscription`` (operator commands).

The catalogue runs through the real ``stripe`` client against the recording ``FakeStripe``: the tests
assert the Products and Prices it creates (amounts from ``app.plans``, never typed here), that a second
run writes nothing, and that a changed amount creates a new Price that takes over the lookup key while
the old one is deactivated. Every write carries an Idempotency-Key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from fastapi.testclient import TestClient

from app import plans
from app.cli import main
from app.plans import SubscriptionStatus
from sync.server.billing.catalog import TAX_CODE, sync_catalog
from sync.server.billing.stripe_client import StripeGateway
from sync.server.config import Settings
from sync.server.db import open_server_database
from sync.server.main import create_app
from sync.server.plans_gate import plan_state
from sync.server.sync_models import ChangeLogEntry
from tests.server.billing_support import API_KEY, FakeStripe
from tests.server.fixtures import make_settings, register_tenant


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


def _gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=fake.url)


def test_first_run_creates_products_and_net_prices_from_the_plans_module(fake: FakeStripe):
    actions = sync_catalog(_gateway(fake))
    assert sorted(a.kind for a in actions) == ["price_created"] * 6 + ["product_created"] * 3
    assert all(r.idempotency_key for r in fake.writes()) and len(fake.writes()) == 9
    keys = [r.idempotency_key for r in fake.writes()]
    assert len(set(keys)) == len(keys)
    for plan in plans.PLANS:
        product = fake.products[f"carbot_{plan.id}"]
        assert product["name"] == f"CarBot Werkstatt {plan.name}" and product["tax_code"] == TAX_CODE
        assert product["metadata"] == {"carbot_plan": plan.id}
        for key, cents, interval in ((plan.stripe_lookup_key_monthly, plan.monthly_cents, "month"),
                                     (plan.stripe_lookup_key_yearly, plan.yearly_cents, "year")):  # fmt: skip
            (price,) = [p for p in fake.prices.values() if p["lookup_key"] == key]
            assert (price["unit_amount"], price["currency"], price["recurring"]["interval"]) == (cents, "eur", interval)
            assert price["tax_behavior"] == "exclusive" and price["product"] == f"carbot_{plan.id}"
            assert price["metadata"] == {"carbot_plan": plan.id, "interval": interval}
    (create,) = [r for r in fake.calls("POST", "/v1/prices") if r.form["lookup_key"] == "carbot_starter_yearly"]
    assert create.form["transfer_lookup_key"] == "true"
    assert create.idempotency_key.startswith("catalog:price:carbot_starter_yearly:")


def test_second_run_changes_nothing(fake: FakeStripe):
    sync_catalog(_gateway(fake))
    before = len(fake.writes())
    actions = sync_catalog(_gateway(fake))
    assert {a.kind for a in actions} == {"unchanged"} and len(actions) == 9
    assert len(fake.writes()) == before


def test_a_changed_amount_moves_the_lookup_key_to_a_new_price(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch):
    sync_catalog(_gateway(fake))
    (old,) = [p for p in fake.prices.values() if p["lookup_key"] == "carbot_professional_monthly"]
    professional = plans.plan("professional")
    dearer = dataclasses.replace(professional, monthly_net=professional.monthly_net + 1)
    monkeypatch.setattr(plans, "PLANS", tuple(dearer if p.id == "professional" else p for p in plans.PLANS))
    writes = len(fake.writes())
    actions = sync_catalog(_gateway(fake))
    changed = [(a.kind, a.object_id) for a in actions if a.kind != "unchanged"]
    # The yearly price is derived from the monthly one, so both change.
    assert changed == [
        ("price_created", "carbot_professional_monthly"),
        ("price_deactivated", old["id"]),
        ("price_created", "carbot_professional_yearly"),
        ("price_deactivated", changed[3][1]),
    ]
    (new,) = [p for p in fake.prices.values() if p["lookup_key"] == "carbot_professional_monthly"]
    assert new["unit_amount"] == dearer.monthly_cents != old["unit_amount"]
    assert old["active"] is False and old["lookup_key"] is None
    assert len(fake.writes()) == writes + 4
    deactivate = fake.calls("POST", f"/v1/prices/{old['id']}")[0]
    assert (
        deactivate.form == {"active": "false"} and deactivate.idempotency_key == f"catalog:price-deactivate:{old['id']}"
    )
    assert {a.kind for a in sync_catalog(_gateway(fake))} == {"unchanged"}


def test_drifted_product_is_repaired_and_dry_run_writes_nothing(fake: FakeStripe):
    sync_catalog(_gateway(fake))
    fake.products["carbot_starter"]["name"] = "Irgendwas"
    writes = len(fake.writes())
    preview = sync_catalog(_gateway(fake), dry_run=True)
    assert [(a.kind, a.object_id) for a in preview if a.kind != "unchanged"] == [("product_updated", "carbot_starter")]
    assert len(fake.writes()) == writes
    sync_catalog(_gateway(fake))
    assert fake.products["carbot_starter"]["name"] == "CarBot Werkstatt Starter"
    assert fake.writes()[-1].form == {"name": "CarBot Werkstatt Starter"}


def test_stripe_catalog_command(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("CARBOT_STRIPE_SECRET_KEY", raising=False)
    assert main(["server", "stripe-catalog"]) == 1
    assert "Die Zahlungsabwicklung ist auf diesem Server nicht eingerichtet." in capsys.readouterr().err
    monkeypatch.setenv("CARBOT_STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setenv("CARBOT_STRIPE_API_BASE", fake.url)
    assert main(["server", "stripe-catalog", "--dry-run"]) == 0
    assert "Probelauf: 9 Änderung(en)" in capsys.readouterr().out and fake.writes() == []
    assert main(["server", "stripe-catalog"]) == 0
    out = capsys.readouterr().out
    assert "Preis angelegt: carbot_enterprise_yearly" in out and "Stripe-Katalog: 9 Änderung(en)." in out
    assert API_KEY not in out
    assert main(["server", "stripe-catalog"]) == 0
    assert "Stripe-Katalog: 0 Änderung(en)." in capsys.readouterr().out


def test_subscription_command_sets_shows_and_announces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    app = create_app(make_settings(db_url))
    with TestClient(app) as client:
        tenant = register_tenant(client)
    monkeypatch.setenv("CARBOT_SERVER_DB_URL", db_url)
    monkeypatch.delenv("CARBOT_REDIS_URL", raising=False)
    org = tenant.organization_id
    assert main(["server", "subscription", org]) == 0
    assert "Tarif Starter, Status trialing" in capsys.readouterr().out
    command = ["server", "subscription", org, "--plan", "professional", "--status", "past_due",
               "--period-end", "2026-12-31"]  # fmt: skip
    assert main(command) == 0
    assert "Tarif Professional, Status past_due, Periodenende 2026-12-31T23:00:00+00:00" in capsys.readouterr().out
    db = open_server_database(db_url, run_migrations=False)
    with db.sessions() as session:
        state = plan_state(session, org)
        assert (state.plan_id, state.status) == ("professional", SubscriptionStatus.PAST_DUE)
        assert state.grace_until is not None  # the configured grace, from now
        change = session.query(ChangeLogEntry).filter_by(organization_id=org, stream="entitlements").one()
        assert change.data == {"plan_id": "professional", "status": "past_due",
                               "grace_until": state.grace_until.isoformat()}  # fmt: skip
    db.close()
    assert main(["server", "subscription", "gibt-es-nicht", "--plan", "starter", "--status", "active"]) == 1
    assert "nicht gefunden" in capsys.readouterr().err
    assert main(["server", "subscription", org, "--plan", "starter"]) == 1
    with pytest.raises(SystemExit):
        main(["server", "subscription", org, "--plan", "premium", "--status", "active"])


def test_stripe_settings_from_the_environment_never_show_the_secrets(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CARBOT_STRIPE_SECRET_KEY", "sk_live_streng_geheim")
    monkeypatch.setenv("CARBOT_STRIPE_WEBHOOK_SECRET", "whsec_auch_geheim")
    monkeypatch.setenv("CARBOT_BILLING_GRACE_DAYS", "10")
    monkeypatch.setenv("CARBOT_BILLING_RETURN_URL", "https://app.carbot.test/abo")
    settings = Settings()
    assert settings.stripe_secret_key is not None and settings.billing_grace_days == 10
    assert "geheim" not in repr(settings) and "geheim" not in str(settings.model_dump())
    monkeypatch.setenv("CARBOT_BILLING_RETURN_URL", "javascript:alert(1)")
    with pytest.raises(pydantic.ValidationError):
        Settings()
    monkeypatch.delenv("CARBOT_BILLING_RETURN_URL")
    monkeypatch.delenv("CARBOT_BILLING_GRACE_DAYS")
    assert Settings().billing_grace_days == plans.PAST_DUE_GRACE_DAYS
