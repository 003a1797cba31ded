"""The [users] settings: PIN length and lockout rules are validated with the usual clear config errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def test_shipped_user_settings() -> None:
    users = load_settings(environ={}).users
    assert (users.max_failures, users.panel_max_failures, users.min_pin_digits) == (5, 10, 6)
    assert users.lockout_steps_s == [60, 300, 900, 3600]


@pytest.mark.parametrize("value, allowed", [("3", "greater than or equal to 4"), ("13", "less than or equal to 12"),
                                            ("six", "valid integer")])
def test_min_pin_digits_out_of_range_names_key_value_and_range(value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"VIGIL_USERS__MIN_PIN_DIGITS": value})
    msg = str(err.value)
    assert f"users.min_pin_digits = '{value}' (from VIGIL_USERS__MIN_PIN_DIGITS)" in msg and allowed in msg


def test_lockout_steps_must_escalate(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text("[users]\nlockout_steps_s = [300, 60]\n")
    with pytest.raises(ConfigError, match=r"users.lockout_steps_s = \[300, 60\] \(in v.toml\): .*at least as long "
                                          r"as the one before"):
        load_settings(cfg, environ={})
    cfg.write_text("[users]\nlockout_steps_s = []\n")
    with pytest.raises(ConfigError, match=r"users.lockout_steps_s = \[\].*at least 1 item"):
        load_settings(cfg, environ={})
    cfg.write_text("[users]\nlockout_steps_s = [60, 100000]\n")
    with pytest.raises(ConfigError, match=r"users.lockout_steps_s.1 = 100000.*less than or equal to 86400"):
        load_settings(cfg, environ={})


def test_lockout_steps_from_the_environment() -> None:
    users = load_settings(environ={"VIGIL_USERS__LOCKOUT_STEPS_S": "30, 120,600"}).users
    assert users.lockout_steps_s == [30, 120, 600]


def test_the_panel_limit_cannot_be_below_the_user_limit() -> None:
    with pytest.raises(ConfigError, match=r"panel_max_failures \(3\) must be at least users.max_failures \(5\)"):
        load_settings(environ={"VIGIL_USERS__PANEL_MAX_FAILURES": "3"})


def test_the_old_lockout_key_is_refused_by_name(tmp_path: Path) -> None:
    cfg = tmp_path / "v.toml"
    cfg.write_text("[users]\nlockout_s = 60\n")
    with pytest.raises(ConfigError, match=r"users.lockout_s: unknown key \(in v.toml\)"):
        load_settings(cfg, environ={})
