"""The Handover screen by real clicks in the real main window, on the fake HMI API whose handovers are the real
service (app/handover: the real PDF, the real rules) over a real SQLite file with a hand-made shift: the shift that
just ended is chosen, a supervisor generates its report off the GUI thread (busy bar meanwhile), the one who
generated it cannot sign it, another supervisor signs it off once (audited), and below supervisor the guarded
buttons refuse and say who may."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.hmi_api import Role, Session
from app.store import schema
from app.ui.main_window import MainWindow
from app.ui.widgets.overlay import ConfirmPanel
from tests.support.fake_hmi import FakeHmi, window_on
from tests.support.handover_db import PATTERN, SHIFT, HandMadeShift, hand_made_shift

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 15_000
SARA = Session("sara", Role.SUPERVISOR, 0.0)
IVAN = Session("ivan", Role.SUPERVISOR, 0.0)


@pytest.fixture
def made(tmp_path: Path) -> HandMadeShift:
    return hand_made_shift(tmp_path / "vigil.db")


@pytest.fixture
def fake(made: HandMadeShift, tmp_path: Path) -> FakeHmi:
    f = FakeHmi(["P-101", "Pumpe Süd-3"])
    f.now = SHIFT.end_ts + 600  # ten minutes into the next shift: the one to hand over has just ended
    f.shift_pattern_value = PATTERN
    f.use_handover_db(made.store.db, tmp_path / "handovers")
    f.kpi_db = made.store.db  # the Shift screen's review reads the same store
    return f


@pytest.fixture
def window(qtbot: QtBot, fake: FakeHmi) -> Iterator[MainWindow]:
    for w in window_on(qtbot, fake):
        qtbot.waitUntil(lambda: w.bridge.snapshot is not None, timeout=WAIT_MS)  # noqa: B023 - waited on here
        yield w


def open_handover(qtbot: QtBot, w: MainWindow) -> None:
    qtbot.mouseClick(w.nav.buttons["more"], LEFT)
    qtbot.waitUntil(lambda: w.current == "more", timeout=WAIT_MS)
    qtbot.mouseClick(w.manage.buttons["handover"], LEFT)


def confirm(qtbot: QtBot, w: MainWindow) -> None:
    panel = w.overlay.top()
    assert isinstance(panel, ConfirmPanel)
    qtbot.mouseClick(panel.confirm_button, LEFT)


def signed_audit(made: HandMadeShift) -> list[tuple[str, dict]]:
    a = schema.audit_log
    with made.store.db.connect() as c:
        rows = c.execute(select(a.c.user, a.c.detail).where(a.c.action == "handover signed")).all()
    return [(r.user, json.loads(r.detail)) for r in rows]


def test_generate_then_another_supervisor_signs_off(qtbot: QtBot, window: MainWindow, fake: FakeHmi,
                                                     made: HandMadeShift) -> None:
    w, screen = window, window.handover
    w.session.set_session(SARA)
    open_handover(qtbot, w)
    qtbot.waitUntil(lambda: w.current == "handover", timeout=WAIT_MS)
    assert screen.shift == SHIFT and screen.shift_label.text() == SHIFT.label  # the shift that just ended
    qtbot.waitUntil(lambda: "No handover generated" in screen.status.text(), timeout=WAIT_MS)
    assert not screen.sign_button.isEnabled()  # nothing to sign yet
    gate = fake.handover_gate = threading.Event()  # hold the report back: the busy state is seen
    qtbot.mouseClick(screen.generate_button, LEFT)
    qtbot.waitUntil(lambda: screen.progress.isVisible(), timeout=WAIT_MS)
    assert not screen.generate_button.isEnabled() and "Generating" in screen.message.text()
    gate.set()
    qtbot.waitUntil(lambda: "Not signed off yet" in screen.signed.text(), timeout=WAIT_MS)
    assert "by sara" in screen.status.text() and not screen.progress.isVisible()
    assert threading.get_ident() not in fake.handover_threads  # every handover call ran on a worker
    record = screen.latest
    assert record is not None and Path(record.path).is_file() and record.sha256 in screen.detail.text()

    qtbot.mouseClick(screen.sign_button, LEFT)  # sara generated it: she may not sign it
    confirm(qtbot, w)
    qtbot.waitUntil(lambda: "sara generated this handover" in screen.message.text(), timeout=WAIT_MS)
    assert signed_audit(made) == []

    w.session.set_session(IVAN)  # the incoming supervisor
    qtbot.mouseClick(screen.sign_button, LEFT)
    confirm(qtbot, w)
    qtbot.waitUntil(lambda: "Signed off by ivan" in screen.signed.text(), timeout=WAIT_MS)
    assert not screen.sign_button.isEnabled()  # signed once, never again
    [(user, detail)] = signed_audit(made)
    assert user == "ivan" and detail["sha256"] == record.sha256


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.TECHNICIAN])
def test_below_supervisor_cannot_generate_or_sign(qtbot: QtBot, window: MainWindow, fake: FakeHmi,
                                                  made: HandMadeShift, role: Role) -> None:
    w, screen = window, window.handover
    w.session.set_session(Session("pat", role, 0.0))
    open_handover(qtbot, w)  # More refuses the screen itself
    qtbot.waitUntil(lambda: "Supervisor or higher required" in w.message_bar.text(), timeout=WAIT_MS)
    assert w.current == "more"
    generated = fake.handover_service().generate(SARA, SHIFT)  # one to sign, made by a supervisor
    w.show_screen("handover")  # as if a supervisor left it open and pat logged in
    qtbot.waitUntil(lambda: screen.sign_button.isEnabled(), timeout=WAIT_MS)
    assert screen.generate_button.property("locked") == "true" and screen.sign_button.property("locked") == "true"
    qtbot.mouseClick(screen.generate_button, LEFT)
    qtbot.waitUntil(lambda: "to generate a shift handover" in w.message_bar.text(), timeout=WAIT_MS)
    qtbot.mouseClick(screen.sign_button, LEFT)
    qtbot.waitUntil(lambda: "to sign a handover off" in w.message_bar.text(), timeout=WAIT_MS)
    assert w.overlay.top() is None  # no confirmation was offered
    assert len(fake.handover_service().handovers(SHIFT)) == 1 and signed_audit(made) == []
    assert fake.handover_service().handovers(SHIFT)[0].id == generated.id


def test_earlier_later_and_current(qtbot: QtBot, window: MainWindow) -> None:
    w, screen = window, window.handover
    w.session.set_session(SARA)
    open_handover(qtbot, w)
    qtbot.waitUntil(lambda: screen.shift == SHIFT, timeout=WAIT_MS)
    qtbot.mouseClick(screen.earlier_button, LEFT)
    assert screen.shift == PATTERN.previous(SHIFT)
    qtbot.mouseClick(screen.later_button, LEFT)
    qtbot.mouseClick(screen.later_button, LEFT)
    assert screen.shift == PATTERN.next(SHIFT)  # the current shift: a report of it so far may be made
    assert not screen.later_button.isEnabled()  # no report of a shift not begun
    qtbot.mouseClick(screen.earlier_button, LEFT)
    qtbot.mouseClick(screen.current_button, LEFT)
    assert screen.shift == PATTERN.next(SHIFT)


def test_the_shift_screen_opens_the_handover_of_its_shift(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.session.set_session(SARA)
    qtbot.mouseClick(w.nav.buttons["more"], LEFT)
    qtbot.waitUntil(lambda: w.current == "more", timeout=WAIT_MS)
    qtbot.mouseClick(w.manage.buttons["shift"], LEFT)
    qtbot.waitUntil(lambda: w.current == "shift" and w.shift.shift is not None, timeout=WAIT_MS)
    qtbot.mouseClick(w.shift.previous_button, LEFT)  # the shift that just ended
    qtbot.waitUntil(lambda: w.shift.shift == SHIFT, timeout=WAIT_MS)
    assert w.shift.handover_button.isEnabled()
    qtbot.mouseClick(w.shift.handover_button, LEFT)
    qtbot.waitUntil(lambda: w.current == "handover", timeout=WAIT_MS)
    assert w.handover.shift == SHIFT and w.nav.buttons["more"].isChecked()
    qtbot.waitUntil(lambda: "No handover generated" in w.handover.status.text(), timeout=WAIT_MS)
