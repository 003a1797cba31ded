"""Login with the PIN pad: wrong PIN, a locked user and a locked panel with their countdowns, logout, auto-logout
after inactivity, and the audit-log tampering notice that only an admin sees."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from acquisition.simulator import PumpStation
from app.engine import Engine
from app.store import schema
from app.users import Role
from tests.support.logins import login_demo
from tests.ui.conftest import Hmi, fault_station


def audit_actions(engine: Engine, user: str) -> list[str]:
    a = schema.audit_log
    with engine.db.connect() as c:
        return [r[0] for r in c.execute(select(a.c.action).where(a.c.user == user).order_by(a.c.id))]


def quiet_station() -> PumpStation:
    return fault_station(faults=(), duration_s=30)


def test_wrong_pin_says_how_many_attempts_are_left(hmi_factory: Callable[..., Hmi]) -> None:
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


def test_a_locked_user_locks_the_pad_only_while_chosen(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station(), users={"max_failures": 2, "lockout_steps_s": [30]})
    pad = hmi.window.login.pad
    hmi.login("technician", pin="1111")
    hmi.wait(lambda: pad.message.text() == "Wrong PIN - 1 attempt left")
    hmi.login("technician", pin="1111")
    hmi.wait(lambda: pad.is_locked())
    first = pad.message.text()
    assert re.fullmatch(r"technician locked for (30|29) s - too many wrong PINs", first), first
    assert pad.display.text() == "LOCKED"
    assert not any(b.isEnabled() for b in pad.digit_buttons.values()) and not pad.enter_button.isEnabled()
    hmi.wait(lambda: pad.message.text() not in (first, ""), timeout=3000)  # it counts down
    assert re.fullmatch(r"technician locked for \d+ s - too many wrong PINs", pad.message.text())
    assert "user locked" in audit_actions(hmi.engine, "technician")
    hmi.login("operator")  # another name is not locked: the pad takes digits again
    assert hmi.message() == "Logged in as operator (operator)"
    hmi.logout()  # stays on the login screen
    hmi.click(hmi.window.login.user_buttons["technician"])  # the lock is read back from the database
    hmi.wait(lambda: pad.is_locked() and pad.message.text().startswith("technician locked for "))


def test_a_locked_panel_refuses_everyone(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station(),
                           users={"max_failures": 2, "panel_max_failures": 3, "lockout_steps_s": [30]})
    pad = hmi.window.login.pad
    for user in ("technician", "operator"):
        hmi.login(user, pin="000000")
        hmi.wait(lambda: pad.message.text() == "Wrong PIN - 1 attempt left")
        pad.show_message("")
    hmi.login("supervisor", pin="000000")
    hmi.wait(lambda: pad.is_locked())
    assert re.fullmatch(r"Pad locked for (30|29) s - too many wrong PINs at this panel", pad.message.text())
    hmi.click(hmi.window.login.user_buttons["admin"])
    hmi.wait(lambda: pad.message.text().startswith("Pad locked for "))
    assert pad.is_locked() and not pad.digit_buttons["9"].isEnabled()
    assert "pad locked" in audit_actions(hmi.engine, "supervisor")


def test_the_pad_takes_pins_of_up_to_twelve_digits(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station())
    admin = login_demo(hmi.engine.users, "admin")
    hmi.engine.users.add_user(admin, "ana", Role.TECHNICIAN, "123456789012", must_change_pin=False)
    hmi.window.login.reload_users()
    hmi.login("ana", pin="123456789012")
    hmi.wait(lambda: hmi.window.session.session is not None)
    assert hmi.message() == "Logged in as ana (technician)"


def test_login_and_logout_are_audited(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station())
    hmi.login("supervisor")
    w = hmi.window
    assert w.session.session is not None and w.session.session.role is Role.SUPERVISOR
    hmi.logout()
    assert w.nav.user_button.text() == "Log in" and "not logged in" in w.status.user.full_text()
    hmi.commands_idle()
    assert audit_actions(hmi.engine, "supervisor") == ["login", "pin changed", "logout"]  # a demo user: own PIN first


def test_auto_logout_after_inactivity(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station(), inactivity_timeout_s=1.0)
    hmi.login("technician")
    hmi.click(hmi.window.nav.buttons["alarms"])
    hmi.wait(lambda: hmi.window.session.session is None, timeout=5000)
    assert hmi.window.current == "overview"
    assert hmi.message() == "technician was logged out after 1 s without activity"
    hmi.commands_idle()
    assert audit_actions(hmi.engine, "technician")[-1] == "auto-logout"


def test_a_tap_restarts_the_inactivity_countdown(hmi_factory: Callable[..., Hmi]) -> None:
    hmi: Hmi = hmi_factory(station=quiet_station(), inactivity_timeout_s=3.0)
    hmi.login("operator")
    timer = hmi.window.session._timer
    hmi.wait(lambda: 0 < timer.remainingTime() < 2000, timeout=5000)
    hmi.click(hmi.window.nav.buttons["trends"])
    assert timer.remainingTime() > 2500
    assert hmi.window.session.session is not None


def test_an_admin_is_shown_audit_log_tampering(hmi_factory: Callable[..., Hmi], tmp_path: Path) -> None:
    from tests.app.test_audit_chain import sql, write_log
    from tests.ui.conftest import make_settings

    settings = make_settings(tmp_path)
    write_log(Path(settings.storage.path))
    sql(Path(settings.storage.path), "UPDATE audit_log SET user = 'admin' WHERE id = 12")  # a forged admin login
    hmi: Hmi = hmi_factory(station=quiet_station(), settings=settings)
    notice = hmi.window.audit_notice
    hmi.wait(lambda: hmi.window.bridge.snapshot is not None)
    assert not notice.isVisible()  # nobody logged in
    hmi.login("operator")
    assert not notice.isVisible()  # an operator cannot act on it
    hmi.logout()
    hmi.login("admin")
    hmi.wait(notice.isVisible)
    assert notice.text() == ("\u26a0 Audit log tampering detected: row 12 ('login') was edited after it was written"
                             " - its entries may be forged or missing; details: python main.py doctor")
    assert notice.dismiss_button is not None  # the tampering notice can be dismissed
    hmi.click(notice.dismiss_button)
    assert not notice.isVisible()
    hmi.logout()
    hmi.login("admin")  # a new session: shown again
    hmi.wait(notice.isVisible)
    hmi.logout()
    assert not notice.isVisible()
