"""Fixtures of the chat core tests: the demo workshop's services and public profile, a recording sink."""

from __future__ import annotations

import pytest

from app.chat.profile import PublicProfile, build_profile
from app.db import Database
from app.demo import setup_workshop
from app.services.registry import Services
from tests.app.chat.support import NOW, RecordingSink


@pytest.fixture
def services(db: Database) -> Services:
    """The demo workshop's master data (Munich, 118 €/h, 10 AW/h, four bays) and the shipped catalogue."""
    svc = Services.for_database(db)
    setup_workshop(svc)
    svc.catalog.load_defaults()
    return svc


@pytest.fixture
def profile(services: Services) -> PublicProfile:
    """The demo workshop's public profile at NOW."""
    return build_profile(services, now=NOW)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
