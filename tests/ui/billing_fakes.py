"""A scripted hosted API for the Abo page tests, at the network edge (httpx.MockTransport).

It speaks the real wire format (``sync.protocol_billing`` models, the auth routes' JSON) and keeps a
subscription that checkout, change, cancel and resume act on, like the server would with Stripe. The plan
table is ``plan_catalogue()`` – the server's own view of ``app.plans``; no price is typed here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from app import plans
from sync.protocol_billing import (
    PAYMENTS_NOT_CONFIGURED,
    BillingOverview,
    InvoiceOut,
    UsageOut,
    plan_catalogue,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ORDER = [p.id for p in plans.PLANS]


class FakeBillingServer:
    """Answers /v1/auth/*, /v1/me and /v1/billing/* for one organisation."""

    def __init__(self, *, role: str = "owner", configured: bool = True) -> None:
        self.role = role
        self.configured = configured
        self.requests: list[httpx.Request] = []
        self.bodies: list[tuple[str, Any]] = []
        self.tokens = 0
        self.state: dict[str, Any] = {
            "plan_id": "starter",
            "status": "trialing",
            "interval": None,
            "trial_ends_at": NOW + dt.timedelta(days=plans.TRIAL_DAYS),
            "current_period_end": None,
            "cancel_at_period_end": False,
            "scheduled_plan_id": None,
            "scheduled_interval": None,
            "grace_until": None,
            "read_only": False,
            "leads": 37,
            "locations": 1,
            "invoices": [],
        }

    def subscribe(self, plan_id: str, interval: str = "month", **extra: Any) -> None:
        """Put the organisation on a running Stripe subscription."""
        self.state.update(plan_id=plan_id, status="active", interval=interval, trial_ends_at=None,
                          current_period_end=NOW + dt.timedelta(days=20), **extra)  # fmt: skip

    def overview(self) -> BillingOverview:
        s = self.state
        limits = plans.plan(s["plan_id"]).limits
        status = s["status"]
        return BillingOverview(
            plan_id=s["plan_id"],
            plan_name=plans.plan(s["plan_id"]).name,
            status=status,
            effective_status=status,
            interval=s["interval"],
            trial_ends_at=s["trial_ends_at"],
            current_period_end=s["current_period_end"],
            cancel_at_period_end=s["cancel_at_period_end"],
            scheduled_plan_id=s["scheduled_plan_id"],
            scheduled_interval=s["scheduled_interval"],
            grace_until=s["grace_until"],
            read_only=s["read_only"],
            usage=UsageOut(
                leads_this_month=s["leads"],
                leads_limit=limits.leads_per_month,
                locations=s["locations"],
                locations_limit=limits.locations,
            ),  # fmt: skip
            invoices=[InvoiceOut.model_validate(i) for i in s["invoices"]],
            plans=plan_catalogue(),
        )

    def _tokens(self) -> httpx.Response:
        self.tokens += 1
        return httpx.Response(200, json={"access_token": f"access-{self.tokens}", "expires_in": 600,
                                         "refresh_token": f"refresh-{self.tokens}",
                                         "refresh_expires_at": NOW.isoformat()})  # fmt: skip

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.bodies.append((path, body))
        if path == "/v1/auth/login":
            if body["password"] != "richtig-richtig":
                return httpx.Response(401, json={"detail": "E-Mail oder Passwort falsch.", "code": "wrong"})
            return self._tokens()
        if path == "/v1/auth/refresh":
            return self._tokens()
        if path == "/v1/auth/logout":
            return httpx.Response(204)
        if path == "/v1/me":
            me = {"kind": "user", "id": "u1", "organization_id": "o1", "organization_name": "Kfz Huber",
                  "role": self.role, "location_ids": [], "email": "inhaber@huber.example", "name": "Huber"}  # fmt: skip
            return httpx.Response(200, json=me)
        if path == "/v1/billing/subscription":
            return httpx.Response(200, content=self.overview().model_dump_json())
        if not self.configured:
            return httpx.Response(503, json={"detail": PAYMENTS_NOT_CONFIGURED, "code": "billing_not_configured"})
        if path == "/v1/billing/checkout":
            return httpx.Response(200, json={"url": f"https://checkout.stripe.com/c/pay/{body['plan_id']}"})
        if path == "/v1/billing/portal":
            return httpx.Response(200, json={"url": "https://billing.stripe.com/p/session/test"})
        if path == "/v1/billing/change":
            if ORDER.index(body["plan_id"]) > ORDER.index(self.state["plan_id"]):
                self.state.update(plan_id=body["plan_id"], interval=body["interval"])
            else:
                self.state.update(scheduled_plan_id=body["plan_id"], scheduled_interval=body["interval"])
        elif path == "/v1/billing/cancel":
            self.state["cancel_at_period_end"] = True
        elif path == "/v1/billing/resume":
            self.state["cancel_at_period_end"] = False
        else:
            return httpx.Response(404, json={"detail": "Nicht gefunden.", "code": "not_found"})
        return httpx.Response(200, content=self.overview().model_dump_json())

    def billing_posts(self) -> list[tuple[str, Any]]:
        return [(p, b) for p, b in self.bodies if p.startswith("/v1/billing/") and p != "/v1/billing/subscription"]
