"""SQLite tables, declared once with SQLAlchemy Core.

Raw samples are one row per frame with the channel values packed as float64 (8 channels -> 64 bytes): a row per
channel-sample would be ~8x the rows and far too slow to insert at 20k channel-samples per second.
Alarms, their transitions, labels and the audit log are never pruned by retention.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("asset", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("values", LargeBinary, nullable=False),  # float64 little-endian, CHANNELS order, NaN = no good value
    Column("score", Float),  # normalised anomaly score; NULL while commissioning or not running
    Column("regime", String(16), nullable=False),
)
Index("ix_samples_asset_ts", samples.c.asset, samples.c.ts)
Index("ix_samples_ts", samples.c.ts)  # retention: min(ts) and the range delete stay O(log n) as the table grows

alarms = Table(
    "alarms",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid4 hex: unique across gateways for the cloud side
    Column("asset", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # anomaly | diagnostic
    Column("priority", String(8), nullable=False),  # low | medium | high
    Column("state", String(8), nullable=False),  # ISA-18.2: UNACK, ACKED, RTNUN, NORM, SHLVD, DSUPR, OOSRV
    Column("raised_ts", Float, nullable=False),
    Column("cleared_ts", Float),
    Column("last_active_ts", Float, nullable=False),
    Column("peak_score", Float, nullable=False),
    Column("activations", Integer, nullable=False, default=1),
    Column("top_channels", Text, nullable=False),  # JSON list of [channel, contribution]
    Column("message", Text, nullable=False),
    Column("shelved_until", Float),  # wall clock
    Column("cloud_state", String(16), nullable=False, default="none"),
    Column("cloud_failure_mode", String(48)),
    Column("cloud_priority", String(8)),
    Column("cloud_confidence", Float),
)
Index("ix_alarms_asset_raised", alarms.c.asset, alarms.c.raised_ts)

alarm_events = Table(
    "alarm_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", String(36), ForeignKey("alarms.id"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("event", String(24), nullable=False),  # raised, reactivated, cleared, acknowledged, ...
    Column("state", String(8), nullable=False),  # state after the event
    Column("user", String(64)),
    Column("note", Text),
    Column("score", Float),
)
Index("ix_alarm_events_alarm", alarm_events.c.alarm_id)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", String(36), ForeignKey("alarms.id"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("user", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),  # failure | false_alarm | unsure
    Column("failure_mode", String(48)),
    Column("note", Text),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("user", String(64)),
    Column("action", String(48), nullable=False),
    Column("detail", Text),  # JSON
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("pin_hash", LargeBinary, nullable=False),  # scrypt(pin, salt, n, r, p)
    Column("salt", LargeBinary, nullable=False),
    Column("kdf", String(64), nullable=False),  # "scrypt:n=16384:r=8:p=1", so parameters can be raised later
    Column("created_ts", Float, nullable=False),
)

asset_settings = Table(
    "asset_settings",
    metadata,
    Column("asset", String(64), primary_key=True),
    Column("out_of_service", Integer, nullable=False, default=0),
    Column("changed_by", String(64)),
    Column("changed_ts", Float),
)
