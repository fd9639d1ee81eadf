"""Wire schemas of the sync protocol, shared by the desktop client and the hosted API (version 1).

Only this module is shared between ``sync.client`` and ``sync.server`` (architecture §3). The protocol
(docs/sync.md, chat-sync-auth-billing.md §3.3):

- ``POST /v1/sync/push`` with ``PushRequest`` (header ``Idempotency-Key: <batch_id>``): up to
  ``MAX_BATCH`` ops, each with a client-made UUID ``op_id`` the server de-duplicates; the answer is one
  ``OpResult`` per op (``applied``, ``duplicate``, ``conflict`` or ``rejected``).
- ``GET /v1/sync/pull?since=<seq>&streams=a,b&limit=<n>`` → ``PullResponse``: the changes of the
  organisation after ``since`` in the requested streams, ``next_since`` (the cursor to store together
  with the applied changes) and ``has_more``. ``410 Gone`` means the cursor is older than the tombstone
  retention: do a full resync with ``GET /v1/sync/snapshot`` (``SnapshotResponse``).
- ``GET /v1/sync/events`` → server-sent ``poke`` events (``Poke``) or, with ``?wait=``, one long-poll answer.

Streams: ``records`` (business data pushed by the desktops), ``facts`` (daily facts), and the
server-authoritative ``entitlements``, ``settings`` and ``chat`` (the web chat's conversations,
messages and booking requests, ``sync.protocol_chat``); desktops pull the last three by default.

Field names of the daily facts (``DailyFacts``), one row per location and calendar day (local date):

- ``revenue``: per VAT rate the net, tax and gross amount of the final invoices issued that day, as in
  their EN 16931 tax breakdown (the Altteil value and its Altteilsteuer are part of the 19 % line, the
  set-off against the returned old part is a 0 % line); Stornorechnungen count with negative amounts, so
  a cancelled invoice nets to zero. The nets add up to ``net_total``, the grosses to ``gross_total``;
- ``net_total``/``tax_total``/``gross_total``: the sums over all final invoices of the day (gross = net +
  tax); ``altteil_tax`` is the part of ``tax_total`` that is Altteilsteuer;
- ``invoice_count``: final invoices (kind ``invoice``) issued; ``storno_count``: Stornorechnungen issued;
- ``aw_sold``: AW (Arbeitswerte) of the labour lines, Storno lines subtracted;
- ``labour_net``: net of labour lines; ``parts_net``: net of part and Austauschteil lines;
  ``other_net``: everything else (fees, discounts, Altteil lines);
- ``new_customers``: customers created that day; ``appointments``: appointments starting that day
  that are not cancelled; ``chats`` and ``leads``: web chats (conversations with a message, by the day
  they began) and leads (by the day the conversation became one; ``app.services.chat_stats``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
MAX_BATCH = 200
"""Most ops in one push."""
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 1000
MAX_PAYLOAD_BYTES = 64 * 1024
"""A larger op payload is rejected (op by op, not the whole batch)."""


class Stream(StrEnum):
    """Kinds of changes in the organisation's change log."""

    RECORDS = "records"  # business data pushed by the desktops
    FACTS = "facts"  # daily facts per location
    ENTITLEMENTS = "entitlements"  # server-authoritative: plan and features
    SETTINGS = "settings"  # server-authoritative: e.g. invoice number prefixes per location
    CHAT = "chat"  # server-authoritative (web widget): conversations, messages, booking requests


SERVER_STREAMS = frozenset({Stream.ENTITLEMENTS, Stream.SETTINGS, Stream.CHAT})
DESKTOP_DEFAULT_STREAMS = (Stream.ENTITLEMENTS, Stream.SETTINGS, Stream.CHAT)


class Entity(StrEnum):
    """Entity names on the wire. Desktops push the first seven; the rest come only from the server."""

    CUSTOMER = "customer"
    VEHICLE = "vehicle"
    APPOINTMENT = "appointment"
    WORK_ORDER = "work_order"
    INVOICE = "invoice"  # final invoices and Stornorechnungen only; immutable
    PAYMENT = "payment"  # immutable
    DAILY_FACT = "daily_fact"  # entity_id = ISO date; upsert per (location, date)
    ENTITLEMENT = "entitlement"
    NUMBER_PREFIX = "number_prefix"
    SETTING = "setting"


OpKind = Literal["upsert", "delete"]
EntityId = Annotated[str, Field(min_length=1, max_length=64)]
ShortText = Annotated[str, Field(min_length=1, max_length=64)]


