"""The Shift screen's sections as rows of text, made on the worker thread with the review (:func:`shift_sections`:
no Qt objects, only strings), so the GUI thread only swaps a model's rows (:class:`SectionModel`) and never
formats a thousand acknowledgements itself. Times are the plant's local wall times (the shift pattern's zone)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from app.hmi_api import AlarmEvent, Priority, ShiftReview
from app.shift_review import StandingReason
from app.ui import theme
from detection.failure_modes import FailureMode

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
MAX_ROWS = 500  # a flood shift has thousands of re-activations; the table shows the first 500 and says so


class Section(StrEnum):
    STANDING = "Standing"
    ASSETS = "Per asset"
    ACTIONS = "Actions"
    LABELS = "Labels"
    ACK = "Ack times"


_EVENT_WORDS = {
    AlarmEvent.ACKNOWLEDGED: "acknowledged", AlarmEvent.SHELVED: "shelved",
    AlarmEvent.SHELVED_UNTIL_CLEARED: "shelved until cleared", AlarmEvent.UNSHELVED: "unshelved",
    AlarmEvent.UNSHELVED_ON_CLEAR: "shelving ended (cleared)", AlarmEvent.SHELVING_EXPIRED: "shelving expired",
    AlarmEvent.SUPPRESSED: "suppressed by design", AlarmEvent.UNSUPPRESSED: "unsuppressed",
    AlarmEvent.OUT_OF_SERVICE: "out of service", AlarmEvent.RETURNED_TO_SERVICE: "returned to service",
}
_VERDICT_WORDS = {"failure": "failure", "false_alarm": "false alarm", "unsure": "unsure"}
_REASON_WORDS = {StandingReason.UNACKNOWLEDGED: "unacknowledged", StandingReason.SHELVED: "shelved",
                 StandingReason.SUPPRESSED: "suppressed", StandingReason.OUT_OF_SERVICE: "out of service",
                 StandingReason.STALE: "stale > 24 h"}


@dataclass(frozen=True, slots=True)
class SectionRows:
    """One section as a table: its columns, starting widths of the fixed ones, the column that stretches, the rows
    (text), each row's priority (for the priority cell's colour, or None) and how many rows were left out."""

    section: Section
    columns: tuple[str, ...]
    widths: dict[int, int]
    stretch: int
    rows: tuple[tuple[str, ...], ...]
    priorities: tuple[Priority | None, ...]
    priority_column: int | None
    total: int

    @property
    def left_out(self) -> int:
        return self.total - len(self.rows)


def duration_text(seconds: float | None) -> str:
    """``"45 s"``, ``"3 min 20 s"``, ``"2 h 05 min"``, ``"3 d 4 h"``; ``"-"`` for none."""
    if seconds is None:
        return "-"
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


class Clock:
    """Wall times in the plant's zone: ``"14:05"`` inside the shift's day, ``"02 Dec 14:05"`` otherwise."""

    def __init__(self, zone: ZoneInfo, day_of: float) -> None:
        self.zone = zone
        self._day = datetime.fromtimestamp(day_of, zone).date()

    def __call__(self, ts: float) -> str:
        t = datetime.fromtimestamp(ts, self.zone)
        return f"{t:%H:%M:%S}" if t.date() == self._day else f"{t:%d %b %H:%M}"


def _section(section: Section, columns: tuple[str, ...], widths: dict[int, int], stretch: int,
             rows: Sequence[tuple[str, ...]], priorities: Sequence[Priority | None] | None = None,
             priority_column: int | None = None) -> SectionRows:
    prios = tuple(priorities[:MAX_ROWS]) if priorities is not None else (None,) * min(len(rows), MAX_ROWS)
    return SectionRows(section, columns, widths, stretch, tuple(rows[:MAX_ROWS]), prios, priority_column, len(rows))


def shift_sections(review: ShiftReview, zone: ZoneInfo) -> dict[Section, SectionRows]:
    """Every section of ``review`` as text rows (a worker thread's call: plain Python)."""
    at = Clock(zone, review.start)
    standing = [(theme.PRIORITY_WORDS[s.priority], s.source.asset,
                 ", ".join(_REASON_WORDS[r] for r in StandingReason if r in s.reasons), s.state.value,
                 at(s.active_since if s.active_since is not None else s.raised_ts), s.message)
                for s in review.standing]
    assets = [(a.asset, str(a.raised), str(a.reactivated), str(a.cleared)) for a in review.assets]
    actions = [(at(a.ts), a.by or "system", _EVENT_WORDS.get(a.event, a.event.value), a.asset, a.note or "")
               for a in review.actions]
    labels = [(at(lab.ts), lab.by, lab.asset,
               _VERDICT_WORDS[lab.verdict.value] + (" (corrected)" if lab.correction else ""),
               FailureMode(lab.failure_mode).text if lab.failure_mode else "-", lab.note or "")
              for lab in review.labels]
    slowest = sorted(review.acknowledgements, key=lambda k: -(k.delay_s or 0.0))
    acks = [(theme.PRIORITY_WORDS[k.priority], k.asset, duration_text(k.delay_s), at(k.ts), k.by or "-")
            for k in slowest]
    return {
        Section.STANDING: _section(Section.STANDING, ("Priority", "Asset", "Why", "State", "Since", "Alarm"),
                                   {0: 110, 1: 90, 2: 180, 3: 90, 4: 150}, 5, standing,
                                   [s.priority for s in review.standing], 0),
        Section.ASSETS: _section(Section.ASSETS, ("Asset", "Raised", "Re-activated", "Cleared"),
                                 {1: 170, 2: 200, 3: 170}, 0, assets),
        Section.ACTIONS: _section(Section.ACTIONS, ("Time", "Who", "What", "Asset", "Comment"),
                                  {0: 150, 1: 150, 2: 260, 3: 100}, 4, actions),
        Section.LABELS: _section(Section.LABELS, ("Time", "Who", "Asset", "Verdict", "Failure mode", "Note"),
                                 {0: 150, 1: 150, 2: 100, 3: 230, 4: 260}, 5, labels),
        Section.ACK: _section(Section.ACK, ("Priority", "Asset", "Took", "Acknowledged", "Who"),
                              {0: 130, 1: 100, 2: 200, 3: 200}, 4, acks, [k.priority for k in slowest], 0),
    }


def summary_text(review: ShiftReview, zone: ZoneInfo) -> str:
    """One line: what stood at the end, the load, the time to acknowledge."""
    end = datetime.fromtimestamp(review.until, zone)
    counts = review.standing_counts()
    standing = ", ".join(f"{n} {_REASON_WORDS[r]}" for r, n in counts.items())
    raised = sum(a.raised for a in review.assets)
    cleared = sum(a.cleared for a in review.assets)
    ack = review.ack
    ack_text = (f"ack mean {duration_text(ack.mean_s)}, p90 {duration_text(ack.p90_s)}" if ack.acknowledged
                else "no acknowledgements")
    return (f"At {end:%H:%M}: {standing}.  In the shift: {raised} raised, {cleared} cleared, "
            f"{_count(len(review.actions), 'action')}, {_count(len(review.labels), 'label')}; {ack_text}.")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class SectionModel(QAbstractTableModel):
    """The rows of one section; swapping sections or shifts is one model reset (cheap on the GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section: SectionRows | None = None

    def set_section(self, section: SectionRows | None) -> None:
        self.beginResetModel()
        self.section = section
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() or self.section is None else len(self.section.rows)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() or self.section is None else len(self.section.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if self.section is not None and orientation == Qt.Orientation.Horizontal \
                and role == Qt.ItemDataRole.DisplayRole:
            return self.section.columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        s = self.section
        if s is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return s.rows[row][col]
        prio = s.priorities[row] if col == s.priority_column else None
        if prio is not None and role == Qt.ItemDataRole.BackgroundRole:
            return theme.qcolor(theme.PRIORITY_COLOURS[prio])
        if prio is not None and role == Qt.ItemDataRole.ForegroundRole:
            return theme.qcolor(theme.PRIORITY_TEXT_ON[prio])
        if prio is not None and role == Qt.ItemDataRole.FontRole:
            return theme.font(theme.FONT_PX, bold=True)
        return None


def rows_of(model: SectionModel) -> Sequence[tuple[str, ...]]:
    return () if model.section is None else model.section.rows
