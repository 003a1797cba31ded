"""Schema migrations (app/store/migrate.py): a database written by the last release before Alembic (the committed
fixture, tests/fixtures/make_db_before_alembic.py) keeps every row; the models and the migrations agree; a failed
or impossible upgrade changes nothing and says what failed."""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app import audit_check
from app.store.database import migration_of, open_database
from app.store.errors import MigrationError
from app.store.migrate import SCRIPT_LOCATION, Outcome, alembic_config, bring_to_head, head_revision
from app.store.schema import metadata

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vigil-before-alembic.db"
KEPT = ("alarms", "alarm_events", "labels", "audit_log", "outbox", "outbox_seq", "logbook", "users", "samples")


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        return sorted(con.execute(f"SELECT {', '.join(map(repr, cols))} FROM {table}").fetchall(), key=repr)


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "vigil.db"
    shutil.copy(FIXTURE, db)
    shutil.copy(FIXTURE.with_name(FIXTURE.name + ".audit-key"), tmp_path / "vigil.db.audit-key")
    return db


def test_the_fixture_is_from_before_alembic_and_holds_every_kind_of_row() -> None:
    with sqlite3.connect(FIXTURE) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "alembic_version" not in tables
    assert all(rows(FIXTURE, t) for t in KEPT), {t: len(rows(FIXTURE, t)) for t in KEPT}


def test_a_database_from_before_alembic_keeps_every_row_and_its_audit_chain(old_db: Path) -> None:
    before = {t: rows(old_db, t) for t in KEPT}
    db = open_database(old_db)
    try:
        result = migration_of(db)
        assert result is not None and result.outcome is Outcome.UPGRADED and result.to_revision == head_revision()
        assert result.backup == old_db.with_name(f"vigil.db.pre-{head_revision()}.bak")
        assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
        assert {t: rows(result.backup, t) for t in KEPT} == before  # the copy aside is the old database
        report = audit_check.report_at_open(db)
        assert report is not None and report.ok, report.summary() if report else None
        assert report.checked_rows >= len(before["audit_log"])
        with db.connect() as c:
            assert MigrationContext.configure(c).get_current_revision() == head_revision()
            assert compare_metadata(MigrationContext.configure(c), metadata) == []
    finally:
        db.dispose()
    after = {t: rows(old_db, t) for t in KEPT}
    assert after == before  # every alarm, event, label, audit row, outbox message, logbook entry, user, sample
    db = open_database(old_db)  # the second open: at head, nothing to do
    try:
        assert migration_of(db) is not None and migration_of(db).outcome is Outcome.CURRENT  # type: ignore[union-attr]
    finally:
        db.dispose()


def test_a_database_from_before_the_logbook_and_handovers_migrates(old_db: Path) -> None:
    with sqlite3.connect(old_db) as con:
        con.executescript("DROP TABLE logbook; DROP TABLE handovers;")
    kept = {t: rows(old_db, t) for t in KEPT if t != "logbook"}
    db = open_database(old_db)
    try:
        with db.connect() as c:
            assert compare_metadata(MigrationContext.configure(c), metadata) == []
    finally:
        db.dispose()
    assert {t: rows(old_db, t) for t in kept} == kept
    assert rows(old_db, "logbook") == []


def test_the_models_and_the_migrations_agree(tmp_path: Path) -> None:
    """Fails when a column, table or index is added to app/store/schema.py without a revision (or the reverse):
    the migrations alone, from an empty file, must give exactly the models."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "head")
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"app/store/schema.py and the migrations differ: add a revision ({diff})"
    finally:
        engine.dispose()


@pytest.fixture
def broken_scripts(tmp_path: Path) -> Iterator[Path]:
    """The real scripts plus a revision 0002 that adds a column and then fails."""
    loc = tmp_path / "scripts"
    shutil.copytree(SCRIPT_LOCATION, loc, ignore=shutil.ignore_patterns("__pycache__"))
    (loc / "versions" / "0002_broken.py").write_text(textwrap.dedent('''
        import sqlalchemy as sa
        from alembic import op
        revision = "0002"
        down_revision = "0001"
        branch_labels = None
        depends_on = None
        def upgrade():
            op.add_column("alarms", sa.Column("half_done", sa.Integer()))
            op.execute("UPDATE alarms SET half_done = 1")
            op.execute("INSERT INTO alarms_that_do_not_exist VALUES (1)")
        def downgrade():
            pass
    '''))
    yield loc


@pytest.mark.parametrize("start", ["pre-alembic", "0001"])
def test_a_failed_upgrade_leaves_the_database_as_it_was_and_names_the_revision(
        old_db: Path, broken_scripts: Path, start: str) -> None:
    if start == "0001":
        open_database(old_db).dispose()  # at 0001 with the real scripts
    before = dump(old_db)
    engine = create_engine(f"sqlite:///{old_db}")
    try:
        with pytest.raises(MigrationError) as err:
            bring_to_head(old_db, engine, broken_scripts)
    finally:
        engine.dispose()
    message = str(err.value)
    assert "revision 0002" in message and "alarms_that_do_not_exist" in message and str(old_db) in message
    assert f"from schema {start} to 0002" in message
    backup = old_db.with_name("vigil.db.pre-0002.bak")
    assert str(backup) in message and dump(backup) == before
    assert dump(old_db) == before  # rolled back: not even the column of the half-done revision


def test_a_database_from_a_newer_release_is_refused_unchanged(old_db: Path) -> None:
    open_database(old_db).dispose()
    with sqlite3.connect(old_db) as con:
        con.execute("UPDATE alembic_version SET version_num = '0099'")
    before = dump(old_db)
    with pytest.raises(MigrationError, match="revision '0099'.*newer release"):
        open_database(old_db)
    assert dump(old_db) == before


def test_no_room_to_copy_aside_stops_the_upgrade_before_any_change(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    size_kb = FIXTURE.stat().st_size // 1024 + 300  # the database fits, its copy does not
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)], check=True)
    try:
        db = mnt / "vigil.db"
        shutil.copy(FIXTURE, db)
        before = dump(db)
        with pytest.raises(MigrationError, match="copying it aside first failed.*no space.*Nothing was changed"):
            open_database(db)
        assert dump(db) == before
        assert not list(mnt.glob("*.bak")) and not list(mnt.glob(".*tmp"))
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_an_upgrade_is_refused_while_another_process_holds_the_database(old_db: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from app.instance_lock import database_lock; "
         f"database_lock(Path({str(old_db)!r})).acquire(); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = dump(old_db)
        with pytest.raises(MigrationError, match=rf"needs an upgrade.*in use by process {holder.pid} \(.*python"):
            open_database(old_db)
        assert dump(old_db) == before
    finally:
        holder.communicate("", timeout=30)
