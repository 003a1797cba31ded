"""The daily health check on the status bar: hidden while every check passes (or before the first run), the first
problem named (and how many more) once a run finds one, warnings said too; through the running engine's own
daily run, and on summaries built by the same code."""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from app import doctor
from app.daily_checks import ChecksSummary
from app.doctor import DoctorContext, Finding, Status
from app.health import HealthBoard
from app.hmi_api import Role, Session
from app.live import EngineSnapshot, SourceHealth
from app.store.status import StoreStatus
from app.ui import theme
from app.ui.widgets.chrome import StatusBar
from app.uplink.status import UplinkStatus
from tests.ui.conftest import Hmi, make_settings


def snapshot(checks: ChecksSummary | None) -> EngineSnapshot:
    store = StoreStatus()
    return EngineSnapshot(None, {}, SourceHealth(True, "receiving", 10, 0), UplinkStatus("stand-in"), 1.25,
                          health=HealthBoard().now(store, UplinkStatus("stand-in")), store=store, checks=checks)


def summary(*found: Finding) -> ChecksSummary:
    return ChecksSummary.of(list(found), 1.8e9, 1.0)


def test_the_label_follows_the_summary(qtbot: QtBot) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.set_snapshot(snapshot(None))
    assert not bar.checks.isVisible()
    bar.set_snapshot(snapshot(summary(Finding("database", Status.OK, "fine"), Finding("clock", Status.OK, "fine"))))
    assert not bar.checks.isVisible()
    bar.set_snapshot(snapshot(summary(Finding("broker", Status.WARNING, "certificate expires in 10 day(s)"))))
    assert bar.checks.isVisible()
    assert bar.checks.full_text() == "\u26a0 Health check: broker: certificate expires in 10 day(s)"
    bar.set_snapshot(snapshot(summary(Finding("broker", Status.WARNING, "expires soon"),
                                      Finding("database", Status.PROBLEM, "the SQLite file is damaged"),
                                      Finding("models", Status.PROBLEM, "missing"))))
    assert bar.checks.full_text() == "\u26a0 HEALTH CHECK: database: the SQLite file is damaged (+1 more)"
    assert "models: missing" in bar.checks.toolTip() and "broker: expires soon" in bar.checks.toolTip()
    assert bar.source.full_text().startswith("\u25cf Data OK")  # the parts' health keeps its own label
    bar.set_snapshot(snapshot(summary(Finding("database", Status.OK, "fine"))))  # the next day all is well
    assert not bar.checks.isVisible()


def test_the_engines_daily_run_reaches_the_status_bar(hmi_factory: Callable[..., Hmi], tmp_path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "CHECKS", dict(doctor.CHECKS))
    monkeypatch.setattr(doctor, "TIMEOUTS", dict(doctor.TIMEOUTS))

    @doctor.check("always-fails")
    def always_fails(ctx: DoctorContext) -> list[Finding]:
        return [Finding("always-fails", Status.PROBLEM, "a problem found by the daily check")]

    hmi = hmi_factory(settings=make_settings(tmp_path, engine={"checks_first_after_s": 1, "checks_every_s": 3600}))
    bar = hmi.window.status
    assert not bar.checks.isVisible()  # start-up: the first run comes later
    hmi.wait(lambda: bar.checks.isVisible(), timeout=30_000)
    assert bar.checks.full_text() == "\u26a0 HEALTH CHECK: always-fails: a problem found by the daily check"
    assert hmi.engine.daily.runs == 1


def test_a_shown_health_check_gets_the_widest_share_on_a_small_panel(qtbot: QtBot) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.resize(1024, 48)
    bar.show()
    bar.set_snapshot(snapshot(summary(Finding("database", Status.PROBLEM, "free disk for /var/lib/vigil: 150 MB"))))
    others = (bar.source, bar.uplink, bar.data_time, bar.user)

    def widest() -> None:  # once the bar is laid out again for the new texts
        assert bar.checks.isVisible() and all(bar.checks.width() > w.width() for w in others), \
            [(w.width(), w.full_text()) for w in (bar.checks, *others)]

    qtbot.waitUntil(widest, timeout=2000)


@pytest.mark.parametrize(("user", "role"), [("technician", "technician"), ("supervisor", "supervisor"),
                                           ("jsmith", "supervisor")])
def test_on_a_small_panel_the_usual_texts_are_all_whole(qtbot: QtBot, user: str, role: str) -> None:
    """1024 px: the data count, the uplink, the plant time and the user each get the room their text needs (with
    fixed shares "Data OK: 33600 fr..." and "Plant 05 Jan 07:09..." were cut on every screen)."""
    bar = StatusBar()
    theme.style_window(bar)  # the HMI's fonts and paddings, as under the main window
    qtbot.addWidget(bar)
    bar.resize(1024, 48)
    bar.show()
    plant = datetime.datetime(2026, 1, 5, 7, 9, 59).timestamp()  # a wide date: two-digit day, "Jan"
    bar.set_snapshot(dataclasses.replace(snapshot(None), ts=plant, source=SourceHealth(True, "receiving", 33600, 0)))
    bar.set_user(Session(user, Role(role), 0.0))
    labels = (bar.source, bar.uplink, bar.data_time, bar.user)

    def whole() -> None:
        assert all(w.text() == w.full_text() for w in labels), [(w.text(), w.width()) for w in labels]

    qtbot.waitUntil(whole, timeout=2000)
    assert bar.data_time.full_text().startswith("Plant ") and "33600 frames" in bar.source.full_text()
    assert bar.user.full_text() == (f"User: {user}" if user == role else f"User: {user} ({role})")
