"""Run by Alembic for every upgrade: online only, on the connection app/store/migrate.py opened (already inside its
transaction, so a failed revision rolls back as a whole)."""
from __future__ import annotations

from alembic import context

from app.store.schema import metadata

if context.is_offline_mode():
    raise RuntimeError("Vigil's migrations run online only (app/store/migrate.py)")

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table where it must
    on_version_apply=context.config.attributes.get("on_version_apply", ()),
)
with context.begin_transaction():
    context.run_migrations()
