"""How to shelve comes from an operator's panel and from API callers: every duration is either a valid
ShelveSpec (finite, more than 0, at most 7 days) or refused with a message that names the field and the range."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from app.alarm_model import MAX_SHELVE_S, ShelveMode, ShelveSpec

durations = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**12, 10**12), st.booleans(),
                      st.text(max_size=5), st.none())


@given(durations, st.sampled_from(list(ShelveMode)))
def test_a_duration_is_accepted_exactly_when_it_is_a_sane_number_of_seconds(value: object, mode: ShelveMode) -> None:
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
          and 0 < value <= MAX_SHELVE_S)
    if ok:
        spec = ShelveSpec(mode, value)  # type: ignore[arg-type]
        assert spec.mode is mode and spec.duration_s == value
    else:
        with pytest.raises(ValueError, match="ShelveSpec.duration_s: .* between 1 second and 7 days"):
            ShelveSpec(mode, value)  # type: ignore[arg-type]


@given(st.text(max_size=20))
def test_a_mode_word_is_one_of_the_modes_or_refused_by_name(word: str) -> None:
    if word in {m.value for m in ShelveMode}:
        assert ShelveSpec(word, 60).mode is ShelveMode(word)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match="ShelveSpec.mode: .* is not one of timed, until_cleared"):
            ShelveSpec(word, 60)  # type: ignore[arg-type]
