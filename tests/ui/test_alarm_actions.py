"""Acknowledge, shelve, out of service and label through real taps on the real buttons; checked in the DB."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from acquisition.simulator import FaultKind, FaultSpec
from app.engine import Engine
from app.hmi_api import AssetHealth
from app.store import schema
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.label_form import LabelForm
from app.ui.widgets.overlay import ConfirmPanel
from tests.ui.conftest import Hmi, fault_station


def events_of(engine: Engine, alarm_id: str) -> list[tuple[str, str | None, str | None]]:
    e = schema.alarm_events
    with engine.db.connect() as c:
        return [tuple(r) for r in c.execute(select(e.c.event, e.c.user, e.c.note)
                                            .where(e.c.alarm_id == alarm_id).order_by(e.c.id))]


def stored_state(engine: Engine, alarm_id: str) -> str:
    with engine.db.connect() as c:
        return c.execute(select(schema.alarms.c.state).where(schema.alarms.c.id == alarm_id)).scalar_one()


def labels_of(engine: Engine, alarm_id: str) -> list[tuple[str, str, str | None, str | None]]:
    lab = schema.labels
    with engine.db.connect() as c:
        return [tuple(r) for r in c.execute(select(lab.c.user, lab.c.verdict, lab.c.failure_mode, lab.c.note)
                                            .where(lab.c.alarm_id == alarm_id).order_by(lab.c.id))]


def test_acknowledge_with_a_preset_note(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("operator")
    hmi.select_alarm(alarm.id)
    hmi.click(hmi.window.alarms.ack_button)
    acked_activations = hmi.engine.alarms.get(alarm.id).activations
    hmi.confirm(note="Checked on site")
    hmi.wait(lambda: ("acknowledged", "operator", "Checked on site") in events_of(hmi.engine, alarm.id))
    now = hmi.engine.alarms.get(alarm.id)
    # acknowledged, unless the condition has cleared and come back since (a new activation is UNACK again)
    assert now.state.value in ("ACKED", "NORM") or now.activations > acked_activations, now
    assert stored_state(hmi.engine, alarm.id) in ("ACKED", "NORM") or now.activations > acked_activations
    hmi.wait(lambda: "acknowledged" in hmi.message())
    model = hmi.window.alarms.table.alarm_model
    hmi.wait(lambda: model.row_of(alarm.id) < 0 or model.index(model.row_of(alarm.id), 0).data() != "UNACK")


def test_acknowledge_with_a_note_typed_on_the_onscreen_keyboard(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("operator")
    hmi.select_alarm(alarm.id)
    hmi.click(hmi.window.alarms.ack_button)
    panel = hmi.panel(ConfirmPanel)
    hmi.click(panel.type_button)
    keyboard = panel.keyboard()
    assert keyboard is not None
    for key in "VALVE":  # Shift is on for the first letter, then off
        hmi.click(keyboard.keys[key])
    hmi.click(keyboard.done_button)
    assert panel.note == "Valve" and hmi.window.overlay.top() is panel
    hmi.click(panel.confirm_button)
    hmi.wait(lambda: ("acknowledged", "operator", "Valve") in events_of(hmi.engine, alarm.id))


def test_cancel_changes_nothing(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("operator")
    hmi.select_alarm(alarm.id)
    hmi.click(hmi.window.alarms.ack_button)
    hmi.click(hmi.panel(ConfirmPanel).cancel_button)
    assert not hmi.window.overlay.is_open()
    hmi.commands_idle()
    assert hmi.engine.alarms.get(alarm.id).state.value == "UNACK"
    assert [e for e, _, _ in events_of(hmi.engine, alarm.id)] == ["raised", "cloud confirmed"]


def test_acknowledge_all_shown(hmi_factory: Callable[..., Hmi]) -> None:
    station = fault_station(faults=(FaultSpec("P-101", FaultKind.OUTLET_VALVE_CLOSURE, 600),
                                    FaultSpec("P-102", FaultKind.BEARING_WEAR, 600, ramp_s=0)))
    hmi = hmi_factory(station=station)
    alarms = hmi.wait_for_alarms(2)
    hmi.login("operator")
    hmi.click(hmi.window.nav.buttons["alarms"])
    hmi.wait(lambda: len(hmi.window.alarms.visible()) == 2)
    hmi.click(hmi.window.alarms.ack_all_button)
    hmi.confirm()
    hmi.wait(lambda: all(("acknowledged", "operator", None) in events_of(hmi.engine, a.id) for a in alarms))
    hmi.wait(lambda: "2 alarm(s) acknowledged" in hmi.message())
    assert "0 unacknowledged" in hmi.window.alarms.count.text() or hmi.window.alarms.visible() == []


def test_shelve_for_one_hour_then_unshelve(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("technician")
    hmi.select_alarm(alarm.id)
    w = hmi.window
    assert w.alarms.shelve_button.text() == "Shelve..."
    hmi.click(w.alarms.shelve_button)
    panel = hmi.panel(ConfirmPanel)
    assert not panel.confirm_button.isEnabled()  # a duration must be chosen first
    before = hmi.engine.clock()  # shelving runs on the engine's one (plant) clock
    hmi.confirm(choice="1 h", note="Known cause")
    hmi.wait(lambda: ("shelved", "technician", "Known cause") in events_of(hmi.engine, alarm.id))
    shelved = hmi.engine.alarms.get(alarm.id)
    assert shelved.state.value == "SHLVD" and stored_state(hmi.engine, alarm.id) == "SHLVD"
    assert shelved.shelved_until is not None
    assert before + 3600 <= shelved.shelved_until <= hmi.engine.clock() + 3600
    model = w.alarms.table.alarm_model
    hmi.wait(lambda: str(model.index(model.row_of(alarm.id), 0).data()).startswith("SHELVED to "))
    hmi.wait(lambda: w.alarms.shelve_button.text() == "Unshelve")
    hmi.click(w.alarms.shelve_button)
    hmi.confirm()
    hmi.wait(lambda: ("unshelved", "technician", None) in events_of(hmi.engine, alarm.id))
    # IEC 62682 11.7.3: unshelved by an operator, the alarm returns acknowledged (ACKED while active, else NORM)
    assert hmi.engine.alarms.get(alarm.id).state.value in ("ACKED", "NORM")


def test_out_of_service_and_back_by_a_supervisor(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("supervisor")
    hmi.select_alarm(alarm.id)
    w = hmi.window
    hmi.click(w.alarms.oos_button)
    hmi.confirm(note="Maintenance informed")
    hmi.wait(lambda: hmi.engine.alarms.get(alarm.id).state.value == "OOSRV")
    # memory changes when the write is queued, the store when it commits (app/alarm_manager.py _stage): wait for it
    hmi.wait(lambda: ("out of service", "supervisor", "Maintenance informed") in events_of(hmi.engine, alarm.id))
    hmi.wait(lambda: (snap := w.bridge.snapshot) is not None
             and snap.assets["P-101"].health is AssetHealth.OUT_OF_SERVICE)
    hmi.wait(lambda: w.overview.tile("P-101").health.text() == "OUT OF SERVICE" or not w.overview.isVisible())
    hmi.wait(lambda: w.alarms.oos_button.text().replace("\n", " ") == "Return P-101 to service")
    hmi.click(w.alarms.oos_button)
    hmi.confirm()
    hmi.wait(lambda: hmi.engine.alarms.get(alarm.id).state.value != "OOSRV")
    hmi.wait(lambda: ("returned to service", "supervisor", None) in events_of(hmi.engine, alarm.id))


def test_label_an_alarm_and_revise_it(hmi: Hmi) -> None:
    alarm = hmi.wait_for_alarms()[0]
    hmi.login("technician")
    w = hmi.window
    hmi.select_alarm(alarm.id)
    hmi.click(w.alarms.detail_button)
    assert w.detail.label_line.text() == "Label: not labelled yet"
    hmi.click(w.detail.label_button)  # the form opens over the window: every choice on screen
    form = hmi.panel(LabelForm)
    assert form.latest.text() == "Not labelled yet"
    hmi.click(form.save_button)  # nothing chosen yet: refused with a reason, nothing saved
    assert "Choose Failure, False alarm or Unsure" in hmi.message()
    hmi.click(form.verdict_buttons["failure"])
    hmi.click(form.save_button)
    assert "failure mode" in hmi.message()
    hmi.click(form.mode_buttons["outlet_valve_closure"])
    hmi.click(form.note_button)
    keyboard = hmi.panel(OnScreenKeyboard)
    for key in "HALF CLOSED":
        hmi.click(keyboard.space_button if key == " " else keyboard.keys[key])
    hmi.click(keyboard.done_button)
    hmi.click(form.save_button)
    hmi.wait(lambda: labels_of(hmi.engine, alarm.id) == [("technician", "failure", "outlet_valve_closure",
                                                          "Half closed")])
    hmi.wait(lambda: not w.overlay.is_open())  # saved: the form closes
    hmi.wait(lambda: w.detail.label_line.text().startswith(
        "Label: Discharge blocked / outlet valve - by technician"))
    # another technician-or-higher revises it: the newest label and its author are shown
    hmi.logout()
    hmi.login("supervisor")
    w.open_alarm(alarm.id)
    hmi.click(w.detail.label_button)
    form = hmi.panel(LabelForm)
    assert form.latest.text().startswith("Latest: Discharge blocked / outlet valve - by technician")
    assert form.verdict_buttons["failure"].isChecked()  # the form starts from the latest label
    hmi.click(form.verdict_buttons["false_alarm"])
    hmi.click(form.save_button)
    hmi.wait(lambda: len(labels_of(hmi.engine, alarm.id)) == 2)
    assert labels_of(hmi.engine, alarm.id)[-1][:3] == ("supervisor", "false_alarm", None)
    hmi.wait(lambda: w.detail.label_line.text().startswith("Label: false alarm - by supervisor"))
    label = hmi.engine.alarms.get(alarm.id).label
    assert label is not None and label.user == "supervisor"

