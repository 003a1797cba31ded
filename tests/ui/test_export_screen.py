"""The Export screen by real clicks, on the fake HMI API whose export is the real one (app.export.run_export on a
real store into a real folder): a stick appears by itself, the export runs off the GUI thread with progress, and
cancel, a refusal and a permission error are shown."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.export import ExportCancelled, Include, find_media, run_export, store_audit
from app.hmi_api import ExportProgress, ExportRequest, ExportResult, Session
from app.shifts import ShiftPattern
from app.ui.screens.export import ExportScreen
from app.ui.screens.export_range import RangeMode
from app.users import Action, Role, require
from tests.support.export_db import END, ZONE, ExportDb, seed
from tests.support.fake_hmi import FakeHmi

LEFT = Qt.MouseButton.LeftButton
SUPERVISOR = Session("supervisor", Role.SUPERVISOR, 0.0)
OPERATOR = Session("operator", Role.OPERATOR, 0.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ExportDb]:
    e = seed(tmp_path / "vigil.db")
    yield e
    e.db.dispose()


def _screen(qtbot: QtBot, fake: FakeHmi, session: Session) -> ExportScreen:
    screen = ExportScreen(fake, lambda: session, clock=lambda: END)  # "now" is the end of the seeded day
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


Runner = Callable[[Session, ExportRequest, str, Callable[[ExportProgress], None] | None, threading.Event | None],
                  ExportResult]


def _real_export(store: ExportDb, seen_threads: list[int]) -> Runner:
    def runner(session: Session, req: ExportRequest, dest: str, progress: Callable[[ExportProgress], None] | None,
               cancel: threading.Event | None) -> ExportResult:
        seen_threads.append(threading.get_ident())
        require(session, Action.EXPORT)
        return run_export(store.db, req, dest, zone=ZONE, gateway="gw-1", audit=store_audit(store.db),
                          progress=progress, cancel=cancel)
    return runner


def test_export_by_clicks_with_progress(qtbot: QtBot, store: ExportDb, tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    fake = FakeHmi()
    threads: list[int] = []
    fake.export_runner = _real_export(store, threads)
    screen = _screen(qtbot, fake, SUPERVISOR)
    assert screen.no_media.isVisible() and screen.chosen_medium() is None
    fake.export_media_list = find_media(str(stick))  # the stick is plugged in: found by the 2-s poll
    qtbot.waitUntil(lambda: screen.chosen_medium() is not None, timeout=5000)
    assert not screen.no_media.isVisible()
    qtbot.mouseClick(screen.range_picker.mode_buttons[RangeMode.LAST_24H], LEFT)  # the seeded day
    qtbot.mouseClick(screen.part_buttons["KPI report"], LEFT)  # leave the KPIs out
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(lambda: screen.status.text().startswith("Exported"), timeout=30_000)
    assert threads and threads[0] != threading.get_ident()  # not on the GUI thread
    assert screen.progress.value() == 1000 and screen.export_button.isEnabled()
    folders = [p for p in stick.iterdir() if p.name.startswith("vigil-export")]
    assert len(folders) == 1 and len((folders[0] / "samples" / "P-101.csv").read_bytes().splitlines()) == 3601
    assert not (folders[0] / "kpi").exists()
    assert "Manifest SHA-256" in screen.status.text()


def test_cancel_by_click(qtbot: QtBot, tmp_path: Path) -> None:
    fake = FakeHmi()
    fake.export_media_list = find_media(str(tmp_path))
    started = threading.Event()

    def waits_for_cancel(session: Session, req: ExportRequest, dest: str,
                         progress: Callable[[ExportProgress], None] | None,
                         cancel: threading.Event | None) -> ExportResult:
        started.set()
        if cancel is not None and cancel.wait(10):
            raise ExportCancelled("export cancelled; the partial folder was removed")
        raise AssertionError("the screen never set the cancel event")

    fake.export_runner = waits_for_cancel
    screen = _screen(qtbot, fake, SUPERVISOR)
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(started.is_set, timeout=5000)
    assert screen.cancel_button.isEnabled() and not screen.export_button.isEnabled()
    qtbot.mouseClick(screen.cancel_button, LEFT)
    qtbot.waitUntil(lambda: "cancelled" in screen.status.text(), timeout=5000)
    assert screen.export_button.isEnabled() and not screen.cancel_button.isEnabled()


def test_operator_is_refused(qtbot: QtBot, store: ExportDb, tmp_path: Path) -> None:
    fake = FakeHmi()
    fake.export_media_list = find_media(str(tmp_path))
    fake.export_runner = _real_export(store, [])
    screen = _screen(qtbot, fake, OPERATOR)
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(lambda: "supervisor or higher required" in screen.status.text(), timeout=5000)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("vigil-export")]


# -- the range and what to include, by clicks -------------------------------------------------------------------
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 3, 10, 30, tzinfo=BERLIN).timestamp()  # in the 06:00-14:00 shift


def _at(day: int, hour: int) -> float:
    return dt.datetime(2026, 12, day, hour, tzinfo=BERLIN).timestamp()


def _recording_screen(qtbot: QtBot, tmp_path: Path, session: Session = SUPERVISOR) -> tuple[ExportScreen, FakeHmi]:
    fake = FakeHmi()
    fake.shift_pattern_value = ShiftPattern(["06:00", "14:00", "22:00"], "Europe/Berlin")
    fake.export_media_list = find_media(str(tmp_path))

    def answers(session: Session, req: ExportRequest, dest: str, progress: Callable[[ExportProgress], None] | None,
                cancel: threading.Event | None) -> ExportResult:
        require(session, Action.EXPORT)
        return ExportResult(str(Path(dest) / "vigil-export-x"), (), 0, "0" * 64, (), 0.0)

    fake.export_runner = answers
    screen = ExportScreen(fake, lambda: session, clock=lambda: NOW)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: screen.chosen_medium() is not None, timeout=5000)
    return screen, fake


def _export_by_click(qtbot: QtBot, screen: ExportScreen, fake: FakeHmi) -> ExportRequest:
    before = len([c for c in fake.calls if c[0] == "export"])
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(lambda: screen.status.text().startswith("Exported"), timeout=5000)
    calls = [c for c in fake.calls if c[0] == "export"]
    assert len(calls) == before + 1
    req = calls[-1][3]
    assert isinstance(req, ExportRequest)
    return req


def test_each_range_by_clicks_reaches_the_engine(qtbot: QtBot, tmp_path: Path) -> None:
    screen, fake = _recording_screen(qtbot, tmp_path)
    picker = screen.range_picker
    req = _export_by_click(qtbot, screen, fake)  # This shift is chosen at first: one tap to export it
    assert (req.start, req.end, req.include, req.user) == (_at(3, 6), _at(3, 14), Include.everything(), "supervisor")
    qtbot.mouseClick(picker.mode_buttons[RangeMode.PREVIOUS_SHIFT], LEFT)
    req = _export_by_click(qtbot, screen, fake)
    assert (req.start, req.end) == (_at(2, 22), _at(3, 6))
    qtbot.mouseClick(picker.mode_buttons[RangeMode.DAY], LEFT)
    assert not picker.day_stepper.forward.isEnabled()  # today: no day ahead
    qtbot.mouseClick(picker.yesterday_button, LEFT)
    assert (_export_by_click(qtbot, screen, fake).start, picker.chosen().end) == (_at(2, 0), _at(3, 0))
    qtbot.mouseClick(picker.day_stepper.back, LEFT)
    req = _export_by_click(qtbot, screen, fake)
    assert (req.start, req.end) == (_at(1, 0), _at(2, 0))
    qtbot.mouseClick(picker.mode_buttons[RangeMode.CUSTOM], LEFT)  # starts as the last 8 whole hours: 03-11
    qtbot.mouseClick(picker.to_button, LEFT)
    for _ in range(2):
        qtbot.mouseClick(picker.step_buttons["- h"], LEFT)
    qtbot.mouseClick(picker.from_button, LEFT)
    qtbot.mouseClick(picker.step_buttons["- day"], LEFT)
    assert picker.from_button.text() == "From 02 Dec 03:00" and picker.to_button.text() == "To 03 Dec 09:00"
    req = _export_by_click(qtbot, screen, fake)
    assert (req.start, req.end) == (_at(2, 3), _at(3, 9))
    qtbot.mouseClick(picker.mode_buttons[RangeMode.LAST_7D], LEFT)
    req = _export_by_click(qtbot, screen, fake)
    assert (req.start, req.end) == (NOW - 7 * 86400, NOW)


def test_parts_by_clicks_reach_the_engine(qtbot: QtBot, tmp_path: Path) -> None:
    screen, fake = _recording_screen(qtbot, tmp_path)
    for name in ("Samples", "KPI report"):
        qtbot.mouseClick(screen.part_buttons[name], LEFT)
    req = _export_by_click(qtbot, screen, fake)
    assert req.include == Include.ALARMS | Include.AUDIT | Include.LOGBOOK | Include.HANDOVER
    for name in ("Alarms", "Audit log", "Logbook"):
        qtbot.mouseClick(screen.part_buttons[name], LEFT)
    assert _export_by_click(qtbot, screen, fake).include == Include.HANDOVER
    qtbot.mouseClick(screen.part_buttons["Handover PDFs"], LEFT)  # nothing left to export: said, not sent
    calls = len(fake.calls)
    qtbot.mouseClick(screen.export_button, LEFT)
    assert "nothing to export: choose at least one part" in screen.status.text() and len(fake.calls) == calls


def test_a_custom_range_ending_before_it_starts_is_refused_on_screen(qtbot: QtBot, tmp_path: Path) -> None:
    screen, fake = _recording_screen(qtbot, tmp_path)
    picker = screen.range_picker
    qtbot.mouseClick(picker.mode_buttons[RangeMode.CUSTOM], LEFT)
    qtbot.mouseClick(picker.to_button, LEFT)
    qtbot.mouseClick(picker.step_buttons["- day"], LEFT)
    calls = len(fake.calls)
    qtbot.mouseClick(screen.export_button, LEFT)
    assert "ends before it starts" in screen.status.text() and len(fake.calls) == calls


def test_a_read_only_stick_is_said_before_anything_runs(qtbot: QtBot, tmp_path: Path) -> None:
    screen, fake = _recording_screen(qtbot, tmp_path)
    medium = screen.chosen_medium()
    assert medium is not None
    fake.export_media_list = [replace(medium, read_only=True)]
    screen._media = []  # the next poll redraws the stick buttons
    screen.refresh_media()
    calls = len(fake.calls)
    qtbot.mouseClick(screen.export_button, LEFT)
    assert "is read-only" in screen.status.text() and "use another stick" in screen.status.text()
    assert len(fake.calls) == calls


def test_operator_cannot_export_a_chosen_range_and_supervisor_can(qtbot: QtBot, tmp_path: Path) -> None:
    screen, fake = _recording_screen(qtbot, tmp_path, OPERATOR)
    qtbot.mouseClick(screen.range_picker.mode_buttons[RangeMode.PREVIOUS_SHIFT], LEFT)
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(lambda: "supervisor or higher required" in screen.status.text(), timeout=5000)
    sup_screen, sup_fake = _recording_screen(qtbot, tmp_path)
    qtbot.mouseClick(sup_screen.range_picker.mode_buttons[RangeMode.PREVIOUS_SHIFT], LEFT)
    assert _export_by_click(qtbot, sup_screen, sup_fake).user == "supervisor"
