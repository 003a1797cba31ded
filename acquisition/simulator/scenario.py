"""Scenarios for the simulated station: what a first run on the simulator shows.

``demo`` (the simulator's default in the app, never with a field source): the station's first minutes of plant time
are simulated flat out before anything is shown (the *pre-run*), so detection commissions every pump from that
data the way it would on site, only faster than wall time; then faults begin on different pumps within the first
minutes of live running, so a new user sees alarms raised, the cloud's verdict, acknowledgement and labelling.
``none``: the plain simulation (no pre-run, no faults but those injected).

The faults are ordinary :class:`FaultSpec` s (the same physics ``--inject`` uses), timed from the end of the
pre-run: ``onset_s`` is plant seconds from the start of the run, so each one is ``prerun_s + after_s``.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from acquisition.simulator.faults import FaultKind, FaultSpec

log = logging.getLogger(__name__)


class Scenario(StrEnum):
    DEMO = "demo"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DemoFault:
    """A fault of the demo: on the ``pump``-th pump (0-based), ``after_s`` plant seconds after the pre-run."""

    pump: int
    kind: FaultKind
    after_s: float
    ramp_s: float
    channel: str | None = None

    def spec(self, asset: str, prerun_s: float) -> FaultSpec:
        return FaultSpec(asset, self.kind, prerun_s + self.after_s, ramp_s=self.ramp_s, severity=1.0,
                         channel=self.channel)


# Short ramps: plainly visible within a minute. A fourth pump, when there is one, stays healthy for contrast.
DEMO_FAULTS: tuple[DemoFault, ...] = (
    DemoFault(0, FaultKind.CAVITATION, after_s=20.0, ramp_s=10.0),
    DemoFault(1, FaultKind.BEARING_WEAR, after_s=60.0, ramp_s=20.0),
    DemoFault(2, FaultKind.SENSOR_DROPOUT, after_s=90.0, ramp_s=5.0, channel="pressure"),
)

PRERUN_MARGIN_S = 60.0
"""Plant time added to the commissioning window's own length: a learning window that restarts once (a
not-quite-steady stretch) still finishes inside the pre-run."""

START_UP_S = 560.0
"""Added when the station begins stopped: each pump starts within 220 s (schedule.INITIAL_START_DELAY_S plus the
longest START_RAMP_S), and commissioning after a start takes ~300 s longer than on a pump already running (measured,
seeds 0, 3, 5: 659-669 s from the end of the ramp; the first window after a start is judged unsteady), so 340 s
more."""


def demo_prerun_s(commissioning_s: float, sample_period_s: float, start_stopped: bool = False) -> float:
    """The plant time simulated before the HMI shows: ``commissioning_s`` (what detection needs: settling,
    the learning window, the fit's adoption; app/sources.py adds it up from the detection settings) plus a
    margin, plus the start-up when the station begins stopped; whole sample periods."""
    total = commissioning_s + PRERUN_MARGIN_S + (START_UP_S if start_stopped else 0.0)
    ticks = -(-total // sample_period_s)  # ceil
    return float(ticks * sample_period_s)


def demo_faults(assets: Sequence[str], prerun_s: float) -> list[FaultSpec]:
    """The demo's faults on the station's ``assets``; a demo fault for a pump the station lacks is left out."""
    out = []
    for f in DEMO_FAULTS:
        if f.pump < len(assets):
            out.append(f.spec(assets[f.pump], prerun_s))
        else:
            log.info("demo: %s left out (the station has %d pump(s))", f.kind.value, len(assets))
    return out
