"""The headless Vigil engine: the whole wiring in one place.

    source thread --frames--> detection thread --samples--> store writer thread (the one DB writer)
                                     |--alert transitions--> AlarmManager --alarm writes--> store writer
                                     '--events--> subscribers (called on the worker thread)

Queues are bounded: a slow store slows detection, which slows the source (a simulator or replay simply waits;
a live poller's own buffer decides what to keep). Every worker's exception is logged and published as
:class:`~app.events.WorkerFailed`; an engine never dies silently.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from acquisition.source import Frame, Source
from app import events
from app.alarm_manager import AlarmManager
from app.config import Settings
from app.store.database import open_database
from app.store.writer import StoreWriter
from detection.pipeline import AssetPipeline, PipelineParams

log = logging.getLogger(__name__)

Listener = Callable[[object], None]
_DONE = object()


class Engine:
    def __init__(self, settings: Settings, source: Source) -> None:
        self.settings = settings
        self.source = source
        self.db = open_database(settings.storage.path)
        self.writer = StoreWriter(
            self.db,
            raw_retention_s=settings.storage.raw_retention_days * 86400,
            batch_max=settings.storage.batch_max,
            on_error=lambda where, exc: self._failed(where, exc, fatal=False),
        )
        self.alarms = AlarmManager(self.writer, self._publish, threshold=settings.detection.threshold)
        self._params = PipelineParams.from_settings(settings.detection)
        self.pipelines: dict[str, AssetPipeline] = {a: AssetPipeline(self._params) for a in source.assets}
        self._frames: queue.Queue[list[Frame] | object] = queue.Queue(maxsize=settings.engine.queue_size)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._listeners: list[Listener] = []
        self._threads: list[threading.Thread] = []
        self.frames_processed = 0
        self.frame_errors: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """``listener(event)`` is called on a worker thread for every engine event."""
        self._listeners.append(listener)

    def start(self) -> None:
        if self._threads:
            return
        self.writer.start()
        self._threads = [
            threading.Thread(target=self._guard, args=("source", self._run_source), name="vigil-source", daemon=True),
            threading.Thread(target=self._guard, args=("detection", self._run_detection), name="vigil-detect",
                             daemon=True),
        ]
        for t in self._threads:
            t.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source is exhausted and every frame is scored and handed to the store."""
        return self._finished.wait(timeout)

    def stop(self) -> None:
        """Idempotent: stop the source, drain detection, flush the store, join everything with timeouts."""
        self._stop.set()
        t_join = self.settings.engine.join_timeout_s
        for t in self._threads:
            t.join(t_join)
            if t.is_alive():
                log.error("%s did not stop within %.1f s", t.name, t_join)
        self._threads = []
        self.writer.stop(t_join)

    def acknowledge(self, alarm_id: str, user: str, note: str | None = None) -> None:
        self.alarms.acknowledge(alarm_id, user, note)

    # -- workers -----------------------------------------------------------------------------
    def _guard(self, name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except Exception as exc:  # noqa: BLE001 - a worker must report, never vanish
            self._failed(name, exc, fatal=True)
            self._stop.set()
            self._finished.set()

    def _run_source(self) -> None:
        try:
            for batch in self.source.batches(self._stop):
                while not self._stop.is_set():
                    try:
                        self._frames.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
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
            try:
                item = self._frames.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _DONE:
                self._finished.set()
                return
            rows = []
            for frame in item:  # type: ignore[union-attr]
                try:
                    rows.append(self._score(frame))
                except Exception as exc:  # noqa: BLE001 - one asset's bad frame must not stop the others
                    self._frame_failed(frame, exc)
            self.writer.put_samples(rows)
            self.frames_processed += len(rows)

    def _score(self, frame: Frame) -> tuple[str, float, bytes, float | None, str]:
        pipe = self.pipelines.get(frame.asset)
        if pipe is None:  # a source may reveal assets as it goes (MQTT ingest)
            pipe = self.pipelines[frame.asset] = AssetPipeline(self._params)
        out = pipe.process(frame.ts, frame.values)
        if out.regime_changed:
            self._publish(events.RegimeChanged(frame.asset, frame.ts, out.regime.value))
        if out.commissioned:
            self._publish(events.CommissioningCompleted(frame.asset, frame.ts, pipe.baseline_samples))
        if out.transition is not None:
            self.alarms.on_alert(frame.asset, out.transition)
        return (frame.asset, frame.ts, np.asarray(frame.values, dtype="<f8").tobytes(), out.score, out.regime.value)

    def _frame_failed(self, frame: Frame, exc: Exception) -> None:
        n = self.frame_errors[frame.asset] = self.frame_errors.get(frame.asset, 0) + 1
        if n == 1 or n % 1000 == 0:  # report the first and then every 1000th, not a flood
            log.error("scoring %s at %s failed (%d so far)", frame.asset, frame.ts, n, exc_info=exc)
            self._publish(events.WorkerFailed("detection", f"{frame.asset}: {type(exc).__name__}: {exc} "
                                              f"({n} frame(s) skipped)", fatal=False))

    # -- events --------------------------------------------------------------------------------
    def _publish(self, event: object) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken listener must not kill a worker
                log.exception("event listener failed on %r", event)

    def _failed(self, worker: str, exc: BaseException, fatal: bool) -> None:
        log.error("worker %s failed: %s", worker, exc, exc_info=exc)
        self._publish(events.WorkerFailed(worker, f"{type(exc).__name__}: {exc}", fatal))