class Wire(BaseModel):
    """Base of every request model: unknown fields are an error (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid")


class Op(Wire):
    """One change of one entity, made on a desktop.

    ``entity_id`` is stable per location (the desktop's row id); ``hlc`` is the hybrid logical clock
    stamp of the change (``app.hlc``), ``base_version`` the server version the change was based on
    (None = unknown: the server decides by HLC). ``payload`` holds the entity's business fields; a
    delete carries at most the id (it becomes a tombstone).
    """

    op_id: uuid.UUID
    entity: Annotated[str, Field(min_length=1, max_length=40)]
    entity_id: EntityId
    op: OpKind
    base_version: Annotated[int, Field(ge=0)] | None = None
    hlc: ShortText
    payload: dict[str, Any] = Field(default_factory=dict)


class PushRequest(Wire):
    """A batch of ops from one device of one location, ordered by HLC."""

    protocol_version: Literal[1] = 1
    device_id: ShortText
    location_id: ShortText
    batch_id: uuid.UUID
    ops: Annotated[list[Op], Field(max_length=MAX_BATCH)]


OpStatus = Literal["applied", "duplicate", "conflict", "rejected"]


class OpResult(BaseModel):
    """What the server did with one op.

    - ``applied``: stored; ``version`` is the record's new version, ``seq`` its change-log position;
    - ``duplicate``: this op (or the same content) was stored before; the stored result comes back;
    - ``conflict``: the server has a newer state (``canonical``); nothing was changed;
    - ``rejected``: refused by a policy (``reason`` says why, in German); never retried.
    """

    op_id: uuid.UUID
    status: OpStatus
    version: int | None = None
    seq: int | None = None
    reason: str | None = None
    canonical: dict[str, Any] | None = None


class PushResponse(BaseModel):
    """One result per op, in the order of the request."""

    protocol_version: int = PROTOCOL_VERSION
    batch_id: uuid.UUID
    results: list[OpResult]
    last_seq: int
    """The organisation's newest change sequence after this push."""


class Change(BaseModel):
    """One entry of the change log as the desktop pulls it; ``data`` is None for a delete (tombstone)."""

    seq: int
    stream: str
    entity: str
    entity_id: str
    op: OpKind
    data: dict[str, Any] | None = None
    location_id: str | None = None
    """The location the change belongs to; None for organisation-wide changes."""


class PullResponse(BaseModel):
    """A page of changes after the requested cursor.

    Apply ``changes`` and store ``next_since`` in ONE local transaction; pull again while ``has_more``.
    ``entitlement`` is a freshly signed entitlement token for this device's location whenever the
    ``entitlements`` stream was asked for (verify it offline with ``sync.entitlements``).
    """

    protocol_version: int = PROTOCOL_VERSION
    changes: list[Change]
    next_since: int
    has_more: bool
    entitlement: str | None = None


class SnapshotResponse(BaseModel):
    """A page of the current state (full resync after ``410 Gone``).

    ``as_of_seq`` of the first page becomes the new cursor once every page is applied; ``after`` is the
    paging key for the next page (None on the last page).
    """

    protocol_version: int = PROTOCOL_VERSION
    records: list[Change]
    as_of_seq: int
    after: int | None
    entitlement: str | None = None


class Poke(BaseModel):
    """A change notification: the organisation's change log reached ``seq`` (pull to see what changed)."""

    seq: int
    changed: bool = True


class RateRevenue(BaseModel):
    """Revenue of one VAT rate (amounts as decimal strings on the wire)."""

    vat_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


class DailyFacts(BaseModel):
    """Key figures of one location on one day (see the module docstring for every field)."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    location_id: str = ""
    currency: Literal["EUR"] = "EUR"
    revenue: list[RateRevenue] = Field(default_factory=list)
    net_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    gross_total: Decimal = Decimal("0.00")
    altteil_tax: Decimal = Decimal("0.00")
    invoice_count: int = 0
    storno_count: int = 0
    aw_sold: Decimal = Decimal("0.00")
    labour_net: Decimal = Decimal("0.00")
    parts_net: Decimal = Decimal("0.00")
    other_net: Decimal = Decimal("0.00")
    new_customers: int = 0
    appointments: int = 0
    chats: int = 0
    leads: int = 0


class ErrorBody(BaseModel):
    """The JSON body of an error answer of the hosted API."""

    detail: str
    code: str
