"""Checking what the cloud sends back before the engine sees it (docs/uplink.md "Accepting a confirmation").

Anything retained on the broker, malformed, oversized (> 16 KiB), with a field missing, unknown or of the wrong
type, or meant for another gateway is dropped here, counted per reason and logged (throttled, remote text
escaped). Whether it answers a question this gateway asked, once, is the alarm manager's check (it knows the
alarms).
"""
from __future__ import annotations

from app.cloud_verdicts import Rejection, RejectionLog
from common.quoting import quoted
from detection.cloud import protocol


def accept_confirmation(payload: bytes | bytearray, gateway: str, rejections: RejectionLog,
                        retained: bool = False) -> protocol.Confirmation | None:
    """The confirmation in ``payload`` if it may go on to the engine, else None (counted in ``rejections``).

    ``retained``: the MQTT retain flag. A retained confirmation is never trusted: the cloud service never
    retains one, and a retained message is delivered again at every (re)subscribe."""
    if retained:
        rejections.reject(Rejection.RETAINED, f"{len(payload)} bytes; clear it on the broker (publish an empty "
                                              "retained message to the topic)")
        return None
    if len(payload) > protocol.MAX_CONFIRMATION_PAYLOAD:
        rejections.reject(Rejection.OVERSIZED, f"{len(payload)} bytes (limit {protocol.MAX_CONFIRMATION_PAYLOAD})")
        return None
    try:
        conf = protocol.parse_confirmation(payload)
    except protocol.ProtocolError as exc:
        rejections.reject(Rejection.MALFORMED, quoted(str(exc), 200))
        return None
    if conf.gateway != gateway:
        rejections.reject(Rejection.OTHER_GATEWAY, f"gateway {quoted(conf.gateway)} (this is {quoted(gateway)}), "
                                                   f"alarm {quoted(conf.alarm_id)}")
        return None
    return conf
