"""Login with the PIN pad: wrong PIN, locked pad with countdown, logout, auto-logout after inactivity."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.store import schema
from tests.ui.conftest import Hmi, fault_station


def audit_actions(engine, user: str) -> list[str]:  # noqa: ANN001
    a = schema.audit_log
    with engine.db.connect() as c:
        return [r[0] for r in c.execute(select(a.c.action).where(a.c.user == user).order_by(a.c.id))]


def quiet_station():  # noqa: ANN201
    return fault_station(faults=(), duration_s=30)


def test_wrong_pin_says_how_many_attempts_are_left(hmi_factory) -> None:  # noqa: ANN001
    hmi: Hmi = hmi_factory(station=quiet_station())
    hmi.login("operator", pin="1234")
    pad = hmi.window.login.pad
    hmi.wait(lambda: pad.message.text() == "Wrong PIN - 4 attempts left")
    assert hmi.window.session.session is None and pad.pin() == ""
    hmi.login("operator", pin="0000")
    hmi.wait(lambda: pad.message.text() == "Wrong PIN - 3 attempts left")
    hmi.login("operator")  # the right PIN still works
    assert hmi.window.current == "overview"
    assert hmi.message() == "Logged in as operator (operator)"


def test_locked_pad_counts_down_and_refuses_digits(hmi_factory) -> None:  # noqa: ANN001
    hmi: Hmi = hmi_factory(station=quiet_station(), users={"max_failures": 2, "lockout_s": 30})
    pad = hmi.window.login.pad
    hmi.login("technician", pin="1111")
    hmi.wait(lambda: pad.message.text() == "Wrong PIN - 1 attempt left")
    hmi.login("technician", pin="1111")
    hmi.wait(lambda: pad.is_locked())
    first = pad.message.text()
    assert re.fullmatch(r"Pad locked - try again in (30|29) s", first), first
    assert pad.display.text() == "LOCKED"
    assert not any(b.isEnabled() for b in pad.digit_buttons.values()) and not pad.enter_button.isEnabled()
    hmi.wait(lambda: pad.message.text() not in (first, ""), timeout=3000)  # it counts down
    assert re.fullmatch(r"Pad locked - try again in \d+ s", pad.message.text())
    assert "pad locked" in audit_actions(hmi.engine, "technician")


def test_login_and_logout_are_audited(hmi_factory) -> None:  # noqa: ANN001
    hmi: Hmi = hmi_factory(station=quiet_station())
    hmi.login("supervisor")
    w = hmi.window
    assert w.session.session.role.value == "supervisor"
    hmi.logout()
    assert w.nav.user_button.text() == "Log in" and "not logged in" in w.status.user.full_text()
    hmi.commands_idle()
    assert audit_actions(hmi.engine, "supervisor") == ["login", "logout"]


def test_auto_logout_after_inactivity(hmi_factory) -> None:  # noqa: ANN001
    hmi: Hmi = hmi_factory(station=quiet_station(), inactivity_timeout_s=1.0)
    hmi.login("technician")
    hmi.click(hmi.window.nav.buttons["alarms"])
    hmi.wait(lambda: hmi.window.session.session is None, timeout=5000)
    assert hmi.window.current == "overview"
    assert hmi.message() == "technician was logged out after 1 s without activity"
    hmi.commands_idle()
    assert audit_actions(hmi.engine, "technician")[-1] == "auto-logout"


def test_a_tap_restarts_the_inactivity_countdown(hmi_factory) -> None:  # noqa: ANN001
    hmi: Hmi = hmi_factory(station=quiet_station(), inactivity_timeout_s=3.0)
    hmi.login("operator")
    timer = hmi.window.session._timer
    hmi.wait(lambda: 0 < timer.remainingTime() < 2000, timeout=5000)
    hmi.click(hmi.window.nav.buttons["trends"])
    assert timer.remainingTime() > 2500
    assert hmi.window.session.session is not None
