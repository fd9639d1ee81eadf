"""Liveness, readiness and the public signing keys (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text

from sync.server.deps import ContextDep
from sync.server.errors import ServiceUnavailable
from sync.server.schemas import Health, JsonWebKeySet

router = APIRouter(tags=["Betrieb"])
JWKS_CACHE_SECONDS = 600  # verifiers cache the key set ~10 minutes (reference §4)


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers (touches neither database nor store)."""
    return Health()


@router.get("/readyz", response_model=Health, responses={503: {"description": "Datenbank oder Redis fehlt"}})
def readyz(ctx: ContextDep) -> Health:
    """Readiness: the database and the store answer."""
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        ctx.store.ping()
    except Exception as exc:  # any backend failure (SQLAlchemy, StoreUnavailable) means "not ready"
        raise ServiceUnavailable() from exc
    return Health()


@router.get("/.well-known/jwks.json", response_model=JsonWebKeySet)
def jwks(ctx: ContextDep, response: Response) -> dict[str, Any]:
    """Public keys that verify our tokens (current and recently retired ones)."""
    response.headers["Cache-Control"] = f"public, max-age={JWKS_CACHE_SECONDS}"
    return ctx.keyring.jwks()
