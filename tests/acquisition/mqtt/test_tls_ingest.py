"""The ingest map's broker.tls_ca: a TLS-only broker, its certificate checked against that CA."""
from __future__ import annotations

import subprocess
from pathlib import Path

from acquisition.mqtt_ingest import MqttIngestSource, parse_ingest_map
from acquisition.quality import Quality
from tests.acquisition.mqtt.helpers import MOSQUITTO_PUB, FrameTap, good, quality_is
from tests.support.broker import MosquittoBroker, make_tls_files, requires_mosquitto


@requires_mosquitto
def test_json_over_tls_verified_against_the_configured_ca(tmp_path: Path) -> None:
    server, _ = make_tls_files(tmp_path / "pki", client=False)
    other_ca, _ = make_tls_files(tmp_path / "other-pki", client=False)
    with MosquittoBroker(tmp_path / "broker", tls=server) as broker:
        def source(ca: Path) -> MqttIngestSource:
            return MqttIngestSource(parse_ingest_map({
                "broker": {"host": "localhost", "port": broker.port, "tls_ca": str(ca), "client_id": "vigil-tls"},
                "frames": {"period_s": 0.1},
                "json": [{"topic": "l/P-1", "asset": "P-1"}]}))

        src = source(server.ca)
        with FrameTap(src) as tap:
            tap.wait_connected()
            subprocess.run([MOSQUITTO_PUB, "-h", "localhost", "-p", str(broker.port), "--cafile", str(server.ca),
                            "-q", "1", "-t", "l/P-1", "-m", '{"values": {"flow": 12.0}}'], check=True, timeout=10)
            tap.wait_for("P-1", good(flow=12.0), "a value received over TLS")
        wrong = source(other_ca.ca)  # a broker certificate from another CA is refused: never connected
        with FrameTap(wrong) as tap:
            tap.wait_for("P-1", quality_is(Quality.COMM_FAIL, "flow"), "COMM_FAIL")
            assert not wrong.wait_subscribed(2.0)
