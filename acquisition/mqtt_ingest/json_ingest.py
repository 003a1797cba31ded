"""Data-logger JSON subscriptions: which [[json]] entry a topic belongs to, which asset it names, and holding
the message's readings."""
from __future__ import annotations

from collections.abc import Callable

from paho.mqtt.client import topic_matches_sub

from acquisition.channels import ASSET_NAME_RULE, CHANNELS, valid_asset_name
from acquisition.held_values import HeldValues
from acquisition.mqtt_ingest.ingest_map import IngestMap, JsonSubscription
from acquisition.mqtt_ingest.json_payload import PayloadRejected, parse_logger_message
from common.quoting import quoted


class JsonIngest:
    """Each message is handled by the first [[json]] entry (in file order) whose topic filter matches."""

    def __init__(self, ingest_map: IngestMap, held: HeldValues, report: Callable[[str, str, str], None]) -> None:
        self._map = ingest_map
        self._held = held
        self._report = report  # report(reason, topic, detail): counts in SourceStats and logs (throttled)
        self._subs = [(sub, sub.mapping(), ingest_map.stale_after_s(sub)) for sub in ingest_map.subscriptions]
        for sub, mapping, stale_s in self._subs:  # assets known up front show from the first frame
            for asset in ([sub.asset] if sub.asset else sub.assets):
                for m in mapping.values():
                    held.configure(asset, m.index, stale_s)

    @property
    def topic_filters(self) -> list[str]:
        return [sub.topic for sub, _, _ in self._subs]

    def handles(self, topic: str) -> bool:
        return any(topic_matches_sub(sub.topic, topic) for sub, _, _ in self._subs)

    def _asset(self, sub: JsonSubscription, topic: str) -> str | None:
        if sub.asset:
            return sub.asset
        assert sub.asset_level is not None  # the map's validation: a subscription names its asset one way or the other
        asset = topic.split("/")[sub.asset_level]  # the filter has '+' there, so the level exists
        if not valid_asset_name(asset):
            self._report("bad_asset_name", topic, f"topic level {sub.asset_level} is {quoted(asset)}; allowed: "
                                                  f"{ASSET_NAME_RULE}")
            return None
        if sub.assets and asset not in sub.assets:
            self._report("unknown_asset", topic, f"asset {asset!r} is not in this subscription's assets "
                                                 f"{list(sub.assets)}")
            return None
        if not self._held.known(asset) and len(self._held.assets()) >= self._map.frames.max_assets:
            self._report("too_many_assets", topic, f"asset {asset!r} would exceed frames.max_assets = "
                                                   f"{self._map.frames.max_assets}")
            return None
        return asset

    def on_message(self, topic: str, payload: bytes | bytearray, now_wall: float, now_mono: float) -> None:
        match = next((s for s in self._subs if topic_matches_sub(s[0].topic, topic)), None)
        if match is None:
            return
        sub, mapping, stale_s = match
        asset = self._asset(sub, topic)
        if asset is None:
            return
        try:
            msg = parse_logger_message(payload, mapping, now_wall, self._map.frames.max_clock_skew_s)
        except PayloadRejected as exc:
            self._report(exc.reason, topic, exc.detail)
            return
        for reason, detail in msg.problems:
            self._report(reason, topic, detail)
        if not self._held.known(asset):  # first message from an asset named by the topic
            for m in mapping.values():
                self._held.configure(asset, m.index, stale_s)
        for r in msg.readings:
            if not self._held.hold(asset, r.channel, r.value, r.quality, now_mono, ts=msg.ts):
                self._report("out_of_order", topic, f"ts {msg.ts} is older than the {CHANNELS[r.channel]} "
                                                    f"value already held for {asset}")
