"""The horn's re-arm rules (app/annunciation.py), without Qt: a new alarm sounds, nothing else starts it, it keeps
sounding until silenced or acknowledged, and a later new alarm sounds again."""
from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest
from hypothesis import given, strategies as st

from app.alarm_model import Alarm, AlarmState as S, Priority
from app.annunciation import Annunciator
from tests.support.fake_hmi import an_alarm

P = Priority


def alarm(alarm_id: str = "A1", priority: Priority = P.HIGH, base: S = S.UNACK, overlay: S | None = None,
          activations: int = 1) -> Alarm:
    a = an_alarm(alarm_id, priority=priority)
    return replace(a, base=base, overlay=overlay, activations=activations,
                   active=base in (S.UNACK, S.ACKED), cleared_ts=None if base in (S.UNACK, S.ACKED) else 1100.0)


def shown(state: S, alarm_id: str = "A1", **kw: object) -> Alarm:
    """An alarm SHOWN in ``state``: the held states are overlays on an active unacknowledged alarm."""
    if state.held:
        return alarm(alarm_id, base=S.UNACK, overlay=state, **kw)  # type: ignore[arg-type]
    return alarm(alarm_id, base=state, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("priority", list(P))
def test_a_new_unacknowledged_alarm_sounds_at_every_priority(priority: Priority) -> None:
    ann = Annunciator()
    assert not ann.observe([])
    assert ann.observe([alarm(priority=priority)])
    assert ann.calling == {"A1"} and ann.started == 1


@pytest.mark.parametrize("state", [s for s in S if s is not S.UNACK])
def test_a_new_alarm_in_any_other_state_does_not_sound(state: S) -> None:
    """Cleared (RTN UNACK), acknowledged, normal, shelved, suppressed, out of service: no horn."""
    ann = Annunciator()
    assert not ann.observe([shown(state)])
    assert ann.started == 0


@pytest.mark.parametrize("before, after", list(product(S, S)))
def test_every_state_change_of_a_seen_alarm(before: S, after: S) -> None:
    """Exhaustive over shown-state pairs (same activations, same priority) from a quiet horn: only coming back
    from shelved / suppressed / out of service to UNACK (annunciated again) starts it."""
    ann = Annunciator()
    ann.observe([shown(before)])
    ann.silence()
    sounds = ann.observe([shown(after)])
    assert sounds is (after is S.UNACK and before.held)


@pytest.mark.parametrize("before, after", list(product(S, S)))
def test_while_sounding_only_unacknowledged_keeps_it_going(before: S, after: S) -> None:
    """A calling alarm that moves to ``after``: the horn goes on only while it is still unacknowledged
    (UNACK, or cleared and not acknowledged: RTN UNACK)."""
    ann = Annunciator()
    ann.observe([])
    if not ann.observe([shown(before)]):
        return  # ``before`` does not call (covered above)
    assert ann.observe([shown(after)]) is (after in (S.UNACK, S.RTNUN))


def test_reactivation_sounds_again_after_acknowledgement() -> None:
    ann = Annunciator()
    assert ann.observe([alarm()])
    assert not ann.observe([alarm(base=S.ACKED)])  # acknowledged: quiet
    assert not ann.observe([alarm(base=S.NORM)])  # back to normal: quiet
    assert ann.observe([alarm(base=S.UNACK, activations=2)])  # re-activated: news
    assert ann.started == 2


def test_a_return_to_normal_does_not_sound_and_does_not_stop_an_unacknowledged_call() -> None:
    ann = Annunciator()
    assert ann.observe([alarm()])
    assert ann.observe([alarm(base=S.RTNUN)])  # cleared but not acknowledged: the horn goes on until silenced
    ann.silence()
    assert not ann.observe([alarm(base=S.RTNUN)])
    assert not ann.observe([alarm(base=S.RTNUN), alarm("A2", base=S.RTNUN)])  # a new one already cleared: quiet


def test_rerating_down_does_not_sound_rerating_up_does() -> None:
    ann = Annunciator()
    ann.observe([alarm(priority=P.HIGH)])
    ann.silence()
    assert not ann.observe([alarm(priority=P.MEDIUM)])
    assert not ann.observe([alarm(priority=P.LOW)])
    assert ann.observe([alarm(priority=P.MEDIUM)])  # up again: more urgent news
    ann.silence()
    assert not ann.observe([alarm(priority=P.MEDIUM, base=S.ACKED)])
    assert not ann.observe([alarm(priority=P.HIGH, base=S.ACKED)])  # up, but acknowledged: nothing to call for


def test_sounds_until_every_calling_alarm_is_acknowledged() -> None:
    ann = Annunciator()
    assert ann.observe([alarm("A1"), alarm("A2", P.LOW)])
    assert ann.observe([alarm("A1", base=S.ACKED), alarm("A2", P.LOW)])  # one left
    assert not ann.observe([alarm("A1", base=S.ACKED), alarm("A2", P.LOW, base=S.ACKED)])
    assert ann.started == 1


@pytest.mark.parametrize("held", [S.SHLVD, S.DSUPR, S.OOSRV])
def test_shelving_suppressing_or_taking_out_of_service_quiets_it(held: S) -> None:
    ann = Annunciator()
    assert ann.observe([alarm()])
    assert not ann.observe([alarm(overlay=held)])
    assert not ann.observe([alarm(overlay=held, activations=2)])  # re-activated while held: still quiet
    assert ann.observe([alarm(activations=2)])  # back in view, active and unacknowledged: annunciated again


def test_an_alarm_that_leaves_the_list_stops_calling() -> None:
    ann = Annunciator()
    assert ann.observe([alarm()])
    assert not ann.observe([])
    assert ann.observe([alarm()])  # the same id again (a new run of the engine): news


def test_silence_quiets_without_acknowledging_and_a_later_new_alarm_sounds_again() -> None:
    ann = Annunciator()
    first = [alarm("A1")]
    assert ann.observe(first)
    ann.silence()
    assert not ann.sounding
    assert first[0].state is S.UNACK  # nothing was acknowledged
    assert not ann.observe(first)  # the same alarms again: still quiet
    assert ann.observe([*first, alarm("A2", P.LOW)])  # a new one: sounds
    assert ann.calling == {"A2"}  # for the new one; the silenced one does not call again
    assert not ann.observe([alarm("A1"), alarm("A2", P.LOW, base=S.ACKED)])
    assert ann.started == 2


def test_silence_when_quiet_changes_nothing() -> None:
    ann = Annunciator()
    ann.silence()
    assert not ann.observe([alarm(base=S.ACKED)])
    assert ann.started == 0


# -- any sequence of alarm lists and silences ----------------------------------------------------------------
_STEP = st.lists(st.tuples(st.sampled_from(["A1", "A2", "A3"]), st.sampled_from(list(S)), st.sampled_from(list(P)),
                           st.integers(0, 2)), max_size=3)


@given(st.lists(st.one_of(st.just("silence"), _STEP), max_size=25))
def test_any_sequence_follows_the_rules(steps: list) -> None:
    """Against the rules as the operator reads them: it sounds after a list iff some alarm in it is news (active,
    unacknowledged and new, re-activated, re-rated up or back from held) or an earlier call is still
    unacknowledged and was not silenced; SILENCE always quiets it; it never sounds with nothing unacknowledged."""
    ann = Annunciator()
    seen: dict[str, Alarm] = {}
    calling: set[str] = set()
    activations: dict[str, int] = {}
    for step in steps:
        if step == "silence":
            ann.silence()
            calling.clear()
            assert not ann.sounding
            continue
        current: dict[str, Alarm] = {}
        for alarm_id, state, priority, bump in step:
            activations[alarm_id] = activations.get(alarm_id, 1) + bump  # the engine only ever counts up
            current[alarm_id] = shown(state, alarm_id, priority=priority, activations=activations[alarm_id])
        for a in current.values():
            before = seen.get(a.id)
            news = a.state is S.UNACK and (before is None or a.activations > before.activations
                                            or a.priority.rank > before.priority.rank or before.state.held)
            if news:
                calling.add(a.id)
        seen = current
        calling = {i for i in calling if i in current and current[i].unacknowledged}
        assert ann.observe(list(current.values())) is bool(calling)
        assert ann.calling == calling
        if not any(a.unacknowledged for a in current.values()):
            assert not ann.sounding
