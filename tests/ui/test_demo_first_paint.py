"""The simulator demo on the HMI: run_gui shows the window only once the commissioning pre-run is scored, so the
first painted overview has every pump commissioned (no "Learning normal..." on a first run)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from app.live import AssetHealth
from app.sources import build_source
from tests.ui.conftest import make_settings


class _FirstPaint(QObject):
    """Records, at the window's first paint, what the engine's snapshot says about each pump."""

    def __init__(self, engine: object) -> None:
        super().__init__()
        self.engine = engine
        self.words: dict[str, AssetHealth] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and self.words is None:
            snap = self.engine.snapshot()  # type: ignore[attr-defined]
            self.words = {a: s.health for a, s in snap.assets.items()}
            self.commissioned = all(s.commissioned for s in snap.assets.values())
        return False


def test_the_first_painted_overview_has_every_pump_commissioned(qapp: QApplication, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from app.engine import Engine
    from app.ui.app import run_gui
    from app.ui.main_window import MainWindow

    settings = make_settings(tmp_path, source={"kind": "simulator", "speed": 1.0})
    engine = Engine(settings, build_source(settings))
    assert engine.prerun_s > 0  # the simulator's default: the demo
    spy = _FirstPaint(engine)
    original_show = MainWindow.show

    def show_and_watch(self: MainWindow) -> None:
        self.installEventFilter(spy)
        original_show(self)

    def close_when_painted() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible():
                if spy.words is None:
                    QTimer.singleShot(50, close_when_painted)
                    return
                w.close()

    monkeypatch.setattr(MainWindow, "show", show_and_watch)
    QTimer.singleShot(0, close_when_painted)
    try:
        assert run_gui(engine.settings, engine, windowed=True) == 0
    finally:
        engine.stop()
    assert spy.words is not None and len(spy.words) == 4
    assert spy.commissioned and AssetHealth.COMMISSIONING not in spy.words.values(), spy.words
