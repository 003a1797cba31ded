"""The handover part of :class:`tests.support.fake_hmi.FakeHmi`: the real :class:`app.handover.HandoverService`
(the real PDF, the real rules) over a real SQLite file, its writes committed at once (``DirectWrites``). A test
hands its own store with :meth:`FakeHandovers.use_handover_db` (hand-made alarms); otherwise an empty one is made
on first use. ``handover_gate``: generate waits for it (a test holds a report back to see the busy state)."""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from sqlalchemy import Engine

from app.handover import HandoverRecord, HandoverService
from app.handover.service import DirectWrites
from app.hmi_api import Session, Shift
from app.shifts import ShiftPattern
from app.store.database import open_database


class FakeHandovers:
    now: float
    shift_pattern_value: ShiftPattern

    def _init_handovers(self) -> None:
        self.handover_threads: list[int] = []  # threading.get_ident() of every handover call
        self.handover_gate: threading.Event | None = None
        self._handover_service: HandoverService | None = None
        self._handover_lock = threading.Lock()
        self._handover_dir: tempfile.TemporaryDirectory[str] | None = None

    def use_handover_db(self, db: Engine, folder: Path) -> HandoverService:
        """Handovers over ``db`` (the test's store), PDFs into ``folder``."""
        with self._handover_lock:
            self._handover_service = HandoverService(db, DirectWrites(db), folder, self.shift_pattern_value,
                                                     "gw-test", "plant-test", lambda: self.now)
            return self._handover_service

    def handover_service(self) -> HandoverService:
        with self._handover_lock:
            service = self._handover_service
        if service is None:
            self._handover_dir = tempfile.TemporaryDirectory(prefix="fake-handover-")
            folder = Path(self._handover_dir.name)
            service = self.use_handover_db(open_database(folder / "vigil.db"), folder / "handovers")
        return service

    # -- HmiApi ---------------------------------------------------------------------------------------
    def handovers(self, shift: Shift) -> list[HandoverRecord]:
        self.handover_threads.append(threading.get_ident())
        return self.handover_service().handovers(shift)

    def generate_handover(self, session: Session, shift: Shift) -> HandoverRecord:
        self.handover_threads.append(threading.get_ident())
        if self.handover_gate is not None:
            self.handover_gate.wait(10)
        return self.handover_service().generate(session, shift)

    def sign_handover(self, session: Session, handover_id: str) -> HandoverRecord:
        self.handover_threads.append(threading.get_ident())
        return self.handover_service().sign(session, handover_id)
