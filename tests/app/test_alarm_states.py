from __future__ import annotations

import pytest

from app.alarm_states import AlarmState as S, InvalidTransition, on_acknowledge, on_condition


@pytest.mark.parametrize(
    ("state", "active", "after"),
    [
        (S.NORM, True, S.UNACK),
        (S.UNACK, False, S.RTNUN),
        (S.ACKED, False, S.NORM),
        (S.RTNUN, True, S.UNACK),
        (S.UNACK, True, S.UNACK),
        (S.ACKED, True, S.ACKED),
        (S.NORM, False, S.NORM),
    ],
)
def test_condition_transitions_follow_isa_18_2(state: S, active: bool, after: S) -> None:
    assert on_condition(state, active) is after


def test_acknowledge() -> None:
    assert on_acknowledge(S.UNACK) is S.ACKED
    assert on_acknowledge(S.RTNUN) is S.NORM
    for state in (S.NORM, S.ACKED):
        with pytest.raises(InvalidTransition, match="only UNACK or RTNUN"):
            on_acknowledge(state)
