"""What a mutation touched, so views refresh only what they show (Anki's OpChanges)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    """Flags per area; combine with ``|``."""

    customers: bool = False
    vehicles: bool = False
    catalog: bool = False
    appointments: bool = False
    settings: bool = False
    orders: bool = False
    invoices: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            customers=self.customers or other.customers,
            vehicles=self.vehicles or other.vehicles,
            catalog=self.catalog or other.catalog,
            appointments=self.appointments or other.appointments,
            settings=self.settings or other.settings,
            orders=self.orders or other.orders,
            invoices=self.invoices or other.invoices,
        )
