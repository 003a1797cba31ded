"""An in-process stand-in for the cloud confirmation service, until the MQTT uplink exists.

It answers the way the real service will: after a delay, confirmed with a failure mode and a priority, or not
confirmed; or, when told the uplink is down, not at all (the alarm manager then times the alarm out to
"cloud unreachable - edge only"). Its diagnosis is a plain rule on the channels that drove the alarm, good
enough to exercise the HMI's states; the real service runs a model over the alarm's signal window.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.cloud_verdicts import CloudVerdict

log = logging.getLogger(__name__)

__all__ = ["CloudStandIn", "diagnose"]  # CloudVerdict is app.cloud_verdicts's (the real message types)


def diagnose(top_channels: tuple[tuple[str, float], ...], peak_score: float) -> CloudVerdict:
    shares = dict(top_channels)
    vib = shares.get("vib_de", 0.0) + shares.get("vib_nde", 0.0)
    hydraulic = shares.get("flow", 0.0) + shares.get("pressure", 0.0)
    if peak_score < 1.5:
        return CloudVerdict("", False, None, None, 0.6)
    if max(shares.values(), default=0.0) >= 0.7 and vib < 0.5:
        # One process channel alone, its physically coupled ones unmoved: a sensor, not the process; which sensor
        # fault it is takes the signal window (the real service), so no named mode.
        return CloudVerdict("", True, "other", "low", 0.5)
    if vib >= 0.4 and shares.get("flow", 0.0) >= 0.15:
        # Cavitation moves vibration and flow together; its vibration share alone can sit just under a half.
        return CloudVerdict("", True, "cavitation", "high", 0.8)
    if vib >= 0.5:
        mode = "cavitation" if shares.get("flow", 0.0) > 0.1 else (
            "bearing_wear" if shares.get("vib_de", 0.0) > 1.5 * shares.get("vib_nde", 0.0) else "impeller_imbalance")
        return CloudVerdict("", True, mode, "high" if mode == "cavitation" else "medium", 0.8)
    if hydraulic >= 0.5:
        return CloudVerdict("", True, "outlet_valve_closure" if shares.get("pressure", 0) > 0.25 else "seal_leak",
                            "medium", 0.7)
    return CloudVerdict("", True, "other", "low", 0.5)


class CloudStandIn:
    """``submit`` an alarm; ``on_verdict(verdict)`` is called on a timer thread after ``delay_s``. Its verdicts
    pass the alarm manager's checks like the real service's: one per alarm, from the one model ``stand-in-0``."""

    def __init__(self, on_verdict: Callable[[CloudVerdict], None], delay_s: float = 1.5) -> None:
        self._on_verdict = on_verdict
        self.delay_s = delay_s
        self.reachable = True
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()

    def submit(self, alarm_id: str, top_channels: tuple[tuple[str, float], ...], peak_score: float) -> bool:
        """Returns False when the uplink is down (nothing was sent)."""
        if not self.reachable:
            return False
        v = diagnose(top_channels, peak_score)
        verdict = CloudVerdict(alarm_id, v.confirmed, v.failure_mode, v.priority, v.confidence)
        timer = threading.Timer(self.delay_s, self._answer, args=(verdict,))
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()
        return True

    def _answer(self, verdict: CloudVerdict) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
        try:
            self._on_verdict(verdict)
        except Exception:  # a timer thread must not die with a traceback nobody sees
            log.exception("handling the cloud verdict for %s failed", verdict.alarm_id)

    def stop(self) -> None:
        with self._lock:
            for t in self._timers:
                t.cancel()
            self._timers.clear()
