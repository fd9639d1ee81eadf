"""Alembic environment: runs on the connection handed in by app.db.migrate (or a URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from app.models import Base

config = context.config
connection = config.attributes.get("connection")


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:  # noqa: ARG001
    """Keep autogenerate away from the FTS5 search index (raw SQL, maintained by triggers)."""
    return not (type_ == "table" and name is not None and name.startswith("search_index"))


def _run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        _run(conn)
