"""The doctor's ``models`` and ``clock`` checks.

models: the shipped LiteRT bundle (resources/models: the autoencoder and the fault classifier) loads and passes its
own checks (the manifest, the files' sha256, the training-time reference windows: detection/cloud/models.py), with
its version; then its latency on realistic input: N verdicts on the bundle's own reference windows (300 s x 8
channels, window features included). A verdict is wanted well inside the one second an alarm may take, beside
detection, the store and the GUI on a 2-core gateway: a WARNING when the p99 is over 250 ms, a PROBLEM over 1 s.
(The edge detector itself is the per-asset Isolation Forest fitted at commissioning: no file to check.)

clock: not before this release's models were made (a gateway whose RTC battery died boots in 1970 or 2000); the
database's newest rows not in the future (the clock went back); NTP synchronised (``timedatectl show``, skipped
where there is no systemd).
"""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from app.doctor import DoctorContext, Finding, Status, check

N_INFERENCES = 50
WARN_P99_MS, PROBLEM_P99_MS = 250.0, 1000.0
FUTURE_SLACK_S = 300.0  # newer rows than this ahead of the clock: it went back (or a simulator ran fast)
wall_clock = time.time  # the clock being checked (a test sets another)


@check("models", timeout_s=30.0)
def check_models(ctx: DoctorContext) -> Iterator[Finding]:
    from detection.cloud.models import DEFAULT_DIR, CloudModels, ModelError

    try:
        models = CloudModels(DEFAULT_DIR)
    except ModelError as exc:
        yield Finding("models", Status.PROBLEM, f"the models in {DEFAULT_DIR} cannot be used: {exc}",
                      ("What to do: reinstall this release (the bundle ships them)",))
        return
    made = dt.datetime.fromtimestamp(models.created_ts, dt.UTC).strftime("%Y-%m-%d")
    yield Finding("models", Status.OK, f"{DEFAULT_DIR}: version {models.version} (made {made}), checked against "
                  f"its reference windows")
    with np.load(DEFAULT_DIR / "reference_windows.npz", allow_pickle=False) as ref:
        ts, values = ref["ts"].astype(np.float64), ref["values"].astype(np.float64)
    took = np.empty(N_INFERENCES)
    for i in range(N_INFERENCES):
        k = i % len(ts)
        started = time.perf_counter()
        models.judge(ts[k], values[k])
        took[i] = time.perf_counter() - started
    p50, p99 = (float(v) * 1000 for v in np.percentile(took, [50, 99]))
    text = f"latency of one verdict ({N_INFERENCES} runs, LiteRT): p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    if p99 > PROBLEM_P99_MS:
        yield Finding("models", Status.PROBLEM, f"{text}: over {PROBLEM_P99_MS:.0f} ms (alarms within a second)")
    elif p99 > WARN_P99_MS:
        yield Finding("models", Status.WARNING, f"{text}: over {WARN_P99_MS:.0f} ms (the gateway is overloaded?)")
    else:
        yield Finding("models", Status.OK, text)


def build_floor() -> float:
    """No correct clock reads earlier than the day this release's models were made (epoch seconds)."""
    from detection.cloud.bundle import read_manifest
    from detection.cloud.models import DEFAULT_DIR

    return read_manifest(DEFAULT_DIR).created_ts


@check("clock", timeout_s=10.0)
def check_clock(ctx: DoctorContext) -> Iterator[Finding]:
    now = wall_clock()
    shown = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    floor = build_floor()
    if now < floor:
        yield Finding("clock", Status.PROBLEM, f"the clock reads {shown}, before this release was built "
                      f"({dt.datetime.fromtimestamp(floor, dt.UTC):%Y-%m-%d}): every stamp is wrong",
                      ("What to do: set the time (timedatectl set-time, or NTP), check the RTC battery",))
    else:
        yield Finding("clock", Status.OK, f"the clock reads {shown}")
    newest = _newest_row(Path(ctx.settings.storage.path))
    if newest is not None and newest > now + FUTURE_SLACK_S:
        yield Finding("clock", Status.WARNING, f"the database has rows stamped up to "
                      f"{dt.datetime.fromtimestamp(newest, dt.UTC):%Y-%m-%d %H:%M} UTC, {(newest - now) / 60:.0f} "
                      f"min after this clock: the clock went back (or a simulator ran faster than real time)")
    yield _ntp()


def _newest_row(db_path: Path) -> float | None:
    """The newest wall-clock stamp in the database (samples by their index; outbox rows), or None."""
    if not db_path.is_file():
        return None
    try:
        con = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return None
    try:
        found = []
        for sql in ("SELECT MAX(ts) FROM samples", "SELECT MAX(created_ts) FROM outbox"):
            try:
                row = con.execute(sql).fetchone()
            except sqlite3.Error:  # an old or damaged database: the database check says so
                continue
            if row and row[0] is not None:
                found.append(float(row[0]))
        return max(found, default=None)
    finally:
        con.close()


def _ntp() -> Finding:
    exe = shutil.which("timedatectl")
    if exe is None:
        return Finding("clock", Status.OK, "NTP state not checked: no timedatectl on this machine")
    try:
        res = subprocess.run([exe, "show", "--property=NTPSynchronized", "--property=NTP"], capture_output=True,
                             text=True, timeout=3.0, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding("clock", Status.OK, f"NTP state not checked: timedatectl did not answer ({exc})")
    props = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    if res.returncode != 0 or "NTPSynchronized" not in props:
        return Finding("clock", Status.OK, "NTP state not checked: timedatectl cannot ask systemd here (not booted "
                       "with systemd)")
    if props["NTPSynchronized"] == "yes":
        return Finding("clock", Status.OK, "synchronised with NTP")
    ntp = "NTP is off (timedatectl set-ntp true)" if props.get("NTP") == "no" else "NTP is on but not synchronised"
    return Finding("clock", Status.WARNING, f"the clock is not synchronised: {ntp}")
