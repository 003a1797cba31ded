"""The permission matrix at the panel: each action by each role (and by nobody) through the real buttons.

Allowed: the action happens and is stored. Refused: the button looks locked, a tap says which role is needed,
no confirmation opens and nothing changes in the engine or the database.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QPushButton
from sqlalchemy import func, select

from acquisition.simulator import FaultKind, FaultSpec
from app.engine import Engine
from app.store import schema
from app.ui.widgets.label_form import LabelForm
from app.users import Action, Role, can
from tests.ui.conftest import Hmi, fault_station
from tests.ui.test_alarm_actions import events_of, labels_of

ROLES = (None, "operator", "technician", "supervisor", "admin")
REFUSALS = {
    Action.ACKNOWLEDGE: "Operator or higher required to acknowledge",
    Action.SHELVE: "Technician or higher required to shelve",
    Action.LABEL: "Technician or higher required to label alarms",
    Action.OUT_OF_SERVICE: "Supervisor or higher required to take an asset out of service",
    Action.LEAVE_KIOSK: "Admin or higher required to leave kiosk mode",
}


NOBODY = {  # nobody logged in: the same facts, phrased as what to do
    Action.ACKNOWLEDGE: "Log in as Operator or higher to acknowledge",
    Action.SHELVE: "Log in as Technician or higher to shelve",
    Action.LABEL: "Log in as Technician or higher to label alarms",
    Action.OUT_OF_SERVICE: "Log in as Supervisor or higher to take an asset out of service",
    Action.LEAVE_KIOSK: "Log in as Admin or higher to leave kiosk mode",
}


def allowed(role: str | None, action: Action) -> bool:
    return role is not None and can(Role(role), action)


def refused_properly(hmi: Hmi, role: str | None, action: Action, button: QPushButton) -> None:
    assert button.property("locked") == "true"
    hmi.click(button)
    expected = REFUSALS[action] + f" (you are {role})" if role is not None else NOBODY[action]
    assert hmi.message() == expected
    assert not hmi.window.overlay.is_open()


def audit_count(engine: Engine) -> int:
    with engine.db.connect() as c:
        return c.execute(select(func.count()).select_from(schema.audit_log)).scalar_one()


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(hmi_factory: Callable[..., Hmi], role: str | None) -> None:
    station = fault_station(faults=(FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 600),
                                    FaultSpec("P-102", FaultKind.BEARING_WEAR, 600, ramp_s=0)))
    hmi = hmi_factory(station=station, kiosk=True)
    a, b = sorted(hmi.wait_for_alarms(2), key=lambda x: x.asset)
    w = hmi.window
    if role is not None:
        hmi.login(role)
    hmi.commands_idle()
    audits = audit_count(hmi.engine)

    # acknowledge alarm a
    hmi.select_alarm(a.id)
    if allowed(role, Action.ACKNOWLEDGE):
        hmi.click(w.alarms.ack_button)
        hmi.confirm()
        hmi.wait(lambda: ("acknowledged", role, None) in events_of(hmi.engine, a.id))
    else:
        refused_properly(hmi, role, Action.ACKNOWLEDGE, w.alarms.ack_button)

    # shelve alarm b for 15 min
    hmi.select_alarm(b.id)
    if allowed(role, Action.SHELVE):
        hmi.click(w.alarms.shelve_button)
        hmi.confirm(choice="15 min")
        hmi.wait(lambda: hmi.engine.alarms.get(b.id).state.value == "SHLVD")
    else:
        refused_properly(hmi, role, Action.SHELVE, w.alarms.shelve_button)

    # take P-101 (alarm a) out of service
    hmi.select_alarm(a.id)
    if allowed(role, Action.OUT_OF_SERVICE):
        hmi.click(w.alarms.oos_button)
        hmi.confirm()
        hmi.wait(lambda: hmi.engine.alarms.get(a.id).state.value == "OOSRV")
    else:
        refused_properly(hmi, role, Action.OUT_OF_SERVICE, w.alarms.oos_button)

    # label alarm a as a false alarm on its detail screen
    hmi.click(w.alarms.detail_button)
    if allowed(role, Action.LABEL):
        hmi.click(w.detail.label_button)
        form = hmi.panel(LabelForm)
        hmi.click(form.verdict_buttons["false_alarm"])
        hmi.click(form.save_button)
        hmi.wait(lambda: labels_of(hmi.engine, a.id) == [(role, "false_alarm", None, None)])
        hmi.wait(lambda: not w.overlay.is_open())  # saved: the form closes
    else:
        refused_properly(hmi, role, Action.LABEL, w.detail.label_button)  # the form does not even open

    # leave kiosk mode (the Exit button and closing the window take the same path)
    if allowed(role, Action.LEAVE_KIOSK):
        hmi.click(w.nav.buttons["more"])  # Exit kiosk is on the More screen
        hmi.click(w.nav.exit_button)
        hmi.confirm()
        assert not w.kiosk and not w.nav.exit_button.isVisible()
    else:
        hmi.click(w.nav.buttons["more"])
        refused_properly(hmi, role, Action.LEAVE_KIOSK, w.nav.exit_button)
        assert w.kiosk

    hmi.commands_idle()
    # nothing refused reached the engine: no stored trace of the refused actions
    if not allowed(role, Action.ACKNOWLEDGE):
        assert [e for e, _, _ in events_of(hmi.engine, a.id)] == ["raised", "cloud confirmed"]
        assert hmi.engine.alarms.get(a.id).state.value == "UNACK"
    if not allowed(role, Action.SHELVE):
        assert hmi.engine.alarms.get(b.id).state.value == "UNACK"
    if not allowed(role, Action.LABEL):
        assert labels_of(hmi.engine, a.id) == []
    if role is None:
        assert audit_count(hmi.engine) == audits
