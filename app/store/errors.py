"""The store's errors, apart so app/store/migrate.py and app/store/database.py can both raise them."""
from __future__ import annotations


class StoreOpenError(ValueError):
    """The database file cannot be used (a folder, not SQLite, damaged, on a read-only disk, in use, failed to
    migrate); the message says which file, why, and what to do."""


class StoreCorruptError(StoreOpenError):
    """SQLite's integrity check failed: the file is left exactly as it is (never replaced)."""


class MigrationError(StoreOpenError):
    """An upgrade of the schema failed or cannot run; the database is as it was before (and copied aside)."""
