"""Alembic's script directory for the store (env.py, versions/), shipped as package data and run by
app/store/migrate.py at open; no alembic.ini. A new revision: ``PYTHONPATH=. .venv/bin/python -m app.store.migrate
revision -m "what changed"`` (render-as-batch, so SQLite ALTERs become copy-and-move where they must)."""
