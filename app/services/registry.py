"""The set of services one database offers; built by the composition roots (GUI, CLI, tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from app.db import Database, open_database
from app.services.appointments import AppointmentService
from app.services.catalog import CatalogService
from app.services.chat_inbox import ChatInboxService
from app.services.customers import CustomerService
from app.services.diagnostics import DiagnosticsService
from app.services.estimates import EstimateService
from app.services.invoicing import InvoiceService
from app.services.payments import PaymentService
from app.services.privacy import PrivacyService
from app.services.search import SearchService
from app.services.settings import SettingsService
from app.services.vehicles import VehicleService
from app.services.work_orders import WorkOrderService


@dataclass
class Services:
    """All use-case services over one database."""

    db: Database
    settings: SettingsService
    customers: CustomerService
    vehicles: VehicleService
    catalog: CatalogService
    appointments: AppointmentService
    search: SearchService
    privacy: PrivacyService
    work_orders: WorkOrderService
    estimates: EstimateService
    invoices: InvoiceService
    payments: PaymentService
    diagnostics: DiagnosticsService
    chat: ChatInboxService

    @classmethod
    def for_database(cls, db: Database, *, today: dt.date | None = None) -> Services:
        """Wire every service to ``db``."""
        return cls(
            db=db,
            settings=SettingsService(db),
            customers=CustomerService(db),
            vehicles=VehicleService(db, today=today),
            catalog=CatalogService(db),
            appointments=AppointmentService(db),
            search=SearchService(db),
            privacy=PrivacyService(db),
            work_orders=WorkOrderService(db, today=today),
            estimates=EstimateService(db, today=today),
            invoices=InvoiceService(db, today=today),
            payments=PaymentService(db, today=today),
            diagnostics=DiagnosticsService(db, today=today),
            chat=ChatInboxService(db),
        )

    @classmethod
    def open(cls, path: Path | str) -> Services:
        """Open (and migrate) the database at ``path``."""
        return cls.for_database(open_database(path))

    def close(self) -> None:
        """Close the database."""
        self.db.close()
