"""Sparkplug B over a real Mosquitto broker: payloads encoded by pysparkplug, published by mosquitto_pub."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquisition.mqtt_ingest import sparkplug_ingest
from acquisition.quality import Quality
from tests.acquisition.mqtt.helpers import FrameTap, good, publish_bytes, q, quality_is, source_for
from tests.acquisition.mqtt.sparkplug_peer import (
    DEVICE,
    DT,
    GROUP,
    NODE,
    SPARKPLUG_MAP,
    CommandWatcher,
    EdgeNode,
    metric,
)

BIRTH_VALUES = good(vib_de=1.25, current=12.5, pressure=-0.5, flow=120.0, motor_temp=-5.0)
DEVICE_CHANNELS = ("vib_de", "current", "pressure", "flow", "motor_temp")


@pytest.fixture
def watcher(broker):
    w = CommandWatcher(broker)
    yield w
    w.close()


def test_births_and_aliased_data_decode_into_frames(broker, tmp_path: Path, watcher) -> None:
    src = source_for(broker, **SPARKPLUG_MAP)
    assert src.assets == ("GW-7", "P-104")
    node = EdgeNode(broker, tmp_path)
    with FrameTap(src) as tap:
        tap.wait_connected()
        assert watcher.next_rebirth() == NODE  # on connecting, the source asks the mapped node for its births
        # nothing born yet: no value (not STALE, there is no old value; not COMM_FAIL, the broker is connected)
        tap.wait_for("P-104", quality_is(Quality.NO_VALUE, *DEVICE_CHANNELS), "no value before the births")
        node.nbirth(voltage=400.0)
        node.dbirth()
        f = tap.wait_for("P-104", BIRTH_VALUES, "the DBIRTH values")
        assert q(f, "voltage") == Quality.NOT_CONFIGURED  # the device does not map voltage
        tap.wait_for("GW-7", good(voltage=400.0), "the NBIRTH value of the node")
        # DATA carries aliases only and no datatypes: both come from the births
        node.ddata(metric(None, 10, DT.DOUBLE, 2.75), metric(None, 12, DT.INT16, 45), metric(None, 15, DT.STRING, "x"))
        tap.wait_for("P-104", good(vib_de=2.75, pressure=4.5, current=12.5, flow=120.0), "DDATA by alias")
        node.ndata(metric(None, 1, DT.FLOAT, 398.5))
        tap.wait_for("GW-7", good(voltage=398.5), "NDATA by alias")
    assert src.stats.skipped == {}


def test_ndeath_makes_the_node_and_its_devices_stale_until_they_are_born_again(broker, tmp_path: Path) -> None:
    src = source_for(broker, **SPARKPLUG_MAP)
    node = EdgeNode(broker, tmp_path, bd_seq=3)
    with FrameTap(src) as tap:
        tap.wait_connected()
        node.nbirth()
        node.dbirth()
        tap.wait_for("P-104", BIRTH_VALUES, "born")
        node.ndeath(bd_seq=2)  # the Will of an older session, delivered late: ignored
        node.ddata(metric(None, 10, DT.DOUBLE, 3.5))
        tap.wait_for("P-104", good(vib_de=3.5, current=12.5), "still alive after the old NDEATH")
        assert src.stats.skipped == {"sparkplug_old_death": 1}
        node.ndeath()  # this session's Will: the node and its device are gone
        tap.wait_for("P-104", quality_is(Quality.STALE, *DEVICE_CHANNELS), "device metrics STALE")
        tap.wait_for("GW-7", quality_is(Quality.STALE, "voltage"), "node metrics STALE")
        node.bd_seq = 4
        node.nbirth(voltage=401.0)
        tap.wait_for("GW-7", good(voltage=401.0), "the node born again")
        f = tap.wait_for("P-104", lambda f: True, "a device frame after the NBIRTH")
        assert q(f, "vib_de") == Quality.STALE  # the device is still waiting for its own DBIRTH
        node.dbirth()
        tap.wait_for("P-104", BIRTH_VALUES, "the device born again")


def test_ddeath_makes_only_that_device_stale_and_data_revives_it(broker, tmp_path: Path) -> None:
    src = source_for(broker, **SPARKPLUG_MAP)
    node = EdgeNode(broker, tmp_path)
    with FrameTap(src) as tap:
        tap.wait_connected()
        node.nbirth()
        node.dbirth()
        tap.wait_for("P-104", BIRTH_VALUES, "born")
        node.ddeath()
        tap.wait_for("P-104", quality_is(Quality.STALE, *DEVICE_CHANNELS), "device STALE on DDEATH")
        f = tap.wait_for("GW-7", lambda f: True, "a node frame after the DDEATH")
        assert q(f, "voltage") == Quality.GOOD
        node.ddata(metric(None, 11, DT.FLOAT, 14.0))
        f = tap.wait_for("P-104", good(current=14.0), "current GOOD again on DDATA")
        assert q(f, "vib_de") == Quality.STALE  # only what the DATA carried is fresh
    assert src.stats.skipped == {}


def test_a_seq_gap_is_counted_and_a_rebirth_requested(broker, tmp_path: Path, watcher,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparkplug_ingest, "REBIRTH_MIN_INTERVAL_S", 0.0)  # no hold-off between requests here
    src = source_for(broker, **SPARKPLUG_MAP)
    node = EdgeNode(broker, tmp_path)
    with FrameTap(src) as tap:
        tap.wait_connected()
        assert watcher.next_rebirth() == NODE  # the one sent on connecting
        node.nbirth()
        node.dbirth()  # seq 0, 1
        node.ddata(metric(None, 10, DT.DOUBLE, 9.0), seq=7)  # 2..6 lost
        tap.wait_for("P-104", good(vib_de=9.0), "the value after the gap (still used)")
        assert watcher.next_rebirth() == NODE
        node.ddata(metric(None, 10, DT.DOUBLE, 9.5), seq=8)  # back in step: no new gap
        tap.wait_for("P-104", good(vib_de=9.5), "in step again")
    assert src.stats.skipped == {"sparkplug_seq_gap": 1}
    assert watcher.commands.empty()


def test_bad_sparkplug_input_is_counted_and_the_stream_goes_on(broker, tmp_path: Path, watcher) -> None:
    src = source_for(broker, **SPARKPLUG_MAP)
    node = EdgeNode(broker, tmp_path)
    ddata = f"spBv1.0/{GROUP}/DDATA/{NODE}/{DEVICE}"
    with FrameTap(src) as tap:
        tap.wait_connected()
        watcher.next_rebirth()
        # data before any birth: used where it names its metrics, counted, a rebirth requested
        node.seq = 5
        node.ddata(metric("Motor/Current", 11, DT.FLOAT, 11.0), include_dtypes=True)
        tap.wait_for("P-104", good(current=11.0), "named data before birth")
        node.nbirth()
        node.dbirth()
        tap.wait_for("P-104", BIRTH_VALUES, "born")
        publish_bytes(broker, ddata, b"\xff\xff\xff\xff not protobuf", tmp_path)      # sparkplug_bad_protobuf
        publish_bytes(broker, ddata, b"\x0a" * 70_000, tmp_path)                       # payload_too_large
        node.ddata(metric(None, 99, DT.DOUBLE, 1.0))                                   # sparkplug_unknown_alias
        node.ddata(metric("Flow", 13, DT.STRING, "lots"), include_dtypes=True)         # sparkplug_wrong_type
        node.ddata(metric("Vibration/DE", 10, DT.DOUBLE, 99.0, is_historical=True))    # sparkplug_historical
        publish_bytes(broker, f"spBv1.0/{GROUP}/DDATA/Other-Node/Dev", b"junk", tmp_path)  # not mapped: ignored
        publish_bytes(broker, f"spBv1.0/{GROUP}/NCMD/{NODE}", b"junk", tmp_path)           # a command: not ours
        f = tap.wait_for("P-104", quality_is(Quality.BAD, "flow"), "flow BAD (a string)")
        assert q(f, "vib_de") == Quality.GOOD and f.values[0] == 1.25  # the historical value was not used
        node.ddata(metric(None, 11, DT.FLOAT, 13.0))
        tap.wait_for("P-104", good(current=13.0), "a good DDATA after the bad input")
    assert src.stats.skipped == {
        "sparkplug_before_birth": 1, "sparkplug_bad_protobuf": 1, "payload_too_large": 1,
        "sparkplug_unknown_alias": 1, "sparkplug_wrong_type": 1, "sparkplug_historical": 1,
    }
