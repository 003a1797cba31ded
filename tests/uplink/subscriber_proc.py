"""A plain paho-mqtt subscriber in its own process: NOT Vigil's code, so what it records is what the broker
really delivered. Persistent session (MQTT v5, clean_start false, long session expiry), QoS 1, reconnects on its
own. One line per message: ``<monotonic ns>\\t<topic>\\t<retained 0|1>\\t<payload>``, flushed at once.

    python subscriber_proc.py HOST PORT CLIENT_ID OUTFILE TOPIC [TOPIC...]

Prints "subscribed" on stdout once its first SUBACK arrived.
"""
from __future__ import annotations

import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def main() -> None:
    host, port, client_id, outfile, *topics = sys.argv[1:]
    out = open(outfile, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process' life
    said = False

    def on_connect(client, userdata, flags, rc, props):
        if not rc.is_failure:
            client.subscribe([(t, 1) for t in topics])  # again on every connect: cheap, and safe after a crash

    def on_subscribe(client, userdata, mid, rcs, props):
        nonlocal said
        if not said:
            said = True
            print("subscribed", flush=True)

    def on_message(client, userdata, msg):
        out.write(f"{time.monotonic_ns()}\t{msg.topic}\t{int(msg.retain)}\t{msg.payload.decode()}\n")

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
    c.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]  # typed int, but paho waits fractions of a second too
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    c.connect_async(host, int(port), keepalive=10, clean_start=False, properties=props)
    c.loop_forever(retry_first_connection=True)


if __name__ == "__main__":
    main()
