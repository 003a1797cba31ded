"""Confirmations from outside (cloud -> edge) through the real receive path: the uplink's check
(``accept_confirmation``, the contract's parser) and then the alarm manager's verdict gate, on a real SQLite store.

Generated: raw bytes, JSON of the wrong shape, each field replaced by a hostile value (wrong types, NaN/Infinity,
1e999, 5,000-digit and float-overflowing integers, control/bidi characters, oversized strings), retained flags,
and well-formed confirmations for real alarms in every situation. Properties: nothing raises; every payload is
either applied or counted as rejected; diagnostic, never-sent and closed alarms never change; an alarm that is
waiting or answered changes exactly as docs/uplink.md "Accepting a confirmation" says; no log line carries a
raw control character from the payload.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from app import events
from app.alarm_manager import AlarmManager
from app.cloud_verdicts import CloudVerdict, RejectionLog
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.uplink.confirmations import accept_confirmation
from detection.alerts import AlertStarted
from detection.cloud import protocol
from detection.failure_modes import FailureMode
from tests.fakes import FakeClock

GW = "gw-1"
TOP = (("vib_de", 0.6), ("flow", 0.3))
MODEL_TS = 1_790_000_000.0
TIMEOUT_S, LATE_S = 30.0, 600.0
UNTOUCHABLE = ("diagnostic", "never_sent", "closed")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Store:
    writer: StoreWriter
    records: _Records


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    db = open_database(Path(tmp_path_factory.mktemp("confirmations")) / "vigil.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    records = _Records()
    app_log = logging.getLogger("app")
    app_log.addHandler(records)
    yield Store(writer, records)
    app_log.removeHandler(records)
    writer.stop()
    db.dispose()


class Station:
    """One alarm of each kind the gate must tell apart."""

    def __init__(self, writer: StoreWriter) -> None:
        self.clock = FakeClock(1_800_000_000.0)
        self.seen: list[object] = []
        self.mgr = AlarmManager(writer, self.seen.append, threshold=1.0, cloud_submit=lambda a: True,
                                cloud_timeout_s=TIMEOUT_S, late_verdict_s=LATE_S, clock=self.clock)
        self.mgr.restore([], out_of_service=["P-103"])  # as a start finds it (no store round trip per example)
        self.ids: dict[str, str] = {}
        self.ids["closed"] = self._anomaly("P-100")
        self.clock.t += TIMEOUT_S + LATE_S + 1
        self.mgr.tick()
        self.ids["waiting"] = self._anomaly("P-101")
        self.ids["answered"] = self._anomaly("P-102")
        assert self.mgr.on_cloud_verdict(CloudVerdict(self.ids["answered"], True, "cavitation", "high", 0.9, "ae-1",
                                                      MODEL_TS)) is None
        self.ids["never_sent"] = self._anomaly("P-103", publish=False)
        self.mgr.on_diagnostic("P-104", "comm", True, self.clock.t, "P-104: communication lost")
        self.ids["diagnostic"] = self._raised("P-104")

    def _raised(self, asset: str) -> str:
        return next(e.alarm_id for e in reversed(self.seen) if isinstance(e, events.AlarmRaised) and e.asset == asset)

    def _anomaly(self, asset: str, publish: bool = True) -> str:
        self.mgr.on_alert(asset, AlertStarted(self.clock.t, 3.0, TOP, reactivation=False))
        alarm_id = self._raised(asset)
        if publish:
            self.mgr.on_cloud_published(alarm_id)
        return alarm_id


# --- generated input ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Raw:
    """JSON text put into a document as is (numbers json.dumps would refuse or write differently)."""

    text: str


RAW_NUMBERS = ["1" * 5000, "1" + "0" * 400, "-" + "9" * 4301, "1e999", "-1e999", "NaN", "Infinity", "-0", "1E-400"]
HOSTILE_TEXT = ["", "\n", "\r\nCRITICAL app.engine: forged", "\u202e\u2028\x00\x1b[31m", "A" * 300, "x" * 17_000,
                "\ud7ff\ufffd", "a" * 32, "0" * 32]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=40), st.sampled_from(HOSTILE_TEXT), st.sampled_from(RAW_NUMBERS).map(Raw))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)


def dump(v: object) -> str:
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    return json.dumps(v)


@st.composite
def well_formed(draw: st.DrawFn, station_ids: st.SearchStrategy[str]) -> dict:
    confirmed = draw(st.booleans())
    return {"id": draw(st.sampled_from(["a" * 32, "b" * 32]) | st.uuids().map(lambda u: u.hex)),
            "alarm_id": draw(station_ids), "gateway": draw(st.sampled_from([GW] * 5 + ["gw-2"])),
            "confirmed": confirmed,
            "failure_mode": draw(st.sampled_from([m.value for m in FailureMode])) if confirmed else None,
            "priority": draw(st.sampled_from(protocol.PRIORITIES)) if confirmed else None,
            "confidence": draw(st.floats(0, 1)),
            "model_version": draw(st.sampled_from(["ae-0", "ae-1", "ae-2", "stand-in-0"])),
            "model_created_ts": draw(st.sampled_from([0.0, MODEL_TS - 1, MODEL_TS, MODEL_TS + 1, MODEL_TS + 86400]))}


KINDS = ("waiting", "answered", "closed", "never_sent", "diagnostic", "unknown")


@st.composite
def payloads(draw: st.DrawFn) -> tuple[bytes, bool]:
    alarm_kind = st.sampled_from(("waiting", "answered") * 3 + KINDS)
    doc = draw(well_formed(alarm_kind))
    shape = draw(st.sampled_from(["bytes", "json", "mutated", "mutated", "valid", "valid", "valid", "valid"]))
    if shape == "bytes":
        payload = draw(st.binary(max_size=2000) | st.sampled_from([b"\xff\xfe", b"[" * 5000, b"{}" * 10_000]))
    elif shape == "json":
        payload = dump(draw(values)).encode()
    else:
        if shape == "mutated":
            for key in draw(st.lists(st.sampled_from([*protocol.CONFIRMATION_KEYS, "extra"]), min_size=1, max_size=3)):
                if draw(st.booleans()) and key in doc:
                    del doc[key]
                else:
                    doc[key] = draw(values)
        payload = dump(doc).encode()
    return payload, draw(st.booleans().map(lambda b: b and draw(st.integers(0, 4)) == 0))  # retained, now and then


def resolve(payload: bytes, ids: dict[str, str]) -> bytes:
    """Put the station's real alarm ids where the generator named a kind of alarm."""
    for kind, alarm_id in ids.items():
        payload = payload.replace(f'"alarm_id":"{kind}"'.encode(), f'"alarm_id":"{alarm_id}"'.encode())
    return payload


