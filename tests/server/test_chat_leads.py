"""Leads of the web chat: what counts, the Berlin calendar month, the plan limit and what happens there."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from sync.server.chat.leads import count_leads, daily_counts, month_bounds
from sync.server.chat.models import Conversation
from sync.server.models import new_id
from sync.server.webhooks_models import WebhookEvent
from tests.server.chat_support import (
    Workshop,
    authors,
    page,
    sample_profile,
    say,
    setup_workshop,
    start_visitor,
    wait_for_author,
    wait_until,
)
from tests.server.fixtures import *  # noqa: F403  (the pytest fixtures: api, clock, server_settings, ...)
from tests.server.fixtures import FakeClock
from tests.server.plan_support import grant_plan

UTC = dt.UTC


def _add_conversations(api: TestClient, shop: Workshop, *lead_times: dt.datetime | None, created: dt.datetime) -> None:
    """Conversations written straight into the database (``None``: not a lead)."""
    with api.app.state.ctx.db.unit() as session:  # type: ignore[attr-defined]
        for lead_at in lead_times:
            session.add(Conversation(
                id=new_id(), organization_id=shop.tenant.organization_id, location_id=shop.location_id,
                visitor_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), status="bot", language="de",
                consent_at=created, created_at=created, updated_at=created, last_seq=1, last_visitor_seq=1,
                answered_seq=1, bot_task_seq=1, is_lead=lead_at is not None, lead_at=lead_at, handoff_reason="",
                bot_stopped_by_limit=False,
            ))  # fmt: skip


def _usage(api: TestClient, shop: Workshop) -> dict[str, Any]:
    response = api.get("/v1/chat/usage", headers=shop.tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_leads_are_counted_per_berlin_calendar_month(api: TestClient):
    shop, other = setup_workshop(api), setup_workshop(api, name="Andere Werkstatt")
    created = dt.datetime(2026, 10, 1, tzinfo=UTC)
    _add_conversations(
        api, shop,
        dt.datetime(2026, 10, 31, 22, 59, tzinfo=UTC),  # 23:59 in Berlin: still October
        dt.datetime(2026, 10, 31, 23, 0, tzinfo=UTC),  # midnight in Berlin: November
        dt.datetime(2026, 11, 30, 22, 59, tzinfo=UTC),  # 23:59 on 30 November
        dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC),  # December in Berlin
        None,  # a chat without contact details is no lead
        created=created,
    )  # fmt: skip
    _add_conversations(api, other, dt.datetime(2026, 11, 10, tzinfo=UTC), created=created)
    start, end, month = month_bounds(dt.datetime(2026, 11, 15, 12, tzinfo=UTC))
    assert (start, end, month) == (dt.datetime(2026, 10, 31, 23, tzinfo=UTC), dt.datetime(2026, 11, 30, 23, tzinfo=UTC),
                                   "2026-11")  # fmt: skip
    assert month_bounds(dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC))[2] == "2027-01"
    december = month_bounds(dt.datetime(2026, 12, 5, tzinfo=UTC))
    assert december[1] == dt.datetime(2026, 12, 31, 23, tzinfo=UTC)
    with api.app.state.ctx.db.sessions() as session:  # type: ignore[attr-defined]
        assert count_leads(session, shop.tenant.organization_id, start, end) == 2
        assert count_leads(session, shop.tenant.organization_id, *december[:2]) == 1
        assert count_leads(session, other.tenant.organization_id, start, end) == 1
        assert daily_counts(session, shop.location_id, dt.date(2026, 11, 30)) == (0, 1)
        assert daily_counts(session, shop.location_id, dt.date(2026, 10, 1)) == (5, 0)


def test_the_lead_form_needs_phone_or_email_and_counts_once(api: TestClient):
    shop = setup_workshop(api)
    grant_plan(api.app, shop.tenant.organization_id, "enterprise")  # type: ignore[arg-type]  (webhooks)
    hook = api.post("/v1/webhooks", json={"url": "https://crm.example.de/carbot", "events": ["lead.created"]},
                    headers=shop.tenant.headers)  # fmt: skip
    assert hook.status_code == 201, hook.text
    visitor = start_visitor(api, shop.key, language="pl")
    empty = api.post(
        "/v1/widget/lead", json={"contact": {"name": "Jan", "concern": "Bremsen"}}, headers=visitor.headers
    )
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an."
    assert _usage(api, shop)["leads"] == 0
    left = api.post("/v1/widget/lead", json={"contact": {"name": "Jan Kowalski", "phone": "0151 1234567",
                                                         "vehicle": "VW Golf"}}, headers=visitor.headers)  # fmt: skip
    assert left.status_code == 200 and left.json()["messages"][0]["text"].startswith("Dziękujemy!")
    again = api.post("/v1/widget/lead", json={"contact": {"email": "jan@example.pl"}}, headers=visitor.headers)
    assert again.status_code == 200
    usage = _usage(api, shop)
    assert usage["leads"] == 1 and usage["leads_limit"] is None and usage["conversations"] == 1
    (conversation,) = api.get("/v1/chat/conversations", headers=shop.device.headers).json()
    assert conversation["is_lead"] and conversation["contact"] == {
        "name": "Jan Kowalski", "phone": "0151 1234567", "email": "jan@example.pl", "vehicle": "VW Golf",
        "concern": "", "preferred_time": ""}  # fmt: skip
    with api.app.state.ctx.db.sessions() as session:  # type: ignore[attr-defined]
        events = session.scalars(select(WebhookEvent).where(WebhookEvent.type == "lead.created")).all()
        assert [e.payload["data"]["id"] for e in events] == [visitor.conversation_id]


def test_contact_details_typed_into_the_chat_make_a_lead(api: TestClient):
    shop = setup_workshop(api)
    mileage = start_visitor(api, shop.key)
    say(api, mileage, "Mein Golf hat 150000 km, Baujahr 2012, HU war am 10.03.2026.")
    phone = start_visitor(api, shop.key)
    say(api, phone, "Bitte rufen Sie mich an: 0171 2345678")
    mail = start_visitor(api, shop.key)
    say(api, mail, "Schreiben Sie mir an erika.muster@example.de")
    listed = {c["id"]: c for c in api.get("/v1/chat/conversations", headers=shop.tenant.headers).json()}
    assert not listed[mileage.conversation_id]["is_lead"]
    assert listed[phone.conversation_id]["contact"]["phone"] == "0171 2345678"
    assert listed[mail.conversation_id]["contact"]["email"] == "erika.muster@example.de"
    assert _usage(api, shop)["leads"] == 2


def test_at_the_lead_limit_the_bot_stops_but_the_lead_form_still_works(api: TestClient, clock: FakeClock):
    shop = setup_workshop(api, profile=sample_profile(clock.now))
    grant_plan(api.app, shop.tenant.organization_id, "starter")  # type: ignore[arg-type]  (100 leads a month)
    _add_conversations(api, shop, *([clock.now - dt.timedelta(minutes=5)] * 99), created=clock.now)
    assert _usage(api, shop) | {"month": ""} == {"month": "", "leads": 99, "leads_limit": 100,
                                                 "lead_limit_reached": False, "conversations": 99}  # fmt: skip
    hundredth = start_visitor(api, shop.key)
    say(api, hundredth, "Bitte um Rückruf unter 0171 2345678, was kostet ein Ölwechsel?")
    wait_for_author(api, hundredth, "bot")  # the message that makes the 100th lead is still answered
    assert _usage(api, shop)["lead_limit_reached"] is True
    assert api.get("/v1/chat/agent/tasks", params={"wait": 0}, headers=shop.device.headers).json()[
        "lead_limit_reached"] is True  # fmt: skip
    visitor = start_visitor(api, shop.key)
    say(api, visitor, "Was kostet ein Ölwechsel?")
    notice = wait_for_author(api, visitor, "system")
    assert notice["text"].startswith("Vielen Dank für Ihre Nachricht! Ein Mitarbeiter meldet sich persönlich")
    state = page(api, visitor)
    assert state["status"] == "waiting_staff"
    clock.advance(seconds=30)
    api.app.state.chat.responder.wake()  # type: ignore[attr-defined]
    time.sleep(0.4)
    assert authors(api, visitor) == ["visitor", "system"]  # no bot answer
    waiting = api.get("/v1/chat/conversations", params={"status": "waiting_staff"}, headers=shop.tenant.headers)
    (listed,) = [c for c in waiting.json() if c["id"] == visitor.conversation_id]
    assert listed["bot_stopped_by_limit"] and listed["handoff_reason"] == "lead_limit"
    # The lead form keeps working: the workshop still gets the contact details.
    form = api.post("/v1/widget/lead", json={"contact": {"name": "Erika", "email": "erika@example.de"}},
                    headers=visitor.headers)  # fmt: skip
    assert form.status_code == 200 and _usage(api, shop)["leads"] == 101
    # An unlimited plan lets the bot answer again.
    grant_plan(api.app, shop.tenant.organization_id, "professional")  # type: ignore[arg-type]
    assert _usage(api, shop)["leads_limit"] is None
    fresh = start_visitor(api, shop.key)
    say(api, fresh, "Was kostet ein Ölwechsel?")
    clock.advance(seconds=4)  # the agent polled above, so it had the first seconds to take the task
    api.app.state.chat.responder.wake()  # type: ignore[attr-defined]
    assert "89,00" in wait_for_author(api, fresh, "bot")["text"]
    wait_until(lambda: page(api, fresh)["status"] == "bot", what="the bot status")
