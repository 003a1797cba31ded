"""SQLite tables, declared once with SQLAlchemy Core.

Raw samples are one row per frame with the channel values packed as float64 (8 channels -> 64 bytes): a row per
channel-sample would be ~8x the rows and far too slow to insert at 20k channel-samples per second.
Alarms, their transitions, labels and the audit log are never pruned by retention.
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
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
    Column("quality", LargeBinary),  # uint8 Quality codes per channel; NULL = all good (most rows)
)
Index("ix_samples_asset_ts", samples.c.asset, samples.c.ts)
Index("ix_samples_ts", samples.c.ts)  # retention: min(ts) and the range delete stay O(log n) as the table grows

alarms = Table(
    "alarms",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid4 hex: unique across gateways for the cloud side
    Column("asset", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # anomaly | diagnostic
    # Which diagnostic (app/diagnostics.py: comm | signal); NULL for anomaly alarms. Added after the first
    # release: an older database gets it at open, its rows derived once from the message (app/store/database.py).
    Column("diagnostic", String(16)),
    Column("priority", String(8), nullable=False),  # low | medium | high
    Column("state", String(8), nullable=False),  # ISA-18.2: UNACK, ACKED, RTNUN, NORM, SHLVD, DSUPR, OOSRV
    Column("raised_ts", Float, nullable=False),
    Column("cleared_ts", Float),
    Column("last_active_ts", Float, nullable=False),
    Column("peak_score", Float, nullable=False),
    Column("activations", Integer, nullable=False, default=1),
    Column("top_channels", Text, nullable=False),  # JSON list of [channel, contribution]
    Column("message", Text, nullable=False),
    Column("shelved_until", Float),  # when the shelving expires (one-shot: its longest end), the engine's clock
    # How a SHLVD alarm is shelved (app/alarm_model.py ShelveMode: timed | until_cleared); NULL when not shelved.
    # Added after the first release: an older database gets it at open (app/store/database.py), NULL read as timed.
    Column("shelve_mode", String(16)),
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
# The alarm journal (app/store/journal.py): its time range, filters and sort orders each have an index, an alarm's
# trail is read in time order, and its latest label is one index lookup. Created at open on older databases too.
Index("ix_alarms_raised", alarms.c.raised_ts, alarms.c.id)
Index("ix_alarms_state_raised", alarms.c.state, alarms.c.raised_ts)
Index("ix_alarms_priority_raised", alarms.c.priority, alarms.c.raised_ts)
Index("ix_alarms_kind_raised", alarms.c.kind, alarms.c.raised_ts)
Index("ix_alarm_events_alarm_ts", alarm_events.c.alarm_id, alarm_events.c.ts)
# The KPIs and the shift screen read events by time range (app/store/kpi_queries.py): a shift's events, its
# acknowledgements, and which alarms changed after a moment (their state then is not their stored state).
Index("ix_alarm_events_ts", alarm_events.c.ts)
# An alarm's activations (or clears) in a time range, with the state after each, from the index alone: the KPIs'
# activations, the latest activation before each acknowledgement, stale alarms (app/store/kpi_queries.py). Without
# it every event row is a table lookup after the index seek (30-day KPI set: ~10-25 % more CPU, measured).
Index("ix_alarm_events_alarm_event_ts", alarm_events.c.alarm_id, alarm_events.c.event, alarm_events.c.ts,
      alarm_events.c.state)

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
Index("ix_labels_alarm", labels.c.alarm_id, labels.c.id)
Index("ix_labels_ts", labels.c.ts)  # the labels given in a shift (app/shift_review.py)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("user", String(64)),
    Column("action", String(48), nullable=False),
    Column("detail", Text),  # JSON
    # The tamper-evident chain (app/audit_chain.py): HMAC-SHA256 over the previous row's chain_hash and this
    # row's content. NULL in rows written before the chain existed (an older database, migrated at open).
    Column("prev_hash", LargeBinary),
    Column("chain_hash", LargeBinary),
)

# The chain's head, one row: where the chained part of audit_log starts and the last row appended, under an
# HMAC of its own, so deleting rows at the end (truncation) is seen too. Written with every audit row.
audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("earlier_rows", Integer, nullable=False),  # unchained rows before the chain (an older database)
    Column("earlier_last_id", Integer, nullable=False),  # the last of them (0: none); chained rows come after
    Column("first_id", Integer),  # the first chained row (its prev_hash is zeros); NULL until one is written
    Column("last_id", Integer),
    Column("last_hash", LargeBinary, nullable=False),  # zeros until a row is written
    Column("rows", Integer, nullable=False),  # chained rows written
    Column("mac", LargeBinary, nullable=False),
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
    # Added later (app/store/database.py adds them to an older database): a demo user or one whose PIN an admin
    # set must choose a new PIN at the next login; a disabled user cannot log in (kept, for the audit's names).
    Column("must_change_pin", Integer, nullable=False, server_default="0"),
    Column("disabled", Integer, nullable=False, server_default="0"),
)

# Wrong-PIN counters per user name and per panel (app/lockout.py), kept across restarts. Names nobody has are
# counted like real ones; a row is deleted when its user logs in.
login_lockouts = Table(
    "login_lockouts",
    metadata,
    Column("scope", String(8), primary_key=True),  # user | panel
    Column("name", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("level", Integer, nullable=False),  # lockouts so far: the next escalation step
    Column("locked_until", Float, nullable=False),  # wall clock; in the past = not locked
    Column("last_failure_ts", Float, nullable=False),
)

asset_settings = Table(
    "asset_settings",
    metadata,
    Column("asset", String(64), primary_key=True),
    Column("out_of_service", Integer, nullable=False, default=0),
    # The asset's own alarm threshold set on the Settings screen; NULL = detection.threshold (added later).
    Column("threshold", Float),
    Column("changed_by", String(64)),
    Column("changed_ts", Float),
)

# Settings changed on the panel's Settings screen (app/settings_overrides.py), over the TOML file: one row per
# dotted key, its value as JSON. In the database, not a file, so a change commits with its audit row.
settings_overrides = Table(
    "settings_overrides",
    metadata,
    Column("key", String(64), primary_key=True),  # e.g. "ui.auto_logout_s"
    Column("value", Text, nullable=False),  # JSON
    Column("changed_by", String(64)),
    Column("changed_ts", Float, nullable=False),
)

# The operator logbook (app/logbook.py): free text with who and when, optionally tied to an asset or an alarm. A
# flagged entry (carry_over) is carried into every following handover until a supervisor clears it (who, when).
# Never pruned; written through the one writer with its audit row. A database from before it gets it at open.
logbook = Table(
    "logbook",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),  # when it was written (the engine's clock)
    Column("user", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("asset", String(64)),
    Column("alarm_id", String(36)),  # no foreign key: an entry may name an alarm of an earlier database's run
    Column("carry_over", Boolean, nullable=False),
    Column("cleared_by", String(64)),
    Column("cleared_ts", Float),
    sqlite_autoincrement=True,  # ids never reused: an audit row's entry id names one entry for good
)
Index("ix_logbook_ts", logbook.c.ts)
Index("ix_logbook_carry_over", logbook.c.carry_over, logbook.c.ts)

# The uplink's store-and-forward outbox (app/uplink/outbox.py). A row is deleted only after the broker's PUBACK.
# Written by the one writer in the same transaction as the alarm/ack/label it reports, so an operator action is
# never on disk without its message (nor a message without its action).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),  # global insert order == per-stream seq order (one writer)
    Column("msg_id", String(32), nullable=False),  # uuid4 hex, the envelope's id
    Column("stream", String(16), nullable=False),  # alarm | alarm-event | label | telemetry
    Column("seq", Integer, nullable=False),  # the envelope's seq for this stream
    Column("priority", Integer, nullable=False),  # 0 = alarm, alarm-event, label (never dropped); 1 = telemetry
    Column("topic", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the whole UTF-8 JSON envelope, as published
    Column("created_ts", Float, nullable=False),  # wall clock, for the bound (max age) and the backlog age
    sqlite_autoincrement=True,  # ids never reused, even after the outbox drained
)
Index("ix_outbox_priority_id", outbox.c.priority, outbox.c.id)
Index("ix_outbox_stream_seq", outbox.c.stream, outbox.c.seq, unique=True)

# The last seq handed out per stream. Kept apart from the outbox because outbox rows are deleted once
# published: MAX(outbox.seq) would go back to nothing after a drain and a restart would reuse numbers.
outbox_seq = Table(
    "outbox_seq",
    metadata,
    Column("stream", String(16), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

# Shift handover reports (app/handover): one row per PDF generated for a shift, the file under the data directory
# (``handovers/`` next to the database) with its SHA-256; the incoming supervisor's sign-off once, never again.
handovers = Table(
    "handovers",
    metadata,
    Column("id", String(36), primary_key=True),  # uuid4 hex
    Column("shift_start", Float, nullable=False),
    Column("shift_end", Float, nullable=False),
    Column("created_ts", Float, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("path", Text, nullable=False),  # the PDF, absolute
    Column("sha256", String(64), nullable=False),
    Column("signed_by", String(64)),
    Column("signed_ts", Float),
)
Index("ix_handovers_shift", handovers.c.shift_start, handovers.c.created_ts)