# --- the properties -------------------------------------------------------------------------------------------
@dataclass
class Expected:
    """docs/uplink.md rules 3-6 for the waiting and answered alarms, written from the contract."""

    model: dict[str, tuple[str, float] | None]
    status: dict[str, tuple]
    ids: set[str]

    def offer(self, conf: protocol.Confirmation, kind: str) -> bool:
        if conf.id in self.ids:
            return False
        self.ids.add(conf.id)
        if kind not in self.model:
            return False
        applied = self.model[kind]
        if applied is not None and (conf.model_version == applied[0] or not conf.model_created_ts > applied[1]):
            return False
        self.model[kind] = (conf.model_version, conf.model_created_ts)
        self.status[kind] = ("confirmed" if conf.confirmed else "not_confirmed", conf.failure_mode,
                             conf.priority or self.status[kind][3], conf.priority or self.status[kind][3])
        return True


def status_of(mgr: AlarmManager, alarm_id: str) -> tuple:
    a = mgr.get(alarm_id)
    return a.cloud.state, a.cloud.failure_mode, a.cloud.priority or a.priority, a.priority


# ~50 ms an example (a fresh alarm manager with five alarms on a real store): the long profile is capped so the
# test stays inside pytest's 300 s timeout on a 2-core machine.
@settings(max_examples=min(settings().max_examples, 3000))  # settings(): the loaded profile's values
@given(st.lists(payloads(), min_size=1, max_size=5))
def test_confirmations_never_crash_and_change_only_what_they_may(store: Store, batch: list[tuple[bytes, bool]]
                                                                  ) -> None:
    station = Station(store.writer)
    mgr, ids = station.mgr, station.ids
    by_id = {v: k for k, v in ids.items()}
    before = {k: mgr.get(ids[k]) for k in UNTOUCHABLE}
    expected = Expected(model={"waiting": None, "answered": ("ae-1", MODEL_TS)},
                        status={k: status_of(mgr, ids[k]) for k in ("waiting", "answered")}, ids=set())
    uplink_rejections = RejectionLog(logging.getLogger("app.uplink.publisher"))
    store.records.messages.clear()
    applied = 0
    for raw, retained in batch:
        payload = resolve(raw, ids)
        conf = accept_confirmation(payload, GW, uplink_rejections, retained)
        if conf is None:
            continue
        assert not retained and conf.gateway == GW and len(payload) <= protocol.MAX_CONFIRMATION_PAYLOAD
        should = expected.offer(conf, by_id.get(conf.alarm_id, "unknown"))
        outcome = mgr.on_cloud_verdict(CloudVerdict.from_confirmation(conf))
        assert (outcome is None) == should, (conf, outcome)
        applied += outcome is None
    assert applied + uplink_rejections.total + mgr.rejected_verdicts.total == len(batch)
    assert {k: mgr.get(ids[k]) for k in UNTOUCHABLE} == before
    for kind in ("waiting", "answered"):
        assert status_of(mgr, ids[kind]) == expected.status[kind], kind
    for line in store.records.messages:
        assert not any(c in line for c in "\n\r\x00\x1b\u2028\u202e"), line
