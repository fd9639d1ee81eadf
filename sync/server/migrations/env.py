"""Alembic environment of the server database (its own history, version table carbot_server_version)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

# Named here as well as found by ``load_models``: autogenerate must see every table even where the
# package cannot be listed (frozen builds); a new *_models.py module is added here too.
from sync.server import api_keys_models, billing_models, sync_models, webhooks_models  # noqa: F401
from sync.server.chat import models as chat_models  # noqa: F401
from sync.server.db import VERSION_TABLE, load_models
from sync.server.models import Base

config = context.config
load_models()


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://").begin() as _conn:
        _run(_conn)
