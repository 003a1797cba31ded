"""The export through the HMI API on a real engine: supervisor and above only, audited through the store writer
as the logged-in user, the configured export folder offered as a destination."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from acquisition.simulator import PumpStation, StationConfig
from app.config import load_settings
from app.engine import Engine
from app.hmi_api import EngineHmi, ExportProgress, ExportRequest, Include, PermissionDenied
from app.store import schema
from tests.support.export_db import END, START, seed
from tests.support.logins import login_demo


def test_export_through_the_hmi_api(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    settings = load_settings(environ={}, overrides={
        "storage": {"path": str(tmp_path / "vigil.db")}, "logging": {"dir": str(tmp_path / "log")},
        "export": {"folder": str(out)}, "shifts": {"timezone": "Europe/Berlin"}})
    engine = Engine(settings, PumpStation(StationConfig(n_pumps=1, seed=3, schedule=False), duration_s=5))
    engine.start()
    try:
        seed(tmp_path / "vigil.db").db.dispose()  # after the engine made the database and its demo users
        hmi = EngineHmi(engine)
        assert [m.path for m in hmi.export_media()] == [str(out)]
        req = ExportRequest(START, END, Include.AUDIT | Include.ALARMS, None)
        with pytest.raises(PermissionDenied, match="supervisor or higher required"):
            hmi.export(login_demo(engine.users, "technician"), req, str(out))
        seen: list[ExportProgress] = []
        result = hmi.export(login_demo(engine.users, "supervisor"), req, str(out), seen.append,
                            threading.Event())
        assert Path(result.folder).parent == out and seen
        assert engine.wait(30)
    finally:
        engine.stop()
    with engine.db.connect() as c:
        user, detail = c.execute(select(schema.audit_log.c.user, schema.audit_log.c.detail)
                                 .where(schema.audit_log.c.action == "export")).one()
    assert user == "supervisor" and json.loads(detail)["manifest_sha256"] == result.manifest_sha256
