"""Baseline: the schema as it was when Vigil adopted Alembic (the release after the operator logbook and the shift
handovers). Also the way in for a database from before Alembic (no alembic_version table): such a file was made by
create_all over the schema of its day plus ad-hoc ALTERs at open, so each table, column and index below is added
only where it is missing, with the one-off data fixes those ALTERs made. A fresh database is not built here (open
creates it from app/store/schema.py and stamps it at head); the test that compares the models with a migrated
database keeps the two the same.

The tables are frozen copies, not app/store/schema.py: a later revision changes the models, never this file.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger("app.store.migrations")

_BASELINE = sa.MetaData()
_TABLES = (
    sa.Table(
        'alarms', _BASELINE,
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('asset', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('diagnostic', sa.String(length=16), nullable=True),
        sa.Column('priority', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('raised_ts', sa.Float(), nullable=False),
        sa.Column('cleared_ts', sa.Float(), nullable=True),
        sa.Column('last_active_ts', sa.Float(), nullable=False),
        sa.Column('peak_score', sa.Float(), nullable=False),
        sa.Column('activations', sa.Integer(), nullable=False),
        sa.Column('top_channels', sa.Text(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('shelved_until', sa.Float(), nullable=True),
        sa.Column('shelve_mode', sa.String(length=16), nullable=True),
        sa.Column('cloud_state', sa.String(length=16), nullable=False),
        sa.Column('cloud_failure_mode', sa.String(length=48), nullable=True),
        sa.Column('cloud_priority', sa.String(length=8), nullable=True),
        sa.Column('cloud_confidence', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'asset_settings', _BASELINE,
        sa.Column('asset', sa.String(length=64), nullable=False),
        sa.Column('out_of_service', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=True),
        sa.Column('changed_by', sa.String(length=64), nullable=True),
        sa.Column('changed_ts', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('asset'),
    ),
    sa.Table(
        'audit_chain_head', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('earlier_rows', sa.Integer(), nullable=False),
        sa.Column('earlier_last_id', sa.Integer(), nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=True),
        sa.Column('last_id', sa.Integer(), nullable=True),
        sa.Column('last_hash', sa.LargeBinary(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('mac', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'audit_log', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('prev_hash', sa.LargeBinary(), nullable=True),
        sa.Column('chain_hash', sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'handovers', _BASELINE,
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('shift_start', sa.Float(), nullable=False),
        sa.Column('shift_end', sa.Float(), nullable=False),
        sa.Column('created_ts', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('signed_by', sa.String(length=64), nullable=True),
        sa.Column('signed_ts', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'logbook', _BASELINE,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('asset', sa.String(length=64), nullable=True),
        sa.Column('alarm_id', sa.String(length=36), nullable=True),
        sa.Column('carry_over', sa.Boolean(), nullable=False),
        sa.Column('cleared_by', sa.String(length=64), nullable=True),
        sa.Column('cleared_ts', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    ),
    sa.Table(
        'login_lockouts', _BASELINE,
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.Float(), nullable=False),
        sa.Column('last_failure_ts', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'name'),
    ),
    sa.Table(
        'outbox', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('msg_id', sa.String(length=32), nullable=False),
        sa.Column('stream', sa.String(length=16), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.Column('created_ts', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    ),
    sa.Table(
        'outbox_seq', _BASELINE,
        sa.Column('stream', sa.String(length=16), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('stream'),
    ),
    sa.Table(
        'samples', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asset', sa.String(length=64), nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('values', sa.LargeBinary(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('regime', sa.String(length=16), nullable=False),
        sa.Column('quality', sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'settings_overrides', _BASELINE,
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.String(length=64), nullable=True),
        sa.Column('changed_ts', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    ),
    sa.Table(
        'users', _BASELINE,
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('pin_hash', sa.LargeBinary(), nullable=False),
        sa.Column('salt', sa.LargeBinary(), nullable=False),
        sa.Column('kdf', sa.String(length=64), nullable=False),
        sa.Column('created_ts', sa.Float(), nullable=False),
        sa.Column('must_change_pin', sa.Integer(), server_default='0', nullable=False),
        sa.Column('disabled', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('name'),
    ),
    sa.Table(
        'alarm_events', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alarm_id', sa.String(length=36), nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('event', sa.String(length=24), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], ),
        sa.PrimaryKeyConstraint('id'),
    ),
    sa.Table(
        'labels', _BASELINE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alarm_id', sa.String(length=36), nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('failure_mode', sa.String(length=48), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['alarm_id'], ['alarms.id'], ),
        sa.PrimaryKeyConstraint('id'),
    ),
)
# (name, table, columns, unique)
_INDEXES = (
    ('ix_alarms_asset_raised', 'alarms', ['asset', 'raised_ts'], False),
    ('ix_alarms_kind_raised', 'alarms', ['kind', 'raised_ts'], False),
    ('ix_alarms_priority_raised', 'alarms', ['priority', 'raised_ts'], False),
    ('ix_alarms_raised', 'alarms', ['raised_ts', 'id'], False),
    ('ix_alarms_state_raised', 'alarms', ['state', 'raised_ts'], False),
    ('ix_handovers_shift', 'handovers', ['shift_start', 'created_ts'], False),
    ('ix_logbook_carry_over', 'logbook', ['carry_over', 'ts'], False),
    ('ix_logbook_ts', 'logbook', ['ts'], False),
    ('ix_outbox_priority_id', 'outbox', ['priority', 'id'], False),
    ('ix_outbox_stream_seq', 'outbox', ['stream', 'seq'], True),
    ('ix_samples_asset_ts', 'samples', ['asset', 'ts'], False),
    ('ix_samples_ts', 'samples', ['ts'], False),
    ('ix_alarm_events_alarm', 'alarm_events', ['alarm_id'], False),
    ('ix_alarm_events_alarm_event_ts', 'alarm_events', ['alarm_id', 'event', 'ts', 'state'], False),
    ('ix_alarm_events_alarm_ts', 'alarm_events', ['alarm_id', 'ts'], False),
    ('ix_alarm_events_ts', 'alarm_events', ['ts'], False),
    ('ix_labels_alarm', 'labels', ['alarm_id', 'id'], False),
    ('ix_labels_ts', 'labels', ['ts'], False),
)


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    for table in _BASELINE.sorted_tables:
        if table.name not in have:
            if have:
                log.info("adding table %s to an older database", table.name)
            table.create(bind)
    if have:
        _add_missing_columns(bind)
    for name, table_name, columns, unique in _INDEXES:
        op.create_index(name, table_name, columns, unique=unique, if_not_exists=True)


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be downgraded: restore the backup taken before the upgrade")


def _columns(bind: sa.Connection, table: str) -> set[str]:
    return {r[1] for r in bind.execute(sa.text(f"PRAGMA table_info({table})"))}


def _add_column(bind: sa.Connection, table: str, ddl: str) -> None:
    log.info("adding column %s.%s to an older database", table, ddl.split()[0])
    bind.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {ddl}"))


def _add_missing_columns(bind: sa.Connection) -> None:
    """Nullable columns and flags added before Alembic, with the data fixes made when each was added
    (formerly app/store/database.py _add_missing_columns and _migrate_audit_log_to_hash_chain)."""
    if "quality" not in _columns(bind, "samples"):
        _add_column(bind, "samples", "quality BLOB")
    have = _columns(bind, "alarms")
    if "diagnostic" not in have:
        # Before the column, which diagnostic an alarm was had to be read from its message: derived once, here.
        _add_column(bind, "alarms", "diagnostic VARCHAR(16)")
        bind.execute(sa.text("UPDATE alarms SET diagnostic = CASE WHEN instr(message, 'communication') > 0 "
                             "THEN 'comm' ELSE 'signal' END WHERE kind = 'diagnostic'"))
    if "shelve_mode" not in have:
        # Before one-shot shelving every shelving was timed.
        _add_column(bind, "alarms", "shelve_mode VARCHAR(16)")
        bind.execute(sa.text("UPDATE alarms SET shelve_mode = 'timed' WHERE state = 'SHLVD'"))
    have = _columns(bind, "users")
    for column in ("must_change_pin", "disabled"):
        if column not in have:
            _add_column(bind, "users", f"{column} INTEGER NOT NULL DEFAULT 0")
            if column == "must_change_pin":
                # The demo users (app/users.py DEMO_USERS) may still have the well-known PINs: each chooses one.
                bind.execute(sa.text("UPDATE users SET must_change_pin = 1 WHERE name IN "
                                     "('operator', 'technician', 'supervisor', 'admin')"))
    if "threshold" not in _columns(bind, "asset_settings"):
        _add_column(bind, "asset_settings", "threshold FLOAT")
    have = _columns(bind, "audit_log")
    for column in ("prev_hash", "chain_hash"):  # the hash chain starts at open (app/audit_check.py: attach)
        if column not in have:
            _add_column(bind, "audit_log", f"{column} BLOB")
