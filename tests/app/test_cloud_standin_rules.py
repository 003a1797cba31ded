"""The in-process cloud stand-in's diagnosis (app/cloud_standin.py), on the shares of the channels that drove an
alarm: the simulator demo's cavitation reads as cavitation, a single sensor's dropout not as a process fault."""
from __future__ import annotations

from hypothesis import given, strategies as st

from app.cloud_standin import diagnose


def test_cavitation_with_its_vibration_just_under_half_is_cavitation_high() -> None:
    # the demo's P-101 alarm (seed 0): vibration 25 % + 25 % rounded, flow 20 %
    v = diagnose((("vib_de", 0.249), ("vib_nde", 0.248), ("flow", 0.20)), 26.7)
    assert (v.confirmed, v.failure_mode, v.priority) == (True, "cavitation", "high")


def test_one_channel_alone_is_not_named_a_process_fault() -> None:
    v = diagnose((("pressure", 0.76), ("flow", 0.15), ("vib_nde", 0.04)), 7.2)  # the demo's pressure dropout
    assert v.confirmed and v.failure_mode == "other" and v.priority == "low"


def test_bearing_wear_and_imbalance_keep_their_names() -> None:
    assert diagnose((("vib_de", 0.68), ("vib_nde", 0.26), ("flow", 0.02)), 28.6).failure_mode == "bearing_wear"
    assert diagnose((("vib_de", 0.45), ("vib_nde", 0.40), ("current", 0.1)), 9.0).failure_mode == "impeller_imbalance"


@given(st.lists(st.tuples(st.sampled_from(["vib_de", "vib_nde", "flow", "pressure", "current", "motor_temp"]),
                          st.floats(0, 1)), max_size=3),
       st.floats(0, 100))
def test_any_shares_get_a_well_formed_verdict(channels: list[tuple[str, float]], score: float) -> None:
    v = diagnose(tuple(channels), score)
    assert (v.failure_mode is None) == (not v.confirmed)
    assert v.priority in (None, "low", "medium", "high") and 0 < v.confidence <= 1
