"""``carbot server stripe-catalog``: Stripe Products and Prices from ``app.plans``, idempotently.

Per plan one Product with the fixed id ``carbot_<plan>`` (so it is found again without a search) and
two Prices, found by their ``lookup_key`` (``carbot_<plan>_monthly``/``_yearly``): EUR, net
(``tax_behavior=exclusive``: Stripe Tax adds the VAT), metadata ``carbot_plan``/``interval``.

- A second run with the same plan table changes nothing (every object is compared first).
- A changed amount (or interval, currency, tax behaviour, product) cannot be edited on a Stripe Price:
  a NEW Price is created with ``transfer_lookup_key=true`` (the lookup key moves to it, so checkout
  uses it at once) and the old Price is deactivated. Running subscriptions keep their old Price until
  they are changed; the webhook still maps them, because the old Price keeps ``metadata.carbot_plan``.
- Every write carries an idempotency key derived from the parameters, so a re-run after a crash
  within Stripe's 24 hours replays instead of duplicating.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app import plans
from app.plans import Plan
from sync.server.billing.mapping import ref_id
from sync.server.billing.stripe_client import StripeDict, StripeGateway

TAX_CODE = "txcd_10103001"
"""Stripe tax code "Software as a service (SaaS) – business use" (docs/billing.md)."""


@dataclass(frozen=True)
class CatalogAction:
    """One thing the sync did (or, in a dry run, would do)."""

    kind: str  # product_created | product_updated | price_created | price_updated | price_deactivated | unchanged
    object_id: str
    detail: str


def product_id(plan: Plan) -> str:
    """The fixed Stripe Product id of ``plan``."""
    return f"carbot_{plan.id}"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _digest(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:20]


def product_params(plan: Plan) -> StripeDict:
    """What the Product of ``plan`` must look like."""
    return {
        "name": f"CarBot Werkstatt {plan.name}",
        "metadata": {"carbot_plan": plan.id},
        "tax_code": TAX_CODE,
    }


def price_params(plan: Plan, interval: str) -> StripeDict:
    """What the Price of ``plan`` per ``interval`` must look like (amount from ``app.plans``)."""
    yearly = interval == "year"
    return {
        "product": product_id(plan),
        "currency": plan.currency.lower(),
        "unit_amount": plan.yearly_cents if yearly else plan.monthly_cents,
        "recurring": {"interval": interval},
        "lookup_key": plan.stripe_lookup_key_yearly if yearly else plan.stripe_lookup_key_monthly,
        "tax_behavior": "exclusive" if plan.prices_are_net else "inclusive",
        "nickname": f"{plan.name} {'jährlich' if yearly else 'monatlich'}",
        "metadata": {"carbot_plan": plan.id, "interval": interval},
    }


def _product_changes(found: Mapping[str, Any], wanted: StripeDict) -> StripeDict:
    changes: StripeDict = {}
    if found.get("name") != wanted["name"]:
        changes["name"] = wanted["name"]
    metadata = _dict(found.get("metadata"))
    if any(metadata.get(k) != v for k, v in wanted["metadata"].items()):
        changes["metadata"] = wanted["metadata"]
    if ref_id(found.get("tax_code")) != wanted["tax_code"]:
        changes["tax_code"] = wanted["tax_code"]
    if found.get("active") is False:
        changes["active"] = True
    return changes


def _same_price(found: Mapping[str, Any], wanted: StripeDict) -> bool:
    recurring = _dict(found.get("recurring"))
    return bool(
        found.get("unit_amount") == wanted["unit_amount"]
        and str(found.get("currency", "")).lower() == wanted["currency"]
        and recurring.get("interval") == wanted["recurring"]["interval"]
        and found.get("tax_behavior") == wanted["tax_behavior"]
        and ref_id(found.get("product")) == wanted["product"]
    )


def _sync_product(gateway: StripeGateway, plan: Plan, *, dry_run: bool) -> CatalogAction:
    pid, wanted = product_id(plan), product_params(plan)
    found = gateway.retrieve_product(pid)
    if found is None:
        if not dry_run:
            params = {"id": pid, **wanted}
            gateway.create_product(params, idempotency_key=f"catalog:product:{pid}:{_digest(params)}")
        return CatalogAction("product_created", pid, wanted["name"])
    changes = _product_changes(found, wanted)
    if not changes:
        return CatalogAction("unchanged", pid, wanted["name"])
    if not dry_run:
        gateway.modify_product(pid, changes, idempotency_key=f"catalog:product-update:{pid}:{_digest(changes)}")
    return CatalogAction("product_updated", pid, ", ".join(sorted(changes)))


def _sync_price(gateway: StripeGateway, plan: Plan, interval: str, *, dry_run: bool) -> list[CatalogAction]:
    wanted = price_params(plan, interval)
    key = str(wanted["lookup_key"])
    found = gateway.find_price(key)
    amount = f"{wanted['unit_amount']} {wanted['currency']}/{interval}"
    if found is not None and _same_price(found, wanted):
        metadata = _dict(found.get("metadata"))
        if all(metadata.get(k) == v for k, v in wanted["metadata"].items()):
            return [CatalogAction("unchanged", key, amount)]
        if not dry_run:
            changes = {"metadata": wanted["metadata"]}
            gateway.modify_price(
                str(found["id"]), changes, idempotency_key=f"catalog:price-update:{found['id']}:{_digest(changes)}"
            )
        return [CatalogAction("price_updated", key, "metadata")]
    actions = [CatalogAction("price_created", key, amount)]
    if not dry_run:
        params = {**wanted, "transfer_lookup_key": True}
        gateway.create_price(params, idempotency_key=f"catalog:price:{key}:{_digest(params)}")
    if found is not None:
        old = str(found["id"])
        if not dry_run:
            gateway.modify_price(old, {"active": False}, idempotency_key=f"catalog:price-deactivate:{old}")
        actions.append(CatalogAction("price_deactivated", old, key))
    return actions


def sync_catalog(gateway: StripeGateway, *, dry_run: bool = False) -> list[CatalogAction]:
    """Bring Stripe's products and prices in line with ``app.plans``; returns what was done."""
    actions: list[CatalogAction] = []
    for plan in plans.PLANS:
        actions.append(_sync_product(gateway, plan, dry_run=dry_run))
        for interval in ("month", "year"):
            actions.extend(_sync_price(gateway, plan, interval, dry_run=dry_run))
    return actions
