"""What technicians say an alarm really was: the training labels for retraining the edge model."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from detection.failure_modes import FailureMode


class Verdict(StrEnum):
    """A label's verdict; the value is the ``labels.verdict`` column's word."""

    FAILURE = "failure"
    FALSE_ALARM = "false_alarm"
    UNSURE = "unsure"


VERDICTS = tuple(v.value for v in Verdict)

# (key, text on the button) for the HMI, in the order of the one definition (detection/failure_modes.py).
FAILURE_MODES: tuple[tuple[str, str], ...] = tuple((m.value, m.text) for m in FailureMode)
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Label:
    alarm_id: str
    verdict: str
    failure_mode: str | None
    note: str | None
    user: str
    ts: float


def validate(verdict: str, failure_mode: str | None, note: str | None) -> None:
    """Raise ValueError with an operator-readable message if the label is incomplete or unknown."""
    if verdict not in VERDICTS:
        raise ValueError(f"choose failure, false alarm or unsure (got {verdict!r})")
    if verdict == "failure" and not failure_mode:
        raise ValueError("choose the failure mode before saving a failure label")
    if failure_mode is not None and failure_mode not in tuple(FailureMode):
        raise ValueError(f"unknown failure mode {failure_mode!r}; choose one of the listed modes")
    if verdict != "failure" and failure_mode is not None:
        raise ValueError("a failure mode goes only with the verdict 'failure'")
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"the note is too long ({len(note)} characters; at most {MAX_NOTE})")
