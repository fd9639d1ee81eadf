"""The set of services one database offers; built by the composition roots (GUI, CLI, tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from app.db import Database, open_database
from app.services.appointments import AppointmentService
from app.services.catalog import CatalogService
from app.services.customers import CustomerService
from app.services.privacy import PrivacyService
from app.services.search import SearchService
from app.services.settings import SettingsService
from app.services.vehicles import VehicleService


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
        )

    @classmethod
    def open(cls, path: Path | str) -> Services:
        """Open (and migrate) the database at ``path``."""
        return cls.for_database(open_database(path))

    def close(self) -> None:
        """Close the database."""
        self.db.close()
