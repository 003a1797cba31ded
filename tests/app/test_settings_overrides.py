"""The panel's settings changes on a real SQLite file: the same model and words as the settings file, admin only,
audited with old and new value, kept across a restart, and each asset's threshold used by its detector."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from acquisition.simulator import PumpStation, StationConfig
from app.config import ConfigError, Settings, load_settings
from app.engine import Engine
from app.settings_overrides import MASK, SettingsEditor, Source, stored_thresholds, with_overrides
from app.store import schema
from app.store.database import open_database
from app.store.writer import StoreWriter
from app.users import PermissionDenied, Role, Session

ADMIN = Session("boss", Role.ADMIN, 0.0)
SUPERVISOR = Session("sue", Role.SUPERVISOR, 0.0)


def settings_at(tmp_path: Path, **sections: dict) -> Settings:
    return load_settings(environ={}, overrides={"storage": {"path": str(tmp_path / "v.db")},
                                                "logging": {"dir": str(tmp_path / "log")}, **sections})


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[SettingsEditor]:
    db = open_database(tmp_path / "v.db")
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    yield SettingsEditor(db, writer, settings_at(tmp_path, uplink={"key_file": "/etc/vigil/k.pem",
                                                                   "cert_file": "/etc/vigil/c.pem"}), time.time)
    writer.stop()


def audit(editor: SettingsEditor) -> list[tuple[str, str, dict]]:
    a = schema.audit_log
    with editor._db.connect() as c:
        return [(r.user, r.action, json.loads(r.detail)) for r in c.execute(select(a).order_by(a.c.id))]


def test_a_change_is_checked_audited_and_kept_across_a_restart(editor: SettingsEditor, tmp_path: Path) -> None:
    editor.change(ADMIN, "ui.auto_logout_s", 900)
    editor.change(ADMIN, "ui.sound", True)
    assert audit(editor)[-2:] == [("boss", "setting changed", {"key": "ui.auto_logout_s", "old": 300.0, "new": 900.0}),
                                  ("boss", "setting changed", {"key": "ui.sound", "old": False, "new": True})]
    lines = {line.key: line for line in editor.effective()}
    assert lines["ui.auto_logout_s"].value == "900.0" and lines["ui.auto_logout_s"].source is Source.PANEL
    assert lines["ui.auto_logout_s"].editable and not lines["ui.kiosk"].editable
    assert lines["ui.kiosk"].source is Source.FILE
    restarted = with_overrides(settings_at(tmp_path), editor._db)
    assert restarted.ui.auto_logout_s == 900 and restarted.ui.sound is True


@pytest.mark.parametrize("value", [5, 86401, "soon", None, float("nan")])
def test_a_bad_value_gets_the_settings_files_words(editor: SettingsEditor, tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError) as panel:
        editor.change(ADMIN, "ui.auto_logout_s", value)
    with pytest.raises(ConfigError) as loader:
        settings_at(tmp_path, ui={"auto_logout_s": value})
    assert str(panel.value).replace(" (set on the panel)", "") == \
        str(loader.value).replace(" (from the command line)", "")
    assert f"ui.auto_logout_s = {value!r} (set on the panel)" in str(panel.value)
    assert [a for _, a, _ in audit(editor)].count("setting changed") == 0


def test_only_an_admin_and_only_the_editable_keys(editor: SettingsEditor) -> None:
    with pytest.raises(PermissionDenied, match="admin or higher required"):
        editor.change(SUPERVISOR, "ui.sound", True)
    with pytest.raises(PermissionDenied):
        editor.set_threshold(SUPERVISOR, "P-101", 2.0)
    with pytest.raises(ValueError, match="storage.path cannot be changed on the panel; allowed: ui.auto_logout_s"):
        editor.change(ADMIN, "storage.path", "/tmp/x.db")


def test_secrets_are_masked(editor: SettingsEditor) -> None:
    lines = {line.key: line.value for line in editor.effective()}
    assert lines["uplink.key_file"] == MASK and lines["uplink.cert_file"] == "/etc/vigil/c.pem"
    assert lines["uplink.credentials_key_file"] == "(empty)"  # nothing to hide: shown as empty


def test_asset_thresholds(editor: SettingsEditor) -> None:
    editor.set_threshold(ADMIN, "P-101", 2.5)
    for bad in (0, -1, 101, float("nan")):
        with pytest.raises(ConfigError, match=r"detection.threshold = .* \(for P-101, set on the panel\)"):
            editor.set_threshold(ADMIN, "P-101", bad)
    assert editor.thresholds() == {"P-101": 2.5}
    editor.set_threshold(ADMIN, "P-101", None)
    assert editor.thresholds() == {}
    changes = [d for _, a, d in audit(editor) if a == "threshold changed"]
    assert changes == [{"asset": "P-101", "old": None, "new": 2.5}, {"asset": "P-101", "old": 2.5, "new": None}]


def test_the_engine_uses_the_panels_values_at_start(tmp_path: Path) -> None:
    settings = settings_at(tmp_path)
    db = open_database(settings.storage.path)
    writer = StoreWriter(db, raw_retention_s=86400)
    writer.start()
    editor = SettingsEditor(db, writer, settings, time.time)
    editor.set_threshold(ADMIN, "P-102", 3.0)
    editor.change(ADMIN, "ui.auto_logout_s", 600)
    writer.stop()
    db.dispose()
    engine = Engine(settings, PumpStation(StationConfig(n_pumps=2, seed=3, schedule=False), duration_s=10, speed=0))
    try:
        assert engine.settings.ui.auto_logout_s == 600
        assert engine.pipelines["P-102"].p.alerts.threshold == 3.0
        assert engine.pipelines["P-101"].p.alerts.threshold == settings.detection.threshold
        assert stored_thresholds(engine.db) == {"P-102": 3.0}
    finally:
        engine.stop()
