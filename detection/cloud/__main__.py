"""`python -m detection.cloud --broker HOST:PORT`: run one instance of the cloud confirmation service.

Start as many instances as the load needs, on any machines: they share the alarms through the broker (MQTT v5
shared subscription). Broker credentials come from the environment (VIGIL_CLOUD_USERNAME, VIGIL_CLOUD_PASSWORD),
never from the command line, where every user of the machine could read them in the process list.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from detection.cloud.models import DEFAULT_DIR, CloudModels, ModelError
from detection.cloud.protocol import SHARE_GROUP
from detection.cloud.service import BrokerSettings, CloudService

log = logging.getLogger("detection.cloud")


def _broker(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"--broker must be HOST:PORT with a port in 1..65535, got {text!r}")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m detection.cloud", description=__doc__.splitlines()[0])
    ap.add_argument("--broker", type=_broker, required=True, help="HOST:PORT of the MQTT v5 broker")
    ap.add_argument("--models", type=Path, default=DEFAULT_DIR, help="model directory (default: %(default)s)")
    ap.add_argument("--client-id", default=None, help="MQTT client id (default: unique per process)")
    ap.add_argument("--group", default=SHARE_GROUP, help="shared-subscription group (default: %(default)s)")
    ap.add_argument("--tls-ca", help="CA certificate file: connect with TLS")
    ap.add_argument("--tls-cert", help="client certificate file (mutual TLS)")
    ap.add_argument("--tls-key", help="client key file (mutual TLS)")
    ap.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    try:
        models = CloudModels(args.models)
    except ModelError as exc:
        log.error("cannot load the models: %s", exc)
        return 2
    host, port = args.broker
    settings = BrokerSettings(host, port, client_id=args.client_id, username=os.environ.get("VIGIL_CLOUD_USERNAME"),
                              password=os.environ.get("VIGIL_CLOUD_PASSWORD"), tls_ca=args.tls_ca,
                              tls_cert=args.tls_cert, tls_key=args.tls_key)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    service = CloudService(settings, models, group=args.group)
    service.start()
    stop.wait()
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
