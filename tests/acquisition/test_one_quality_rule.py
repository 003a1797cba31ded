"""Both field sources against the one quality rule (acquisition/held_values.py), each with a real peer: a Modbus
TCP server on a socket and a Mosquitto broker. The same story for each: no link yet (COMM_FAIL), the link up but
nothing received for a channel (NO_VALUE, however long - never STALE), a value (GOOD), no fresh one (STALE), the
link lost (COMM_FAIL)."""
from __future__ import annotations

import signal

import numpy as np

from acquisition.channels import INDEX
from acquisition.modbus import ModbusPoller, parse_register_map
from acquisition.modbus.register_map import RegisterMap
from acquisition.quality import Quality
from tests.acquisition.modbus.peers import ScriptedTcpPeer, wait_until
from tests.acquisition.mqtt.helpers import FrameTap, good, publish, q, quality_is, source_for
from tests.support.broker import MosquittoBroker

SILENT_BLOCK = 300  # the address of the pressure register, whose reads the peer leaves unanswered
POLL_S = 0.25


def modbus_plant(port: int) -> RegisterMap:
    registers = [{"channel": "flow", "table": "input", "address": 0, "type": "int16"},
                 {"channel": "pressure", "table": "input", "address": SILENT_BLOCK, "type": "int16"}]
    return parse_register_map({"stale_after_polls": 2, "device": [{
        "name": "d1", "asset": "P-1", "transport": "tcp", "host": "127.0.0.1", "port": port, "device_id": 1,
        "poll_interval_s": POLL_S, "timeout_s": 0.1, "max_gap": 0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.1,
        "register": registers}]})


def test_modbus_channels_follow_the_one_rule() -> None:
    bank = [0] * (SILENT_BLOCK + 1)
    bank[0], bank[SILENT_BLOCK] = 50, 3
    peer = ScriptedTcpPeer(bank)
    peer.silent_at = {SILENT_BLOCK}
    peer.start()
    poller = ModbusPoller(modbus_plant(peer.port))

    def quality(channel: str) -> Quality:
        return Quality(int(poller.held.snapshot()[1][0, INDEX[channel]]))

    try:
        assert (quality("flow"), quality("pressure"), quality("vib_de")) == (
            Quality.COMM_FAIL, Quality.COMM_FAIL, Quality.NOT_CONFIGURED)  # the device has never answered
        poller.start()
        wait_until(lambda: quality("flow") == Quality.GOOD, 10, "flow GOOD")
        polls = poller.health["d1"].polls
        wait_until(lambda: poller.health["d1"].polls >= polls + 4, 10, "4 more polls: past the stale window")
        # The device answers every poll, the pressure register's reads never: it has no value (it used to say STALE)
        assert (quality("flow"), quality("pressure")) == (Quality.GOOD, Quality.NO_VALUE)
        assert np.isnan(poller.held.snapshot()[0][0, INDEX["pressure"]])
        peer.silent_at = set()
        wait_until(lambda: quality("pressure") == Quality.GOOD, 10, "pressure GOOD once answered")
        assert poller.held.snapshot()[0][0, INDEX["pressure"]] == 3.0
        peer.silent_at = {SILENT_BLOCK}
        wait_until(lambda: quality("pressure") == Quality.STALE, 10, "pressure STALE: no fresh value")
        assert quality("flow") == Quality.GOOD
        peer.close()  # the server goes away: the connection is lost
        wait_until(lambda: quality("flow") == quality("pressure") == Quality.COMM_FAIL, 10, "COMM_FAIL")
    finally:
        poller.stop(2.0)
        peer.close()
    assert poller.stats.skipped.get("modbus_timeout", 0) >= 4


JSON_MAP = {"json": [{"topic": "l/P-1", "asset": "P-1", "stale_after": 5,  # 5 periods of 0.1 s
                      "channels": {"q": "flow", "p": "pressure"}}]}


def test_mqtt_channels_follow_the_one_rule(broker: MosquittoBroker) -> None:
    src = source_for(broker, **JSON_MAP)
    with FrameTap(src) as tap:
        tap.wait_connected()  # (COMM_FAIL before: tests/acquisition/mqtt/test_broker_outage.py)
        f = tap.wait_for("P-1", quality_is(Quality.NO_VALUE, "flow", "pressure"), "no value once connected")
        assert q(f, "vib_de") == Quality.NOT_CONFIGURED
        publish(broker, "l/P-1", '{"values": {"q": 2.0}}')
        tap.wait_for("P-1", good(flow=2.0), "flow GOOD")
        f = tap.wait_for("P-1", quality_is(Quality.STALE, "flow"), "flow STALE: no fresh value")
        assert q(f, "pressure") == Quality.NO_VALUE  # 0.5 s and more without a value: still none, not STALE
        broker.stop(signal.SIGKILL)
        tap.wait_for("P-1", quality_is(Quality.COMM_FAIL, "flow", "pressure"), "COMM_FAIL while the broker is down")
        broker.start()
        tap.wait_connected(timeout=15)
        f = tap.wait_for("P-1", lambda f: q(f, "flow") != Quality.COMM_FAIL, "connected again")
        assert (q(f, "flow"), q(f, "pressure")) == (Quality.STALE, Quality.NO_VALUE)  # held from before / never
    assert src.stats.skipped == {}
