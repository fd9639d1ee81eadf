"""Fixtures shared by the tests in tests/app/."""

from __future__ import annotations

import pytest

from app.db import Database
from tests.app.invoicing_support import Shop, make_shop


@pytest.fixture
def shop(db: Database) -> Shop:
    """The demo workshop for the invoicing checklist tests (a module may define its own ``shop``)."""
    return make_shop(db)
