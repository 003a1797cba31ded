"""The few settings an admin may change on the panel (auto-logout, sound, each asset's alarm threshold), kept in
the database over the TOML file, checked by the same settings model and audited with old and new value.

Why the database and not a file: the change and its audit row commit in one transaction through the one writer,
so a change is never on disk without its audit entry (nor the reverse), it is covered by the database's 0600 mode
and its backups, and no second file needs an atomic-replace dance. The TOML file stays what the installer wrote;
``python main.py doctor`` and the Settings screen show where each value comes from. Changes take effect at the
next start of Vigil (the engine and the panel read their settings once, as with the file).
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.audit_chain import AuditAppended
from app.config import ConfigError, Settings, with_changes
from app.store import schema
from app.store.writer import Write, WriteSink
from app.users import Action, Session, require

log = logging.getLogger(__name__)

EDITABLE = ("ui.auto_logout_s", "ui.sound")
THRESHOLD_KEY = "detection.threshold"  # each asset's threshold obeys the global one's rule
SECRET_WORDS = ("password", "secret", "token", "key")  # a key naming one of these is shown masked
MASK = "********"
_O, _S = schema.settings_overrides, schema.asset_settings


class Source(StrEnum):
    FILE = "file"  # the TOML file, the environment or the built-in default
    PANEL = "panel"  # changed on the Settings screen (this table)


@dataclass(frozen=True, slots=True)
class SettingLine:
    key: str  # dotted, e.g. "ui.sound"
    value: str  # as shown: masked for a secret
    source: Source
    editable: bool


@dataclass(frozen=True, slots=True)
class SettingOverridden:
    key: str
    value_json: str
    changed_by: str
    ts: float

    def apply(self, conn: Connection) -> None:
        values = {"key": self.key, "value": self.value_json, "changed_by": self.changed_by, "changed_ts": self.ts}
        conn.execute(sqlite_insert(_O).values(values).on_conflict_do_update(
            index_elements=[_O.c.key], set_={k: v for k, v in values.items() if k != "key"}))


@dataclass(frozen=True, slots=True)
class AssetThresholdSet:
    asset: str
    threshold: float | None  # None: back to detection.threshold
    changed_by: str
    ts: float

    def apply(self, conn: Connection) -> None:
        values = {"asset": self.asset, "threshold": self.threshold, "changed_by": self.changed_by,
                  "changed_ts": self.ts}
        conn.execute(sqlite_insert(_S).values({**values, "out_of_service": 0}).on_conflict_do_update(
            index_elements=[_S.c.asset], set_=values))


def stored_overrides(db: Engine) -> dict[str, Any]:
    with db.connect() as c:
        return {r.key: json.loads(r.value) for r in c.execute(select(_O.c.key, _O.c.value))}


def stored_thresholds(db: Engine) -> dict[str, float]:
    with db.connect() as c:
        return {r.asset: r.threshold for r in c.execute(select(_S.c.asset, _S.c.threshold)
                                                         .where(_S.c.threshold.is_not(None)))}


def with_overrides(settings: Settings, db: Engine) -> Settings:
    """``settings`` with the panel's changes applied; one that no longer passes (a newer rule) is logged and
    left out, so a stored value can never stop the gateway from starting."""
    for key, value in stored_overrides(db).items():
        if key not in EDITABLE:
            log.warning("ignoring stored setting %r: not one the panel may change", key)
            continue
        try:
            settings = with_changes(settings, {key: value})
        except ConfigError as exc:
            log.warning("ignoring the panel's setting %s: %s", key, exc)
    return settings


def flat(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            out.update(flat(value, key + "."))
        else:
            out[key] = value
    return out


def is_secret(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    return any(w in last for w in SECRET_WORDS)


class SettingsEditor:
    """The effective settings (file + panel changes) and the panel's changes to them; admin only."""

    def __init__(self, db: Engine, writer: WriteSink, settings: Settings, clock: Callable[[], float]) -> None:
        self._db, self._writer, self._clock = db, writer, clock
        self.settings = settings
        self._lock = threading.Lock()

    def effective(self) -> list[SettingLine]:
        panel = stored_overrides(self._db)
        return [SettingLine(k, MASK if is_secret(k) and v else shown_value(v),
                            Source.PANEL if k in panel else Source.FILE, k in EDITABLE)
                for k, v in flat(self.settings).items()]

    def thresholds(self) -> dict[str, float]:
        """Assets with a threshold of their own (the others use detection.threshold)."""
        return stored_thresholds(self._db)

    def change(self, by: Session, key: str, value: Any) -> Settings:
        """Raises ConfigError (the loader's words) for a bad value, ValueError for a key not editable here."""
        require(by, Action.SETTINGS)
        if key not in EDITABLE:
            raise ValueError(f"{key} cannot be changed on the panel; allowed: {', '.join(EDITABLE)}")
        with self._lock:
            old = flat(self.settings)[key]
            changed = with_changes(self.settings, {key: value})
            new = flat(changed)[key]
            if new != old:
                now = self._clock()
                audit = AuditAppended(now, by.user, "setting changed", {"key": key, "old": old, "new": new})
                self._commit(Write([SettingOverridden(key, json.dumps(new), by.user, now), audit]))
                self.settings = changed
        return self.settings

    def set_threshold(self, by: Session, asset: str, value: float | None) -> None:
        """``asset``'s own alarm threshold (None: back to detection.threshold), under the global one's rule."""
        require(by, Action.SETTINGS)
        new = None if value is None else flat(with_changes(self.settings, {THRESHOLD_KEY: value},
                                                            f" (for {asset}, set on the panel)"))[THRESHOLD_KEY]
        with self._lock:
            old = self.thresholds().get(asset)
            if new != old:
                now = self._clock()
                self._commit(Write([AssetThresholdSet(asset, new, by.user, now),
                                    AuditAppended(now, by.user, "threshold changed",
                                                  {"asset": asset, "old": old, "new": new})]))

    def _commit(self, write: Write) -> None:
        self._writer.submit(write)
        self._writer.wait(write)


def shown_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value) if value != "" else "(empty)"
