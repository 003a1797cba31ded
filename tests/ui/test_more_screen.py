"""More: the supervisors' and admins' screens through real taps in the real main window - each opens for its role,
is locked (and says who may) for the others, and a fresh gateway without users asks for its first admin."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.hmi_api import Role, Session
from app.ui.main_window import MainWindow
from tests.support.fake_hmi import FakeHmi, window_on

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
ROLE_OF = {"export": Role.SUPERVISOR, "kpis": Role.SUPERVISOR, "users": Role.ADMIN, "settings": Role.ADMIN}
RANK = [Role.OPERATOR, Role.TECHNICIAN, Role.SUPERVISOR, Role.ADMIN]


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    yield from window_on(qtbot, FakeHmi(["P-101", "P-102"]))


@pytest.mark.parametrize("role", RANK)
def test_more_opens_each_screen_for_its_role_only(qtbot: QtBot, window: MainWindow, role: Role) -> None:
    window.session.set_session(Session("someone", role, 0.0))
    for key, needed in ROLE_OF.items():
        qtbot.mouseClick(window.nav.buttons["more"], LEFT)
        qtbot.waitUntil(lambda: window.current == "more", timeout=WAIT_MS)
        assert window.nav.buttons["more"].isChecked()
        qtbot.mouseClick(window.manage.buttons[key], LEFT)
        if RANK.index(role) >= RANK.index(needed):
            qtbot.waitUntil(lambda: window.current == key, timeout=WAIT_MS)  # noqa: B023 (waited on here)
            assert window.nav.buttons["more"].isChecked()  # still under More in the navigation
        else:
            qtbot.waitUntil(lambda: "required" in window.message_bar.text(), timeout=WAIT_MS)
            assert window.current == "more"
            assert needed.value.capitalize() in window.message_bar.text()


def test_a_gateway_without_users_asks_for_the_first_admin(qtbot: QtBot) -> None:
    fake = FakeHmi(["P-101"])
    fake.users.clear()  # a gateway configured without demo users, before its first start
    assert fake.needs_first_admin()
    with contextmanager(window_on)(qtbot, fake) as window:
        qtbot.waitUntil(lambda: window.current == "first_admin", timeout=WAIT_MS)
