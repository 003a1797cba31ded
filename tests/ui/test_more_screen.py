"""More: the supervisors' and admins' screens through real taps in the real main window - each opens for its role,
is locked (and says who may) for the others, and a fresh gateway without users asks for its first admin."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.hmi_api import Role, Session
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.screens import manage
from tests.support.fake_hmi import FakeHmi, window_on
from tests.ui.test_fits_small_panel import app_font, fit_problems, rect_in, settle  # noqa: F401 - app_font: fixture

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 5000
ROLE_OF = {"logbook": Role.OPERATOR, "shift": Role.SUPERVISOR, "export": Role.SUPERVISOR, "handover": Role.SUPERVISOR,
           "kpis": Role.SUPERVISOR, "users": Role.ADMIN, "settings": Role.ADMIN}
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


# The More screen with every screen of issue 13 in: seven screens and Exit kiosk (eight cells).
EIGHT = manage.ENTRIES


@pytest.mark.usefixtures("app_font")  # the HMI font on the whole application, as on the panel
@pytest.mark.parametrize("size", [(1024, 600), (1280, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_eight_entries_fit_in_two_columns_without_scrolling(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                                            size: tuple[int, int]) -> None:
    assert len(manage.ENTRIES) == 7
    for w in window_on(qtbot, FakeHmi(["P-101"]), size):
        w.nav.exit_button.show()  # as in kiosk mode
        w.session.set_session(Session("admin", Role.ADMIN, 0.0))
        w.show_screen("more")
        settle(qtbot, w)
        buttons = [*(w.manage.buttons[key] for key, *_ in EIGHT), w.nav.exit_button]
        assert len(buttons) == 8 and all(b.isVisible() for b in buttons)
        rects = [rect_in(w, b) for b in buttons]
        assert len({r.left() for r in rects}) == 2, "two columns"
        assert len({r.top() for r in rects}) == 4, "four rows"
        assert all(r.height() >= theme.TOUCH_CRITICAL for r in rects)
        screen = rect_in(w, w.manage)
        assert all(screen.contains(r) for r in rects), "every button on the screen, none scrolled away"
        assert fit_problems(w) == []  # nothing cut (the notes' words too), nothing overlapping
