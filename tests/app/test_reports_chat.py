"""The reports' chat widget "Chats, Leads und Terminquote" and the chat figures of the daily facts.

Hand-computed story (February 2028, compared with January 2028; Berlin is UTC+1 in winter). The
conversations arrive as a sync round's pull stores them (``sync.local.apply_changes`` with the wire
models of ``sync.protocol_chat``); booking requests become pending appointments through the real import,
staff link and cancel appointments through the real services.

  conv  created (UTC)        messages  lead at (UTC)        appointment                     counts as
  j1    2028-01-10 10:00     2         2028-01-10 10:05     booking request → pending       Jan chat, lead, booked
  j2    2028-01-20 10:00     3         2028-01-20 10:03     none                            Jan chat, lead
  j3    2028-01-25 10:00     1         2028-01-25 10:01     none                            Jan chat, lead
  f1    2028-02-03 09:00     4         2028-02-03 09:05     booking request → pending       Feb chat, lead, booked
  f2    2028-02-10 10:00     2         –                    –                               Feb chat
  f3    2028-02-29 22:30     3         2028-02-29 23:10     –                               chat 29 Feb (23:30 local),
                                                                                            lead 1 March (00:10 local)
  f4    2028-01-31 23:30     2         2028-02-01 08:00     staff linked a confirmed one    chat + lead 1 Feb (00:30
                                                                                            local), booked
  f5    2028-02-15 12:00     0         –                    –                               nothing (no message)
  f6    2028-02-20 12:00     5         2028-02-20 12:10     request, staff cancelled it     Feb chat, lead (not booked)
  f7    2028-02-21 12:00     2         2028-02-21 12:05     –                               nothing (deleted)
  f8    2028-02-05 08:00     2         2028-02-05 08:02     –                               Feb chat, lead

February: chats f1 f2 f3 f4 f6 f8 = 6; leads f1 f4 f6 f8 = 4; with an appointment f1 f4 = 2 → 50.0 %.
January:  chats j1 j2 j3 = 3; leads 3; with an appointment j1 = 1 → 33.3 %. Change +16.7 points.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.db import Database
from app.reports.export import csv_text, report_dict
from app.reports.period import Period
from app.reports.types import KpiReport
from app.services.appointments import AppointmentInput, AppointmentService
from app.services.chat_inbox import ChatInboxService
from app.services.daily_facts import DailyFactsService, take_dirty_days
from app.services.reports import ReportService
from sync import local
from sync.protocol import Change
from sync.protocol_chat import BookingRequestOut, ChatStatus, ContactDetails, ConversationOut

TODAY = dt.date(2028, 3, 10)
FEB = Period(dt.date(2028, 2, 1), dt.date(2028, 2, 29))
D = dt.datetime
UTC = dt.UTC
CONTACT = ContactDetails(name="Eva Berg", phone="0171 2345678")


class Pulls:
    """Builds pull pages of the chat stream (increasing seq) and stores them as a sync round does."""

    def __init__(self, db: Database) -> None:
        self.db, self.seq = db, local.state(db).cursor

    def store(self, *docs: tuple[str, ConversationOut | BookingRequestOut | str]) -> None:
        changes = []
        for entity, model in docs:
            self.seq += 1
            if isinstance(model, str):  # a tombstone
                changes.append(Change(seq=self.seq, stream="chat", entity=entity, entity_id=model, op="delete"))
                continue
            data = model.model_dump(mode="json")
            changes.append(
                Change(seq=self.seq, stream="chat", entity=entity, entity_id=data["id"], op="upsert", data=data)
            )
        local.apply_changes(self.db, changes, cursor=self.seq)


def conversation(cid: str, created: dt.datetime, messages: int, lead_at: dt.datetime | None) -> ConversationOut:
    return ConversationOut(
        id=cid,
        location_id="loc-1",
        status=ChatStatus.BOT,
        language="de",
        created_at=created,
        updated_at=created,
        last_seq=messages,
        last_visitor_seq=messages,
        is_lead=lead_at is not None,
        lead_at=lead_at,
        contact=CONTACT if lead_at is not None else None,
    )


def booking(bid: str, cid: str, start: dt.datetime) -> BookingRequestOut:
    return BookingRequestOut(
        id=bid,
        conversation_id=cid,
        location_id="loc-1",
        service_code="",
        service_name="Ölwechsel",
        start=start,
        end=start + dt.timedelta(hours=1),
        contact=CONTACT,
        created_at=start,
    )


CONVERSATIONS = (
    conversation("j1", D(2028, 1, 10, 10, tzinfo=UTC), 2, D(2028, 1, 10, 10, 5, tzinfo=UTC)),
    conversation("j2", D(2028, 1, 20, 10, tzinfo=UTC), 3, D(2028, 1, 20, 10, 3, tzinfo=UTC)),
    conversation("j3", D(2028, 1, 25, 10, tzinfo=UTC), 1, D(2028, 1, 25, 10, 1, tzinfo=UTC)),
    conversation("f1", D(2028, 2, 3, 9, tzinfo=UTC), 4, D(2028, 2, 3, 9, 5, tzinfo=UTC)),
    conversation("f2", D(2028, 2, 10, 10, tzinfo=UTC), 2, None),
    conversation("f3", D(2028, 2, 29, 22, 30, tzinfo=UTC), 3, D(2028, 2, 29, 23, 10, tzinfo=UTC)),
    conversation("f4", D(2028, 1, 31, 23, 30, tzinfo=UTC), 2, D(2028, 2, 1, 8, tzinfo=UTC)),
    conversation("f5", D(2028, 2, 15, 12, tzinfo=UTC), 0, None),
    conversation("f6", D(2028, 2, 20, 12, tzinfo=UTC), 5, D(2028, 2, 20, 12, 10, tzinfo=UTC)),
    conversation("f7", D(2028, 2, 21, 12, tzinfo=UTC), 2, D(2028, 2, 21, 12, 5, tzinfo=UTC)),
    conversation("f8", D(2028, 2, 5, 8, tzinfo=UTC), 2, D(2028, 2, 5, 8, 2, tzinfo=UTC)),
)


@pytest.fixture
def story(db: Database) -> Database:
    pulls = Pulls(db)
    pulls.store(*(("chat_conversation", c) for c in CONVERSATIONS))
    pulls.store(
        ("chat_booking", booking("b-j1", "j1", D(2028, 1, 12, 9))),
        ("chat_booking", booking("b-f1", "f1", D(2028, 2, 7, 9))),
        ("chat_booking", booking("b-f6", "f6", D(2028, 2, 22, 9))),
    )
    inbox = ChatInboxService(db)
    assert len(inbox.import_bookings().imported) == 3
    appointments = AppointmentService(db)
    declined = next(b.appointment_id for b in inbox.bookings("f6"))
    assert declined is not None
    appointments.cancel(declined)
    start = D(2028, 2, 8, 14)
    linked = appointments.book(
        AppointmentInput(start=start, end=start + dt.timedelta(hours=1), title="Bremsen"), force=True
    ).appointment
    inbox.link("f4", appointment_id=linked.id)
    pulls.store(("chat_conversation", "f7"))  # the server deleted f7
    return db


def _report(db: Database) -> KpiReport:
    return ReportService(db, today=TODAY).kpis(FEB)


def test_chats_leads_and_terminquote_by_hand(story: Database) -> None:
    item = _report(story).kpi("chat_leads")
    assert item.available and item.unit == "%"
    assert (item.value, item.previous, item.delta) == (
        Decimal("50.0"),
        Decimal("33.3"),
        Decimal("16.7"),
    )
    assert item.detail_columns == ("Zeitraum", "Chats", "Leads", "Leads mit Termin", "Terminquote %")
    assert item.detail_rows[0] == ("Gesamt", 6, 4, 2, Decimal("50.0"))
    # Only the days with chat activity, in order: 1 Feb is f4 (00:30 local), 29 Feb has f3's chat only.
    assert [row[0] for row in item.detail_rows[1:]] == ["01.02.", "03.02.", "05.02.", "10.02.", "20.02.", "29.02."]
    assert item.detail_rows[-1] == ("29.02.", 1, 0, 0, None)
    assert item.detail_rows[-2] == ("20.02.", 1, 1, 0, Decimal("0.0"))  # the declined request does not count
    spark = item.sparkline
    assert len(spark) == 29 and (spark[0], spark[2], spark[4], spark[9], spark[19]) == (
        Decimal("100.0"),
        Decimal("100.0"),
        Decimal("0.0"),
        None,
        Decimal("0.0"),
    )
    assert item.note.startswith("6 Chats · 4 Leads · 2 mit Termin.")


def test_a_lead_after_midnight_counts_in_march_and_unlinking_changes_the_quote(story: Database) -> None:
    march = ReportService(story, today=TODAY).kpis(Period(dt.date(2028, 3, 1), dt.date(2028, 3, 31)))
    assert march.kpi("chat_leads").detail_rows[0] == ("Gesamt", 0, 1, 0, Decimal("0.0"))  # f3's lead
    ChatInboxService(story).link("f4", appointment_id=None)
    assert _report(story).kpi("chat_leads").detail_rows[0] == ("Gesamt", 6, 4, 1, Decimal("25.0"))


def test_without_chats_the_widget_is_available_but_shows_no_quote(db: Database) -> None:
    item = _report(db).kpi("chat_leads")
    assert item.available and item.value is None and item.previous is None
    assert item.detail_rows == (("Gesamt", 0, 0, 0, None),)
    assert set(item.sparkline) == {None}


def test_csv_pdf_and_json_carry_the_same_figures(story: Database, tmp_path: Path) -> None:
    report = _report(story)
    service = ReportService(story, today=TODAY)
    lines = service.export_csv("chat_leads", tmp_path / "chat.csv", report=report).read_text("utf-8-sig")
    assert "Chats, Leads und Terminquote;50,0;%;33,3;16,7;" in lines
    assert "Gesamt;6;4;2;50,0" in lines and "29.02.;1;0;0;" in lines
    assert "Chats, Leads und Terminquote;50,0;%;33,3;16,7;" in csv_text(report)
    widget = next(k for k in report_dict(report)["kpis"] if k["id"] == "chat_leads")
    assert (widget["value"], widget["previous"], widget["available"]) == ("50.0", "33.3", True)
    pdf = PdfReader(io.BytesIO(service.pdf(report=report)))
    content = " ".join(" ".join(page.extract_text() for page in pdf.pages).replace("\u00a0", " ").split())
    assert "Chats, Leads und Terminquote" in content and "Leads mit Termin" in content
    assert "6 4 2 50,0" in content


def test_daily_facts_count_chats_and_leads_and_pulls_mark_their_days(story: Database) -> None:
    facts = DailyFactsService(story)
    assert (facts.day(dt.date(2028, 2, 29)).chats, facts.day(dt.date(2028, 2, 29)).leads) == (1, 0)
    assert (facts.day(dt.date(2028, 3, 1)).chats, facts.day(dt.date(2028, 3, 1)).leads) == (0, 1)
    assert (facts.day(dt.date(2028, 2, 1)).chats, facts.day(dt.date(2028, 2, 1)).leads) == (1, 1)
    assert sum(f.leads for f in facts.between(FEB.start, FEB.end)) == 4
    with story.unit() as s:
        dirty = set(take_dirty_days(s))
    assert {dt.date(2028, 2, 29), dt.date(2028, 3, 1), dt.date(2028, 2, 1), dt.date(2028, 2, 21)} <= dirty
    # f2 becomes a lead a day later: its chat day and the new lead day must be recomputed, nothing else.
    f2 = CONVERSATIONS[4].model_copy(update={"is_lead": True, "lead_at": D(2028, 2, 11, 9, tzinfo=UTC)})
    Pulls(story).store(("chat_conversation", f2))
    with story.unit() as s:
        assert take_dirty_days(s) == [dt.date(2028, 2, 10), dt.date(2028, 2, 11)]
    assert facts.day(dt.date(2028, 2, 11)).leads == 1
