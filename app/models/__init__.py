"""ORM models of the desktop database (SQLAlchemy 2); importing this registers every table."""

from app.models.appointments import Appointment, appointment_service
from app.models.audit import AuditEntry, ChainEntry
from app.models.base import Base
from app.models.catalog import Service
from app.models.chat import ChatBookingImport, ChatLink, ChatLlmUsage
from app.models.customers import Consent, Contact, Customer
from app.models.diagnostics import ObdProtocolMemory, ObdRecording, ObdScan
from app.models.invoices import (
    CashRecord,
    Invoice,
    InvoiceArchive,
    InvoiceLine,
    NumberCounter,
    NumberRange,
    Payment,
    Reminder,
)
from app.models.orders import Estimate, OrderApproval, OrderLine, WorkOrder
from app.models.privacy import LegalHold, PrivacyRequest
from app.models.sync import OutboxEntry, RemoteRecord, SyncDirtyDay, SyncState
from app.models.vehicles import MileageReading, Vehicle, VehicleEvent
from app.models.workshop import Bay, Mechanic, Workshop

__all__ = [
    "AuditEntry",
    "CashRecord",
    "ChatBookingImport",
    "ChatLink",
    "ChatLlmUsage",
    "ChainEntry",
    "Estimate",
    "Invoice",
    "InvoiceArchive",
    "InvoiceLine",
    "NumberCounter",
    "NumberRange",
    "ObdProtocolMemory",
    "ObdRecording",
    "ObdScan",
    "OrderApproval",
    "OrderLine",
    "OutboxEntry",
    "Payment",
    "Reminder",
    "WorkOrder",
    "Appointment",
    "Base",
    "Bay",
    "Consent",
    "Contact",
    "Customer",
    "LegalHold",
    "Mechanic",
    "MileageReading",
    "PrivacyRequest",
    "RemoteRecord",
    "Service",
    "SyncDirtyDay",
    "SyncState",
    "Vehicle",
    "VehicleEvent",
    "Workshop",
    "appointment_service",
]
