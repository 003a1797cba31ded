"""The alarm manager's tables and their rows, both ways: ``alarms`` and ``alarm_events`` (one :class:`Alarm`),
``labels`` (:class:`Label`) and ``asset_settings`` (out of service). The writes are store ops
(app/store/ops.py) the alarm manager puts in its Writes; the reads give back :class:`Alarm` values."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.alarm_model import Alarm, CloudState, CloudStatus, ShelveMode
from app.alarm_states import AlarmState
from app.labels import Label
from app.store import schema

_A, _E, _L, _S = schema.alarms, schema.alarm_events, schema.labels, schema.asset_settings


# -- writes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AlarmWritten:
    """An alarm changed: its row as it is now (inserted when ``first``, else updated) and one ``alarm_events``
    row for what happened (``event``, e.g. "raised", "acknowledged", with the user and note of a command)."""

    alarm: Alarm
    event: str
    ts: float
    score: float | None = None
    user: str | None = None
    note: str | None = None
    first: bool = False

    def apply(self, conn: Connection) -> None:
        a = self.alarm
        row = alarm_to_row(a)
        if self.first:
            conn.execute(insert(_A).values(id=a.id, asset=a.asset, kind=a.kind, diagnostic=a.diagnostic_key, **row))
        else:
            conn.execute(update(_A).where(_A.c.id == a.id).values(**row))
        conn.execute(insert(_E).values(alarm_id=a.id, ts=self.ts, event=self.event, state=a.state.value,
                                       user=self.user, note=self.note, score=self.score))


@dataclass(frozen=True, slots=True)
class LabelWritten:
    """A technician's label on an alarm (every revision is a row; the latest counts)."""

    label: Label

    def apply(self, conn: Connection) -> None:
        lab = self.label
        conn.execute(insert(_L).values(alarm_id=lab.alarm_id, ts=lab.ts, user=lab.user, verdict=lab.verdict,
                                       failure_mode=lab.failure_mode, note=lab.note))


@dataclass(frozen=True, slots=True)
class ServiceStateWritten:
    """An asset taken out of service or returned to it (one row per asset, replaced)."""

    asset: str
    out_of_service: bool
    changed_by: str | None
    changed_ts: float

    def apply(self, conn: Connection) -> None:
        values = {"asset": self.asset, "out_of_service": int(self.out_of_service), "changed_by": self.changed_by,
                  "changed_ts": self.changed_ts}
        conn.execute(sqlite_insert(_S).values(values).on_conflict_do_update(
            index_elements=[_S.c.asset], set_={k: v for k, v in values.items() if k != "asset"}))


def alarm_to_row(a: Alarm) -> dict[str, Any]:
    """The columns that change over an alarm's life (id, asset, kind and diagnostic are written once)."""
    return {
        "priority": a.priority, "state": a.state.value, "raised_ts": a.raised_ts, "cleared_ts": a.cleared_ts,
        "last_active_ts": a.last_active_ts, "peak_score": a.peak_score, "activations": a.activations,
        "top_channels": json.dumps(a.top_channels), "message": a.message, "shelved_until": a.shelved_until,
        "shelve_mode": a.shelve_mode,
        "cloud_state": a.cloud.state, "cloud_failure_mode": a.cloud.failure_mode,
        "cloud_priority": a.cloud.priority, "cloud_confidence": a.cloud.confidence,
    }


# -- reads ----------------------------------------------------------------------------------------------
# A stored alarm's condition is unknown to a new run: counted as cleared (an unacknowledged one still needs
# its acknowledgement).
_RESTORED_BASE = {"UNACK": AlarmState.RTNUN, "RTNUN": AlarmState.RTNUN, "ACKED": AlarmState.NORM,
                  "NORM": AlarmState.NORM}
_KEPT_OVERLAYS = ("SHLVD", "OOSRV")  # suppression by design is the regime's, which a new run works out again


def alarm_from_row(r: Mapping[str, Any], label: Mapping[str, Any] | None = None) -> Alarm:
    """The alarm a stored row describes, its condition treated as cleared (``label``: its latest label row)."""
    state = r["state"]
    lab = Label(r["id"], label["verdict"], label["failure_mode"], label["note"], label["user"], label["ts"]) \
        if label else None
    return Alarm(
        id=r["id"], asset=r["asset"], kind=r["kind"], priority=r["priority"],
        base=_RESTORED_BASE.get(state, AlarmState.RTNUN),
        raised_ts=r["raised_ts"], last_active_ts=r["last_active_ts"], peak_score=r["peak_score"],
        activations=r["activations"], top_channels=tuple(tuple(x) for x in json.loads(r["top_channels"])),
        message=r["message"], active=False,
        overlay=AlarmState(state) if state in _KEPT_OVERLAYS else None, cleared_ts=r["cleared_ts"],
        shelved_until=r["shelved_until"], shelve_mode=shelve_mode_of(r),
        cloud=CloudStatus(CloudState(r["cloud_state"]) if r["cloud_state"] != CloudState.ANALYZING
                          else CloudState.UNREACHABLE,
                          r["cloud_failure_mode"], r["cloud_priority"], r["cloud_confidence"]),
        label=lab, diagnostic_key=r["diagnostic"],
    )


def shelve_mode_of(r: Mapping[str, Any]) -> ShelveMode | None:
    """A stored row's shelving mode: set only while it is shelved (a row written before the column: timed)."""
    if r["state"] != AlarmState.SHLVD:
        return None
    return ShelveMode(r.get("shelve_mode") or ShelveMode.TIMED)


def history(db: Engine, since_ts: float | None = None, limit: int = 500) -> list[Alarm]:
    """The latest ``limit`` alarms raised since ``since_ts``, newest first."""
    q = select(_A).order_by(_A.c.raised_ts.desc()).limit(limit)
    if since_ts is not None:
        q = q.where(_A.c.raised_ts >= since_ts)
    return [alarm_from_row(r) for r in _rows(db, q)]


def restored(db: Engine) -> tuple[list[Alarm], dict[str, int]]:
    """What a previous run left current (their conditions are unknown now, so they count as cleared), and how
    many labels each already has (the next label's revision number)."""
    rows = _rows(db, select(_A).where(_A.c.state != "NORM"))
    labels = latest_labels(db, [r["id"] for r in rows])
    alarms = [a for a in (alarm_from_row(r, labels.get(r["id"])) for r in rows) if a.standing]
    return alarms, {k: v["revision"] for k, v in labels.items()}


def out_of_service_assets(db: Engine) -> list[str]:
    with db.connect() as c:
        return [r[0] for r in c.execute(select(_S.c.asset).where(_S.c.out_of_service == 1))]


def latest_labels(db: Engine, alarm_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per alarm: its latest label row, with ``revision``: how many labels it has."""
    ids = list(alarm_ids)
    out: dict[str, dict[str, Any]] = {}
    if not ids:
        return out
    with db.connect() as c:
        for r in c.execute(select(_L).where(_L.c.alarm_id.in_(ids)).order_by(_L.c.ts)):
            revision = out.get(r.alarm_id, {}).get("revision", 0) + 1
            out[r.alarm_id] = {**r._mapping, "revision": revision}
    return out


def _rows(db: Engine, query: Select[Any]) -> list[dict[str, Any]]:
    with db.connect() as c:
        return [dict(r._mapping) for r in c.execute(query)]
