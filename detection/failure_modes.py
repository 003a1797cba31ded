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

    text: str

    def __new__(cls, value: str, text: str) -> FailureMode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.text = text
        return member

    CAVITATION = "cavitation", "Cavitation"
    BEARING_WEAR = "bearing_wear", "Bearing wear"
    IMPELLER_IMBALANCE = "impeller_imbalance", "Impeller imbalance"
    INLET_VALVE_CLOSURE = "inlet_valve_closure", "Suction blocked / inlet valve"
    OUTLET_VALVE_CLOSURE = "outlet_valve_closure", "Discharge blocked / outlet valve"
    SEAL_LEAK = "seal_leak", "Seal leak"
    SENSOR_STUCK = "sensor_stuck", "Sensor stuck"
    SENSOR_DRIFT = "sensor_drift", "Sensor drift"
    SENSOR_DROPOUT = "sensor_dropout", "Sensor dropout"
    MOTOR_ELECTRICAL = "motor_electrical", "Motor / electrical"
    OTHER = "other", "Other"

