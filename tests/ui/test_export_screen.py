"""The Export screen by real clicks, on the fake HMI API whose export is the real one (app.export.run_export on a
real store into a real folder): a stick appears by itself, the export runs off the GUI thread with progress, and
cancel, a refusal and a permission error are shown."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.export import ExportCancelled, find_media, run_export, store_audit
from app.hmi_api import ExportProgress, ExportRequest, ExportResult, Session
from app.ui.screens.export import ExportScreen
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
    qtbot.mouseClick(screen.part_buttons["KPI report"], LEFT)  # leave the KPIs out
    qtbot.mouseClick(screen.export_button, LEFT)
    qtbot.waitUntil(lambda: screen.status.text().startswith("Exported"), timeout=30_000)
    assert threads and threads[0] != threading.get_ident()  # not on the GUI thread
    assert screen.progress.value() == 1000 and screen.export_button.isEnabled()
    folders = [p for p in stick.iterdir() if p.name.startswith("vigil-export")]
    assert len(folders) == 1 and (folders[0] / "samples" / "P-101.csv").is_file()
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
