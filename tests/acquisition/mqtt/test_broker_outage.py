"""The broker goes away and comes back: COMM_FAIL while it is down, subscriptions and Sparkplug state renewed
after, and nothing held from before the outage passes for fresh."""
from __future__ import annotations

import signal
from pathlib import Path

import numpy as np

from acquisition.quality import Quality
from tests.acquisition.mqtt.helpers import FrameTap, good, publish, q, quality_is, source_for
from tests.acquisition.mqtt.sparkplug_peer import NODE, SPARKPLUG_MAP, CommandWatcher, EdgeNode
from tests.support.broker import MosquittoBroker

JSON_MAP = {"json": [{"topic": "l/P-1", "asset": "P-1", "channels": {"vib": "vib_de", "q": "flow"}}]}
ALL_CONFIGURED = ("vib_de", "flow")


def test_a_killed_broker_is_comm_fail_and_its_return_is_good_again(broker) -> None:
    src = source_for(broker, **JSON_MAP)
    with FrameTap(src) as tap:
        tap.wait_connected()
        publish(broker, "l/P-1", '{"values": {"vib": 1.0, "q": 2.0}}')
        tap.wait_for("P-1", good(vib_de=1.0, flow=2.0), "GOOD before the outage")
        for round_ in range(2):
            broker.stop(signal.SIGKILL)
            f = tap.wait_for("P-1", quality_is(Quality.COMM_FAIL, *ALL_CONFIGURED), "COMM_FAIL while down")
            assert q(f, "current") == Quality.NOT_CONFIGURED  # unmapped channels stay what they are
            broker.start()
            tap.wait_connected()  # reconnected and subscribed again, by itself
            f = tap.wait_for("P-1", lambda f: not np.any(f.quality == Quality.COMM_FAIL), "connected frames")
            assert q(f, "vib_de") == Quality.STALE  # held from before the outage: not fresh
            publish(broker, "l/P-1", f'{{"values": {{"vib": {3.0 + round_}, "q": 4.0}}}}')
            tap.wait_for("P-1", good(vib_de=3.0 + round_, flow=4.0), "GOOD again after the broker's return")
        assert src.connects == 3
    assert src.stats.skipped == {}


def test_a_source_started_before_its_broker_connects_when_it_comes_up(tmp_path: Path) -> None:
    with MosquittoBroker(tmp_path / "late") as broker:
        broker.stop()
        src = source_for(broker, **JSON_MAP)
        with FrameTap(src) as tap:
            tap.wait_for("P-1", quality_is(Quality.COMM_FAIL, *ALL_CONFIGURED), "COMM_FAIL with no broker")
            broker.start()
            tap.wait_connected(timeout=15)
            publish(broker, "l/P-1", '{"values": {"vib": 5.0}}')
            tap.wait_for("P-1", good(vib_de=5.0), "GOOD once the broker is up")


def test_after_a_broker_restart_the_sparkplug_node_is_asked_to_rebirth(tmp_path: Path) -> None:
    # the test broker keeps QoS 0 messages for the (persistent) watcher while it reconnects too
    with MosquittoBroker(tmp_path / "spb", extra_conf="queue_qos0_messages true") as broker:
        watcher = CommandWatcher(broker)
        try:
            src = source_for(broker, **SPARKPLUG_MAP)
            node = EdgeNode(broker, tmp_path)
            with FrameTap(src) as tap:
                tap.wait_connected()
                assert watcher.next_rebirth() == NODE
                node.nbirth()
                node.dbirth()
                tap.wait_for("P-104", good(vib_de=1.25), "born")
                broker.restart(signal.SIGTERM)  # SIGTERM: the broker saves the watcher's session
                tap.wait_connected()
                assert watcher.next_rebirth(timeout=15) == NODE  # requested on reconnecting
                tap.wait_for("P-104", quality_is(Quality.STALE, "vib_de"), "STALE until the node answers")
                node.nbirth()
                node.dbirth()
                tap.wait_for("P-104", good(vib_de=1.25), "GOOD after the rebirth")
        finally:
            watcher.close()
