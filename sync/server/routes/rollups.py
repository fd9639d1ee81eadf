"""GET /v1/rollups: the organisation's daily facts summed per location or per day (owner, auditor)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from sync.server import rollups
from sync.server.deps import ContextDep, CurrentUser, SessionDep
from sync.server.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1/rollups", tags=["Auswertungen"], responses=ERROR_RESPONSES)


@router.get("", response_model=rollups.RollupResponse)
def get_rollups(
    ctx: ContextDep,
    session: SessionDep,
    user: CurrentUser,
    date_from: Annotated[dt.date, Query(alias="from", description="Erster Tag (einschließlich)")],
    date_to: Annotated[dt.date, Query(alias="to", description="Letzter Tag (einschließlich)")],
    group: Annotated[rollups.Group, Query(description="Gruppierung: je Standort oder je Tag")] = "location",
    location_id: Annotated[str | None, Query(min_length=1, max_length=64, description="Nur dieser Standort")] = None,
) -> rollups.RollupResponse:
    """Revenue per VAT rate, invoices, AW, labour and parts, customers, appointments, chats and leads.

    More than one location needs the Enterprise plan (``multi_location_rollups``).
    """
    return rollups.rollup(session, user, date_from=date_from, date_to=date_to, group=group,
                          location_id=location_id, now=ctx.clock())  # fmt: skip
