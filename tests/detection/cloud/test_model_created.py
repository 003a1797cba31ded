"""Every confirmation carries its model's creation time (docs/uplink.md): the service takes it from the manifest's
``created`` and refuses to start, with a message, when that is missing or not a time."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from detection.cloud.__main__ import main
from detection.cloud.bundle import model_created_ts
from detection.cloud.models import DEFAULT_DIR, ModelError


def test_the_shipped_manifest_gives_its_creation_time() -> None:
    manifest = json.loads((DEFAULT_DIR / "manifest.json").read_text())
    assert model_created_ts(manifest) == pytest.approx(1_795_416_796.0)  # 2026-11-23T06:53:16+00:00
    assert model_created_ts({"created": "2026-12-01T00:00:00+01:00"}) == 1_796_079_600.0


@pytest.mark.parametrize("created", [None, "", "yesterday", "2026-11-23T06:53:16", 1795416796,
                                     "9999-12-31T00:00:00+00:00", "1969-12-31T23:59:59+00:00",
                                     "2026-11-23T06:53:16+00:00\nCRITICAL forged"])
def test_a_manifest_without_a_real_creation_time_is_refused(created: object) -> None:
    manifest = {} if created is None else {"created": created}
    with pytest.raises(ModelError, match="\"created\" must be an ISO 8601 time with a zone"):
        model_created_ts(manifest)


def test_the_service_stops_at_start_with_a_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    models = tmp_path / "models"
    shutil.copytree(DEFAULT_DIR, models)
    manifest = json.loads((models / "manifest.json").read_text())
    manifest["created"] = "last tuesday"
    (models / "manifest.json").write_text(json.dumps(manifest))
    caplog.set_level(logging.ERROR)
    assert main(["--broker", "127.0.0.1:1", "--models", str(models)]) == 2
    assert any("cannot load the models" in r.getMessage() and "created" in r.getMessage() for r in caplog.records)
