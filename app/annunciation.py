"""When the HMI's horn sounds: the re-arm logic of audible annunciation (ISA-18.2), without Qt.

The horn calls the operator to a NEW alarm: one raised, or re-activated, that is annunciated and unacknowledged
(UNACK), an unacknowledged alarm the cloud re-rated UP (more urgent news), or an active unacknowledged alarm
that comes back from shelving, suppression or out of service (it is annunciated again). Nothing else starts it: a
return to normal, an acknowledgement, a shelved, suppressed or out-of-service alarm, a re-rating down.

It keeps sounding (the player repeats) until SILENCE is pressed or every alarm that called it is no longer
unacknowledged (acknowledged, shelved, suppressed, taken out of service, or gone). Silence quiets the horn without
acknowledging anything; a later new alarm sounds again.

The annunciator follows the alarm list the HMI already polls (``observe``), so it needs no events and the same
list drives the banner and the horn: what is "new" is read from the list itself (an id not seen before, an
``activations`` count that went up, a priority that went up), all through the alarm model's own notions
(``Alarm.unacknowledged``, ``Priority.rank``).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from app.alarm_model import Alarm, AlarmState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Seen:
    activations: int
    rank: int
    held: bool  # shown as shelved, suppressed or out of service


class Annunciator:
    """Decides whether the horn sounds. Feed it every alarm list (``observe``); read ``sounding``."""

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self._calling: set[str] = set()  # ids of the new alarms that sound the horn and are still unacknowledged
        self.started = 0  # how many times the horn started (a new call after quiet or after silence)

    @property
    def sounding(self) -> bool:
        return bool(self._calling)

    @property
    def calling(self) -> frozenset[str]:
        """The alarms the horn sounds for now."""
        return frozenset(self._calling)

    def observe(self, alarms: Iterable[Alarm]) -> bool:
        """Take the current alarm list; returns ``sounding`` after it."""
        was = self.sounding
        current: dict[str, Alarm] = {a.id: a for a in alarms}
        for a in current.values():
            before = self._seen.get(a.id)
            if _calls(a, before):
                self._calling.add(a.id)
            self._seen[a.id] = _Seen(a.activations, a.priority.rank, a.state.held)
        for gone in set(self._seen) - set(current):
            del self._seen[gone]
        self._calling = {i for i in self._calling if i in current and current[i].unacknowledged}
        if self.sounding and not was:
            self.started += 1
            log.info("annunciation: sounding for %d new alarm(s)", len(self._calling))
        return self.sounding

    def silence(self) -> None:
        """The operator's SILENCE: quiet now, acknowledge nothing; a later new alarm sounds again."""
        if self._calling:
            log.info("annunciation silenced (%d alarm(s) still unacknowledged)", len(self._calling))
        self._calling.clear()


def _calls(alarm: Alarm, before: _Seen | None) -> bool:
    """Whether ``alarm`` is news that sounds the horn, given how it was last seen (None: not seen before)."""
    if alarm.state is not AlarmState.UNACK:  # active, annunciated, unacknowledged; nothing else calls
        return False
    if before is None:  # raised (or restored from the last run while active and unacknowledged)
        return True
    return alarm.activations > before.activations or alarm.priority.rank > before.rank or before.held
