"""The failure modes a pump alarm can be diagnosed as: one list for the technician's label (app/labels.py, the
HMI's buttons), the cloud's verdict (the wire contract, detection/cloud/protocol.py) and its classifier's classes.

It lives here, below both, because imports point one way (app -> detection): the edge and the cloud service import
this one definition instead of keeping copies in step. The values are the words on the wire and in the store;
they match the simulator's fault kinds where one exists.
"""
from __future__ import annotations

from enum import StrEnum


class FailureMode(StrEnum):
    """A failure mode; its value is the wire/store word, :attr:`text` the words on the HMI's button."""

    CAVITATION = "cavitation"
    BEARING_WEAR = "bearing_wear"
    IMPELLER_IMBALANCE = "impeller_imbalance"
    INLET_VALVE_CLOSURE = "inlet_valve_closure"
    OUTLET_VALVE_CLOSURE = "outlet_valve_closure"
    SEAL_LEAK = "seal_leak"
    SENSOR_STUCK = "sensor_stuck"
    SENSOR_DRIFT = "sensor_drift"
    SENSOR_DROPOUT = "sensor_dropout"
    MOTOR_ELECTRICAL = "motor_electrical"
    OTHER = "other"

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT: dict[FailureMode, str] = {
    FailureMode.CAVITATION: "Cavitation",
    FailureMode.BEARING_WEAR: "Bearing wear",
    FailureMode.IMPELLER_IMBALANCE: "Impeller imbalance",
    FailureMode.INLET_VALVE_CLOSURE: "Suction blocked / inlet valve",
    FailureMode.OUTLET_VALVE_CLOSURE: "Discharge blocked / outlet valve",
    FailureMode.SEAL_LEAK: "Seal leak",
    FailureMode.SENSOR_STUCK: "Sensor stuck",
    FailureMode.SENSOR_DRIFT: "Sensor drift",
    FailureMode.SENSOR_DROPOUT: "Sensor dropout",
    FailureMode.MOTOR_ELECTRICAL: "Motor / electrical",
    FailureMode.OTHER: "Other",
}
