"""The headless Vigil engine: the whole wiring in one place.

    source thread --frames (values + quality)--> detection thread --samples--> store writer thread (the one DB writer)
        detection thread: QualityWatch --diagnostics--> AlarmManager; AssetPipeline --alert transitions--> AlarmManager
                          model fits --> fit worker thread (adopted 5 s of data time later)
                          per-minute telemetry --> outbox (through the store writer)
        AlarmManager --alarm rows + their uplink messages, one transaction--> store writer
        uplink thread: outbox --MQTT--> broker; PUBACK -> "cloud analyzing"; confirmation -> verdict on the alarm
                       (no uplink configured: the in-process CloudStandIn answers instead)
        housekeeping thread: shelving expiry, cloud time-outs
        every thread --events--> subscribers (called on the worker thread)

One clock: every time the engine stamps (alarm raise/clear come with the source's frames; operator actions, audit
rows, cloud verdicts and shelving expiry take ``self.clock``) is the source's plant clock (app/sources.py
plant_clock: the simulator's own, faster than real time at a speed setting; wall time for real sources), so an
alarm's trail reads on one clock. Only real-time waits stay on a real-time clock: the cloud's time-out and answer
window (``time.monotonic``), PIN lockouts, and the uplink's own transport times.

Queues are bounded: a slow store slows detection, which slows the source (a simulator or replay simply waits;
a live poller's own buffer decides what to keep). Every worker's exception is logged and published as
:class:`~app.events.WorkerFailed`; an engine never dies silently.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from acquisition.quality import Quality, device_lost, usable
from acquisition.source import Frame, Source, declared_period
from app import audit_check, cloud_messages, events
from app.alarm_manager import Alarm, AlarmManager
from app.alarm_model import AlarmEvent, ShelveSpec
from app.alarm_states import AlarmState
from app.cloud_standin import CloudStandIn
from app.cloud_verdicts import CloudVerdict
from app.config import Settings
from app.daily_checks import DailyChecks
from app.diagnostics import QualityWatch
from app.handover import HandoverService, handover_folder
from app.health import HealthBoard, Part
from app.heartbeat import Heartbeat
from app.instance_lock import instance_locks
from app.live import AssetHealth as H, AssetStatus, EngineSnapshot, LiveBuffer, Samples, SourceHealth, UplinkStatus
from app.logbook import Logbook, alarm_asset as stored_alarm_asset
from app.settings_overrides import SettingsEditor, stored_thresholds, with_overrides
from app.shifts import ShiftPattern
from app.sources import plant_clock
from app.store import alarm_rows, history as store_history
from app.store.database import open_database
from app.store.sample_rows import SampleRow
from app.store.status import StoreStatus
from app.store.writer import Durability, StoreWriter, Write
from app.telemetry import TelemetryAggregator
from app.uplink.publisher import Published, Uplink
from app.users import Session, UserDirectory
from app.watchdog import Liveness, ServiceWatchdog
from common.throttled_log import ThrottledLog
from detection.cloud.protocol import Confirmation
from detection.pipeline import AssetPipeline, PipelineParams
from detection.regime import Regime

log = logging.getLogger(__name__)

Listener = Callable[[events.EngineEvent], None]


class _Done:
    """The end-of-source marker on the frame queue (a class of its own, so the queue's item type says it)."""


_DONE = _Done()


class Engine:
    def __init__(self, settings: Settings, source: Source) -> None:
        self.source = source
        self.clock = plant_clock(source)  # the one clock every stamp comes from (see the module docstring)
        # One engine per database and serial port (app/instance_lock.py): InUseError names the holder.
        self._locks = instance_locks(Path(settings.storage.path), source)
        try:
            self._build(settings, source)
        except BaseException:
            self._release_locks()
            raise

    def _build(self, settings: Settings, source: Source) -> None:
        self.db = open_database(settings.storage.path)
        # The panel's Settings screen changes (app/settings_overrides.py) over the file's, read once like it.
        self.settings = settings = with_overrides(settings, self.db)
        self._listeners: list[Listener] = []
        self.health = HealthBoard()  # every part's errors, bounded and ageing out (app/health.py)
        self._repeats = ThrottledLog(log, 60.0)
        self.audit_check = audit_check.report_at_open(self.db)  # the audit log's hash chain, verified at open
        self.writer = StoreWriter(
            self.db,
            raw_retention_s=settings.storage.raw_retention_days * 86400,
            batch_max=settings.storage.batch_max,
            on_error=lambda where, exc: self._failed(Part.STORE, where, exc, fatal=False),
            on_status=self._store_changed,
        )
        self.live = LiveBuffer()
        self.daily = DailyChecks(settings, self.snapshot)  # doctor's checks, daily, reading this engine's state
        # The cloud side: the MQTT uplink when configured, else an in-process stand-in (demo, tests, no broker).
        self.uplink: Uplink | None = None
        self.cloud: CloudStandIn | None = None
        submit: Callable[[Alarm], bool]
        if settings.uplink.enabled:
            self.uplink = Uplink(settings.uplink, settings.site.site_id, settings.site.gateway_id, self.db, self.writer,
                                 on_confirmation=self._on_confirmation, on_published=self._on_published,
                                 checks=self.daily.heartbeat_body,
                                 on_error=lambda where, exc: self._failed(Part.UPLINK, where, exc, fatal=False))
            submit = self._uplink_connected
        else:
            self.cloud = CloudStandIn(self._on_standin_verdict, settings.cloud.standin_delay_s)
            self.cloud.reachable = settings.cloud.standin_reachable
            cloud = self.cloud
            submit = lambda a: cloud.submit(a.id, a.top_channels, a.peak_score)  # noqa: E731
        self.alarms = AlarmManager(
            self.writer, self._publish, threshold=settings.detection.threshold,
            cloud_submit=submit, cloud_timeout_s=settings.cloud.timeout_s,
            late_verdict_s=settings.cloud.late_verdict_s,
            messages=self._uplink_ops if self.uplink is not None else None,
            clock=self.clock, timer=time.monotonic,
        )
        self.telemetry = TelemetryAggregator()
        self._telemetry_out: list[tuple[str, dict]] = []  # finished minutes of this frame batch (detection thread)
        restored, revisions = alarm_rows.restored(self.db)
        self.alarms.restore(restored, alarm_rows.out_of_service_assets(self.db), revisions)
        self.quality = QualityWatch(self.alarms.on_diagnostic, settings.engine.comm_alarm_s,
                                    settings.engine.quality_alarm_s)
        self._latest_quality: dict[str, np.ndarray | None] = {}
        self._interrupted: set[str] = set()  # assets whose device was lost: re-settle on their next good frame
        self.users = UserDirectory(self.db, self.writer, settings.users, stamp=self.clock)
        self.settings_editor = SettingsEditor(self.db, self.writer, settings, self.clock)
        self.shift_pattern = ShiftPattern(settings.shifts.starts, settings.shifts.timezone)
        self.handovers = HandoverService(self.db, self.writer, handover_folder(settings.storage.path),
                                         self.shift_pattern, settings.site.gateway_id, settings.site.site_id,
                                         self.clock)
        self.logbook = Logbook(self.db, self.writer, self.clock, assets=lambda: list(self.pipelines),
                               alarm_asset=self._alarm_asset)
        self._params = PipelineParams.from_settings(settings.detection, declared_period(source))
        self._thresholds = stored_thresholds(self.db)  # assets with an alarm threshold of their own
        # Model fits (commissioning, each new operating state) run here, not on the detection thread.
        self._fits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-fit")
        self.pipelines: dict[str, AssetPipeline] = {a: self._new_pipeline(a) for a in source.assets}
        self._frames: queue.Queue[list[Frame] | _Done] = queue.Queue(maxsize=settings.engine.queue_size)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._threads: list[threading.Thread] = []
        # The systemd watchdog (app/watchdog.py) pings only while these make progress; the HMI adds its GUI thread.
        hang_s, period = settings.engine.hang_after_s, declared_period(source) or 0.0
        self.liveness = Liveness()
        self._source_beat = self.liveness.watch("source", Heartbeat(), hang_s + 2 * period,
                                                no_input=lambda: not self.source.assets)
        self._detect_beat = self.liveness.watch("detection", Heartbeat(), hang_s)
        self.liveness.watch("store", self.writer.heartbeat, hang_s)
        self.watchdog = ServiceWatchdog(self.liveness)
        self.frames_processed = 0
        self.frame_errors: dict[str, int] = {}
        self._last_ts: float | None = None
        # A source's pre-run (the simulator demo's commissioning, app/sources.py): the HMI shows once it is scored.
        self.prerun_s = float(getattr(source, "prerun_s", 0.0))
        self.live_from_ts: float | None = getattr(source, "live_from_ts", None) if self.prerun_s > 0 else None
        self._prerun_done = threading.Event()
        self._started_at = 0.0
        if self.live_from_ts is None:
            self._prerun_done.set()

    def _new_pipeline(self, asset: str) -> AssetPipeline:
        params = self._params
        if (threshold := self._thresholds.get(asset)) is not None:
            params = replace(params, alerts=replace(params.alerts, threshold=threshold))
        return AssetPipeline(params, fitter=self._submit_fit)

    def _submit_fit(self, fit: Callable[[], object]) -> Future:
        try:
            return self._fits.submit(fit)
        except RuntimeError:  # the engine is stopping: no new fits; the pipeline treats it as cancelled
            cancelled: Future = Future()
            cancelled.cancel()
            return cancelled

    # -- lifecycle ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """``listener(event)`` is called on a worker thread for every engine event."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def start(self) -> None:
        if self._threads:
            return
        self._started_at = time.monotonic()
        self.writer.start()
        if self.audit_check is not None:
            self._publish(events.AuditChainChecked(self.audit_check))
        if self.settings.users.seed_demo_users:
            self.users.seed_demo_users()
        elif self.users.needs_first_admin():
            log.warning("no users yet: the panel asks for the first admin (or: python main.py users add --name NAME "
                        "--role admin)")
        self._threads = [threading.Thread(target=self._guard, args=(part, body), name=name, daemon=True) for
                         part, body, name in ((Part.ALARMS, self._run_housekeeping, "vigil-housekeeping"),
                                              (Part.SOURCE, self._run_source, "vigil-source"),
                                              (Part.DETECTION, self._run_detection, "vigil-detect"))]
        for t in self._threads:
            t.start()
        if self.uplink is not None:
            self.uplink.start()
        self.daily.start()
        self.watchdog.ready(f"running: {len(self.pipelines)} asset(s) from {self.settings.source.kind}")

    def wait_prerun(self, timeout: float | None = None) -> bool:
        """Wait until the source's pre-run is scored (at once when there is none, or the source ended or failed)."""
        return self._prerun_done.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source is exhausted and every frame is scored and handed to the store."""
        return self._finished.wait(timeout)

    def stop(self) -> None:
        """Idempotent: stop the source, drain detection, flush the store, join everything with timeouts."""
        self.watchdog.stopping()
        self._stop.set()
        self._fits.shutdown(wait=False, cancel_futures=True)  # a detection thread waiting on a queued fit goes on
        t_join = self.settings.engine.join_timeout_s
        self.daily.stop(t_join)
        for t in self._threads:
            t.join(t_join)
            if t.is_alive():
                log.error("%s did not stop within %.1f s", t.name, t_join)
        self._threads = []
        self._fits.shutdown(wait=True)  # the one fit that may still run ends within a second
        if self.cloud is not None:
            self.cloud.stop()
        if self.uplink is not None:  # before the writer: its last acknowledged rows are deleted through it
            self.uplink.stop(t_join)
        self.writer.stop(t_join)
        self._release_locks()

    def _release_locks(self) -> None:
        for lock in self._locks:
            lock.release()

    # -- operator commands: thread-safe, return once committed (see docs/engine-api.md) ---------------
    def acknowledge(self, alarm_id: str, session: Session, note: str | None = None) -> Alarm:
        return self.alarms.acknowledge(alarm_id, session, note)

    def acknowledge_many(self, alarm_ids: list[str], session: Session, note: str | None = None) -> int:
        return self.alarms.acknowledge_many(alarm_ids, session, note)

    def shelve(self, alarm_id: str, session: Session, spec: ShelveSpec, note: str | None = None) -> Alarm:
        return self.alarms.shelve(alarm_id, session, spec, note)

    def unshelve(self, alarm_id: str, session: Session) -> Alarm:
        return self.alarms.unshelve(alarm_id, session)

    def set_out_of_service(self, asset: str, session: Session, on: bool, note: str | None = None) -> int:
        return self.alarms.set_out_of_service(asset, session, on, note)

    def label(self, alarm_id: str, session: Session, verdict: str, failure_mode: str | None = None,
              note: str | None = None) -> Alarm:
        return self.alarms.label(alarm_id, session, verdict, failure_mode, note)

    # -- reads for the HMI ---------------------------------------------------------------------------
    def snapshot(self) -> EngineSnapshot:
        by_asset: dict[str, list[Alarm]] = {}  # grouped once: the GUI asks 8 times a second, with 1000s standing
        for a in self.alarms.alarms():
            by_asset.setdefault(a.asset, []).append(a)
        assets = {}
        for name, pipe in list(self.pipelines.items()):
            mine = by_asset.get(name, [])
            active = sum(a.active and a.annunciated for a in mine)  # shelved/suppressed/OOS: not annunciated
            unacked = sum(a.unacknowledged for a in mine)  # the model's one definition (app/alarm_model.py)
            latest = self.live.latest(name)
            values, score = (latest[1], latest[2]) if latest else (np.full(8, np.nan), None)
            regime = pipe.regime.regime
            oos = any(a.overlay is AlarmState.OOSRV for a in mine) or name in self.alarms.out_of_service
            quality = self._latest_quality.get(name)
            lost = device_lost(quality)
            word = (H.OUT_OF_SERVICE if oos else H.NO_DATA if lost else H.STOPPED if regime is Regime.STOPPED else
                      H.ALARM if active else H.COMMISSIONING if not pipe.commissioned or pipe.learning else
                      H.WARNING if unacked or (score or 0) >= self.settings.detection.threshold * 0.8 else H.OK)
            assets[name] = AssetStatus(name, regime, pipe.commissioned, pipe.learning,
                                       values, score, active, unacked,
                                       word, None if quality is None else quality.copy(), lost,
                                       pipe.learning_progress(), pipe.period.period_s, pipe.alerts.state())
        stats = self.source.stats
        store, uplink = self.writer.status(), (self.uplink.status() if self.uplink is not None else UplinkStatus(
            "stand-in" if self.cloud is not None and self.cloud.reachable else "down"))
        health = self.health.now(store, uplink)  # each part as it is now; the store and uplink as they report
        source, running = health[Part.SOURCE], self._finished.is_set() or self._threads != []
        detail = (source.detail if not source.ok else "finished" if self._finished.is_set() else
                  "receiving" if running else "not started")
        return EngineSnapshot(self._last_ts, assets, SourceHealth(source.ok and running, detail, stats.frames,
                                                                  sum(stats.skipped.values())),
                              uplink, self.settings.detection.threshold, self.frames_processed, self.health.recent(),
                              health, store, audit=self.audit_check, checks=self.daily.latest())

    def history(self, asset: str, t0: float, t1: float, max_points: int = 4000) -> Samples:
        """Blocking (SQLite): call from a worker thread."""
        return store_history.sample_history(self.db, asset, t0, t1, max_points)

    def _alarm_asset(self, alarm_id: str) -> str | None:
        """The asset of an alarm in memory or stored (the logbook ties entries to alarms of either)."""
        try:
            return self.alarms.get(alarm_id).asset
        except KeyError:
            return stored_alarm_asset(self.db, alarm_id)

    def alarm_history(self, since_ts: float | None = None, limit: int = 500) -> list[Alarm]:
        """Blocking (SQLite): call from a worker thread."""
        return alarm_rows.history(self.db, since_ts, limit)

    # -- workers -----------------------------------------------------------------------------
    def _guard(self, part: Part, body: Callable[[], None]) -> None:
        try:
            body()
        except Exception as exc:  # noqa: BLE001 - a worker must report, never vanish
            self._failed(part, part.value, exc, fatal=True)
            self._stop.set()
            self._finished.set()

    def _run_source(self) -> None:
        try:
            for batch in self.source.batches(self._stop):
                while not self._stop.is_set():
                    self._source_beat.beat()  # a batch, or a turn waiting for room (detection is behind)
                    try:
                        self._frames.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._source_beat.finished()  # the source ended (a replay): done, not hung
        finally:
            self._put_done()
        self._publish(events.SourceFinished(self.source.stats.frames, dict(self.source.stats.skipped)))

    def _put_done(self) -> None:
        while True:
            try:
                self._frames.put(_DONE, timeout=0.2)
                return
            except queue.Full:
                if self._stop.is_set():
                    return

    def _run_detection(self) -> None:
        while True:
            self._detect_beat.beat()  # every turn, idle ones too (app/watchdog.py: the rule for "hung")
            try:
                item = self._frames.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if isinstance(item, _Done):
                self._prerun_done.set()  # nobody waits for a pre-run that will never end
                self._detect_beat.finished()
                self._finished.set()
                return
            rows = []
            for frame in item:
                try:
                    rows.append(self._score(frame))
                except Exception as exc:  # noqa: BLE001 - one asset's bad frame must not stop the others
                    self._frame_failed(frame, exc)
            self.writer.put_samples(rows)
            self.frames_processed += len(rows)
            if not self._prerun_done.is_set() and item:
                self._check_prerun(item[-1].ts)
            if self._telemetry_out:  # one outbox transaction per batch, not per asset-minute; not awaited
                assert self.uplink is not None  # telemetry is shed, like samples, while the store cannot commit
                self.writer.submit(Write([self.uplink.messages_op(self._telemetry_out)], durability=Durability.SHED))
                self._telemetry_out = []

    def _check_prerun(self, last_ts: float) -> None:
        """After a batch: was it the pre-run's last? (A source never mixes pre-run and live frames in a batch.)"""
        live_from = self.live_from_ts
        assert live_from is not None
        period = self._params.sample_period_s or 0.0
        if last_ts + period < live_from - 0.5 * period:  # the pre-run's last tick is one period before live_from
            return
        done = tuple(a for a, p in self.pipelines.items() if p.commissioned)
        learning = tuple(a for a in self.pipelines if a not in done)
        if learning:
            log.warning("the pre-run of %.0f s did not commission %s: learning goes on from live data",
                        self.prerun_s, ", ".join(learning))
        self._prerun_done.set()
        self._publish(events.PrerunFinished(live_from, self.prerun_s, time.monotonic() - self._started_at, done,
                                            learning))

    def _score(self, frame: Frame) -> SampleRow:
        pipe = self.pipelines.get(frame.asset)
        if pipe is None:  # a source may reveal assets as it goes (MQTT ingest)
            pipe = self.pipelines[frame.asset] = self._new_pipeline(frame.asset)
        q = frame.quality
        values = usable(frame.values, q)  # stale/bad/comm-fail values are never used (or shown) as good
        self._latest_quality[frame.asset] = q
        self.quality.update(frame.asset, frame.ts, q)
        q_blob = None if q is None or not q.any() else np.asarray(q, dtype=np.uint8).tobytes()
        self._last_ts = frame.ts
        if device_lost(q):
            # The frame says nothing about the process: no scoring, so an outage never raises an anomaly alarm.
            # The pipeline re-settles after the gap (detection.regime: gap_s).
            self.live.append(frame.asset, frame.ts, values, None)
            self._interrupted.add(frame.asset)
            self._aggregate(frame.asset, frame.ts, values, None, "no data")
            return SampleRow(frame.asset, frame.ts, np.asarray(values, dtype="<f8").tobytes(), None,
                             pipe.regime.regime.value, q_blob)
        if frame.asset in self._interrupted:
            self._interrupted.discard(frame.asset)
            pipe.interrupted()
        out = pipe.process(frame.ts, values, None if q is None else q != Quality.GOOD)
        self.live.append(frame.asset, frame.ts, values, out.score)
        if out.regime_changed:
            self.alarms.on_regime(frame.asset, out.regime is Regime.RUNNING, frame.ts)
            self._publish(events.RegimeChanged(frame.asset, frame.ts, out.regime))
        if out.commissioned:
            self._publish(events.CommissioningCompleted(frame.asset, frame.ts, pipe.baseline_samples))
        if out.transition is not None:
            self.alarms.on_alert(frame.asset, out.transition)
        if pipe.fit_error is not None:
            exc, pipe.fit_error = pipe.fit_error, None
            self._failed(Part.FITS, f"model fit ({frame.asset})", exc, fatal=False)
        self._aggregate(frame.asset, frame.ts, values, out.score, out.regime.value)
        return SampleRow(frame.asset, frame.ts, np.asarray(values, dtype="<f8").tobytes(), out.score,
                         out.regime.value, q_blob)

    # -- the cloud loop (docs/uplink.md) -----------------------------------------------------------------
    def _uplink_connected(self, alarm: Alarm) -> bool:
        """At a raise: is the alarm about to reach the cloud? Its message is queued either way (below)."""
        assert self.uplink is not None
        return self.uplink.status().state == "connected"

    def _uplink_ops(self, alarm: Alarm, event: AlarmEvent, user: str | None, note: str | None, ts: float,
                    label_revision: int) -> list:
        items = cloud_messages.messages_for(alarm, event, user, note, ts, self.live.window, label_revision)
        if not items or self.uplink is None:
            return []
        return [self.uplink.messages_op(items)]

    def _aggregate(self, asset: str, ts: float, values: np.ndarray, score: float | None, regime: str) -> None:
        if self.uplink is None:
            return
        body = self.telemetry.add(asset, ts, values, score, regime)
        if body is not None:
            self._telemetry_out.append(("telemetry", body))

    def _on_published(self, p: Published) -> None:
        if p.stream == "alarm":
            self.alarms.on_cloud_published(p.body["alarm_id"])

    def _on_confirmation(self, c: Confirmation) -> None:
        """A well-formed confirmation for this gateway (the uplink checked that); whether it answers a question
        this gateway asked, once, is the alarm manager's check (app/cloud_verdicts.py)."""
        self.alarms.on_cloud_verdict(CloudVerdict.from_confirmation(c))

    def _on_standin_verdict(self, v: CloudVerdict) -> None:
        # a refused verdict is counted and logged by the alarm manager; the stand-in needs no answer
        self.alarms.on_cloud_verdict(v)

    def _run_housekeeping(self) -> None:
        """Timed alarm work: shelving expiry on the plant clock, cloud time-outs on real time (a 0.25 s beat)."""
        while not self._stop.wait(0.25):
            self.alarms.tick()

    def _frame_failed(self, frame: Frame, exc: Exception) -> None:
        self.health.error(Part.DETECTION, f"{frame.asset}: {type(exc).__name__}: {exc}")
        n = self.frame_errors[frame.asset] = self.frame_errors.get(frame.asset, 0) + 1
        if n == 1 or n % 1000 == 0:  # report the first and then every 1000th, not a flood
            log.error("scoring %s at %s failed (%d so far)", frame.asset, frame.ts, n, exc_info=exc)
            self._publish(events.WorkerFailed("detection", f"{frame.asset}: {type(exc).__name__}: {exc} "
                                              f"({n} frame(s) skipped)", fatal=False))

    # -- events --------------------------------------------------------------------------------
    def _publish(self, event: events.EngineEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not kill a worker
                log.exception("event listener failed on %r", event)

    def _failed(self, part: Part, worker: str, exc: BaseException, fatal: bool) -> None:
        """A worker's error: into its part's health; logged and announced once, then counted (no flood)."""
        text = f"{type(exc).__name__}: {exc}"
        if self.health.error(part, f"{worker}: {text}", fatal):
            log.error("worker %s failed: %s", worker, exc, exc_info=exc)
            self._publish(events.WorkerFailed(worker, text, fatal))
        else:
            self._repeats.log(logging.ERROR, (part, worker, text), "worker %s failed again: %s", worker, text)

    def _store_changed(self, status: StoreStatus) -> None:
        """The store writer's own state changed (a problem began or ended): on the writer thread."""
        self._publish(events.StorageChanged(status.state, status.detail, status.held, status.samples_shed))
