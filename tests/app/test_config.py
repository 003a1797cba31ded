from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def test_shipped_defaults_load() -> None:
    s = load_settings(environ={})
    assert s.source.kind == "simulator"
    assert s.source.simulator.n_pumps == 4  # the demo faults three pumps, one stays healthy
    assert s.storage.raw_retention_days == 7
    assert s.detection.dedup_window_s == 300


def test_environment_overrides_nested_keys() -> None:
    s = load_settings(environ={"VIGIL_SOURCE__SIMULATOR__N_PUMPS": "8", "VIGIL_DETECTION__THRESHOLD": "1.5"})
    assert s.source.simulator.n_pumps == 8
    assert s.detection.threshold == 1.5


def test_bad_value_names_key_value_and_what_is_allowed() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"VIGIL_SOURCE__SIMULATOR__N_PUMPS": "80"})
    msg = str(err.value)
    assert "source.simulator.n_pumps" in msg
    assert "'80'" in msg
    assert "less than or equal to 50" in msg
    assert "VIGIL_SOURCE__SIMULATOR__N_PUMPS" in msg


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text("[detection]\nthreshhold = 2\n")
    with pytest.raises(ConfigError, match=r"detection.threshhold: unknown key \(in v.toml\)"):
        load_settings(cfg, environ={})


def test_choice_lists_the_allowed_values(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text('[source]\nkind = "opc"\n')
    with pytest.raises(ConfigError, match=r"source.kind = 'opc'.*'simulator', 'csv'"):
        load_settings(cfg, environ={})


def test_csv_source_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="source.csv.path"):
        load_settings(environ={}, overrides={"source": {"kind": "csv"}})


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text("[detection\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
