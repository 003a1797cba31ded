"""Stored alarm words (a restored row, a tampered database) become enum members or are refused by name.

The Alarm and CloudStatus hold enums whoever builds them (app/alarm_model.py); text that is not one of the words
must never slip through as a bare string that a screen would then compare (or crash on).
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, strategies as st

from app.alarm_model import Alarm, AlarmKind, CloudState, CloudStatus, Priority
from app.alarm_states import AlarmState

ROW: dict[str, Any] = {"id": "a", "asset": "P-101", "kind": "anomaly", "priority": "medium", "base": "UNACK",
                       "raised_ts": 1.0, "last_active_ts": 1.0, "peak_score": 2.0, "activations": 1,
                       "top_channels": (), "message": "m", "active": True}
FIELDS: dict[str, type[StrEnum]] = {"kind": AlarmKind, "priority": Priority, "base": AlarmState,
                                    "overlay": AlarmState}


def words(enum: type[StrEnum]) -> st.SearchStrategy[str]:
    """Mostly near misses (case, spaces, other enums' words), and any text at all."""
    valid = [m.value for m in enum]
    others = [m.value for e in (AlarmKind, Priority, AlarmState, CloudState) for m in e]
    return st.one_of(st.sampled_from(valid), st.sampled_from(others),
                     st.sampled_from(valid).map(lambda w: w.upper() if w.islower() else w.lower()),
                     st.sampled_from(valid).map(lambda w: f" {w}"), st.text(max_size=20))


@pytest.mark.parametrize("field", sorted(FIELDS))
@given(data=st.data())
def test_alarm_words_become_members_or_are_refused_by_name(field: str, data: st.DataObject) -> None:
    enum = FIELDS[field]
    text = data.draw(words(enum))
    if text in {m.value for m in enum}:
        member = getattr(Alarm(**{**ROW, field: text}), field)
        assert type(member) is enum and member.value == text
    else:
        with pytest.raises(ValueError, match=rf"^Alarm\.{field}: .* is not one of "):
            Alarm(**{**ROW, field: text})


@given(state=words(CloudState), priority=st.one_of(st.none(), words(Priority)))
def test_cloud_words_become_members_or_are_refused_by_name(state: str, priority: str | None) -> None:
    row: dict[str, Any] = {"state": state, "priority": priority}
    ok_state = state in {m.value for m in CloudState}
    ok_priority = priority is None or priority in {m.value for m in Priority}
    if ok_state and ok_priority:
        c = CloudStatus(**row)
        assert type(c.state) is CloudState and (c.priority is None or type(c.priority) is Priority)
        assert isinstance(c.text, str)
    else:
        with pytest.raises(ValueError, match=r"^CloudStatus\.(state|priority): .* is not one of "):
            CloudStatus(**row)
