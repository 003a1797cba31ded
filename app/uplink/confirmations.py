"""Checking what the cloud sends back before the engine sees it (docs/uplink.md "confirmation").

Anything malformed, oversized (> 16 KiB), with a field missing, unknown or of the wrong type, or meant for another
gateway is dropped with a log line that says why; the unknown-alarm check is the engine's (it knows the alarms).
"""
from __future__ import annotations

import logging

from detection.cloud import protocol

log = logging.getLogger(__name__)


def accept_confirmation(payload: bytes, gateway: str) -> protocol.Confirmation | None:
    if len(payload) > protocol.MAX_CONFIRMATION_PAYLOAD:
        log.warning("ignored a confirmation of %d bytes (limit %d)", len(payload), protocol.MAX_CONFIRMATION_PAYLOAD)
        return None
    try:
        conf = protocol.parse_confirmation(payload)
    except protocol.ProtocolError as exc:
        log.warning("ignored a malformed confirmation: %s", exc)
        return None
    if conf.gateway != gateway:
        log.warning("ignored a confirmation for gateway %r (this is %r), alarm %s", conf.gateway, gateway,
                    conf.alarm_id)
        return None
    return conf
