"""Work the settings pages hand to the background thread: checking, saving and loading.

Everything here runs on the task runner's worker thread, so it must never touch Qt. It only calls
the services; the rules themselves stay in ``app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.changes import Changes
from app.errors import ValidationError
from app.services.catalog import ServiceDTO
from app.services.registry import Services
from app.services.settings import BayDTO, MechanicDTO, SettingsService, WorkshopSettings

# SettingsService.update stops at the first bad field. To show every problem at once, each field is
# checked on its own with the service's own per-field cleaner (the rules stay in app/). A public
# SettingsService.validate() would be the better home for this; see the report to the lead.
from app.services.settings import _clean as _clean_setting

CATALOG_LIMIT = 500


class SettingsRejected(Exception):
    """Some fields are invalid; nothing was saved. ``problems`` holds one ValidationError per field."""

    def __init__(self, problems: list[ValidationError]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def check_settings(service: SettingsService, changes: dict[str, Any]) -> list[ValidationError]:
    """Every field's problem (at most one per field), judged against the other new values."""
    merged = service.get().as_dict() | changes
    problems: list[ValidationError] = []
    for key, value in changes.items():
        try:
            _clean_setting(key, value, merged)
        except ValidationError as exc:
            problems.append(exc)
        except ValueError:
            problems.append(ValidationError("Der Wert „{value}“ ist ungültig.", field=key, value=str(value)))
    return problems


def save_settings(service: SettingsService, changes: dict[str, Any]) -> tuple[WorkshopSettings, Changes]:
    """Check every field, then store all of them at once; SettingsRejected when any field is bad."""
    problems = check_settings(service, changes)
    if problems:
        raise SettingsRejected(problems)
    return service.update(**changes)


@dataclass(frozen=True)
class ResourcesData:
    """Bays and mechanics, inactive ones included."""

    bays: list[BayDTO]
    mechanics: list[MechanicDTO]


def load_resources(service: SettingsService) -> ResourcesData:
    """All bays and mechanics for the "Bühnen & Monteure" page."""
    return ResourcesData(service.bays(include_inactive=True), service.mechanics(include_inactive=True))


@dataclass(frozen=True)
class CatalogData:
    """One search result of the catalogue page, with what the page needs around it."""

    services: list[ServiceDTO]
    categories: list[str]
    total: int
    labour_rate: Decimal
    aw_per_hour: int
    limit: int


def load_catalog(services: Services, text: str, category: str | None, limit: int = CATALOG_LIMIT) -> CatalogData:
    """Search the catalogue and fetch categories, the total and the labour rate for the price column."""
    settings = services.settings.get()
    return CatalogData(
        services=services.catalog.search(text, category=category or None, limit=limit),
        categories=services.catalog.categories(),
        total=services.catalog.count(active_only=True),
        labour_rate=settings.labour_rate_net,
        aw_per_hour=settings.aw_per_hour,
        limit=limit,
    )
