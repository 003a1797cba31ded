"""What an export is asked to do and what it reports back: typed, so the CLI, the screen and the audit row agree."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, Flag, auto


class Include(Flag):
    """What goes into an export (any combination)."""

    SAMPLES = auto()  # one CSV per asset: every channel's value and quality code, score, regime
    ALARMS = auto()  # alarms, their events (who did what when) and labels
    AUDIT = auto()  # the audit log (details with secret-looking keys removed)
    LOGBOOK = auto()  # operator logbook entries (skipped when the store has no logbook yet)
    KPI = auto()  # the ISA-18.2 KPI report as JSON and a flat CSV
    HANDOVER = auto()  # handover PDFs of the shifts starting in the range (app/export/handover_part.py)

    @classmethod
    def everything(cls) -> Include:
        return cls.SAMPLES | cls.ALARMS | cls.AUDIT | cls.LOGBOOK | cls.KPI | cls.HANDOVER

    @classmethod
    def parse(cls, text: str) -> Include:
        """``"samples,alarms"`` or ``"all"`` -> the flags; a clear ValueError names what is allowed."""
        names = [t.strip().lower() for t in text.split(",") if t.strip()]
        allowed = ", ".join(m.name.lower() for m in cls if m.name) + ", all"
        if not names:
            raise ValueError(f"--include is empty; allowed: a comma-separated list of {allowed}")
        out = cls(0)
        for name in names:
            if name == "all":
                out |= cls.everything()
            elif name.upper() in cls.__members__:
                out |= cls[name.upper()]
            else:
                raise ValueError(f"--include: unknown part {name[:40]!r}; allowed: {allowed}")
        return out


MAX_RANGE_S = 400 * 86400


@dataclass(frozen=True, slots=True)
class ExportRequest:
    start: float  # epoch seconds, inclusive
    end: float  # epoch seconds, exclusive
    include: Include
    user: str | None  # who asked (the audit row's user)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError("the export range must be two finite times")
        if self.end <= self.start:
            raise ValueError("the export range ends before it starts; allowed: an end after the start")
        if self.end - self.start > MAX_RANGE_S:
            raise ValueError(f"the export range is {(self.end - self.start) / 86400:.0f} days; allowed: at most "
                             f"{MAX_RANGE_S // 86400} days")
        if not self.include:
            raise ValueError("nothing to export: choose at least one part")


class Phase(Enum):
    CHECKING = "checking the stick"
    WRITING = "writing"
    VERIFYING = "reading back and verifying"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Reported on the export's thread at least twice a second while it runs."""

    phase: Phase
    file: str  # the file being written or verified ("" between files)
    rows_done: int
    rows_total: int
    bytes_done: int
    bytes_total: int  # the estimate while writing; the exact size while verifying

    @property
    def fraction(self) -> float:
        """0..1 for a progress bar: writing is the first 80 %, verifying the rest."""
        if self.phase is Phase.DONE:
            return 1.0
        if self.phase is Phase.VERIFYING:
            return 0.8 + 0.2 * (self.bytes_done / self.bytes_total if self.bytes_total else 1.0)
        if self.phase is Phase.WRITING:
            part = self.rows_done / self.rows_total if self.rows_total else 0.0
            return 0.8 * min(1.0, part)
        return 0.0


@dataclass(frozen=True, slots=True)
class ExportedFile:
    name: str  # relative to the export folder, "/" separated
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    folder: str  # the finished export folder
    files: tuple[ExportedFile, ...]  # without the manifest itself
    bytes: int  # all files, the manifest included
    manifest_sha256: str  # SHA-256 of MANIFEST.sha256 (quote it to prove what was handed over)
    skipped: tuple[str, ...]  # parts asked for that had nothing to write, and why
    seconds: float


class ExportError(Exception):
    """The export could not be made; the message says why and what to do. Nothing complete-looking is left."""


class ExportCancelled(ExportError):
    """Cancelled by the user; the partial folder was removed."""
