"""Generated settings files and environment overrides through the real loader (app.config.load_settings): the
result is a validated Settings object or a ConfigError whose text names the key (and, for a bad value, the
value) - never another exception (issue 9, defect 7 and the bad-input suite)."""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import BaseModel

from app.config import ENV_PREFIX, ConfigError, Settings, load_settings

pytestmark = pytest.mark.timeout(1800)  # the long budget (make fuzz) runs several minutes per test


def _schema(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key of the settings, as a path: ("source", "simulator", "n_pumps")."""
    out: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _schema(ann, prefix + (name,))
        else:
            out.append(prefix + (name,))
    return out


KEYS = _schema(Settings)
SECTIONS = sorted({k[:i] for k in KEYS for i in range(1, len(k))})
key_path = st.one_of(st.sampled_from(KEYS), st.sampled_from(SECTIONS),
                     st.lists(st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12),
                              min_size=1, max_size=3).map(tuple))
scalar = st.one_of(
    st.booleans(), st.integers(-(10**25), 10**25), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.sampled_from(["", "0", "-1", "nan", "inf", "1e999", "true", "csv", "mqtt", "DEBUG",
                                          "/nonexistent", "a\nb", "\x00", "  5  ", "0x10", "1_000"]),
)
env_text = st.one_of(st.text(max_size=40).filter(lambda s: "\x00" not in s), scalar.map(str))


def described(msg: str, path: tuple[str, ...]) -> bool:
    """The message names this key, one of its sections, or its environment variable."""
    names = {".".join(path[:i]) for i in range(1, len(path) + 1)}
    names.add(ENV_PREFIX + "__".join(p.upper() for p in path))
    return any(n in msg for n in names)


def check(load: Any, given_keys: list[tuple[str, ...]],
          values: dict[tuple[str, ...], Any]) -> Settings | None:
    try:
        settings = load()
    except ConfigError as exc:
        msg = str(exc)
        assert msg.strip()
        if "config file" in msg:  # the file itself (TOML syntax, encoding): named by the message
            return None
        assert any(described(msg, k) for k in given_keys), msg
        for line in msg.splitlines()[1:]:  # "key = value (from ...): what is allowed", one line per key
            key = line.strip().split(" ", 1)[0]
            path = tuple(key.split("."))
            if path in values and " = {...}" not in line and not isinstance(values[path], (dict, list)):
                assert repr(values[path])[:20] in line or repr(str(values[path]))[:20] in line, line
        return None
    assert isinstance(settings, Settings)
    assert math.isfinite(settings.source.speed) and settings.source.speed >= 0
    return settings


@st.composite
def env_overrides(draw: st.DrawFn) -> dict[tuple[str, ...], str]:
    """Overrides of real and made-up keys; sometimes one key also set as a section (``X`` and ``X__Y``)."""
    env = draw(st.dictionaries(key_path, env_text, max_size=6))
    if env and draw(st.booleans()) is True:  # `is True`: mypy would infer the draw's type from `env`
        base = draw(st.sampled_from(sorted(env)))
        env[base + (draw(st.sampled_from(["x", "path", "speed"])),)] = draw(env_text)
    return env


@given(env=env_overrides())
def test_environment_overrides_give_settings_or_a_config_error_naming_the_key(env: dict) -> None:
    env = {path: value for path, value in env.items() if len(path) > 1}  # VIGIL_SOURCE alone is not an override
    environ = {ENV_PREFIX + "__".join(p.upper() for p in path): value for path, value in env.items()}
    check(lambda: load_settings(None, environ=environ), list(env), dict(env))


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)  # a TOML basic string (JSON's escapes are TOML's)


def to_toml(tree: dict[tuple[str, ...], Any]) -> str:
    tables: dict[tuple[str, ...], list[str]] = {}
    for path, value in tree.items():
        tables.setdefault(path[:-1], []).append(f"{json.dumps(path[-1])} = {toml_value(value)}")
    out = []
    for table, lines in sorted(tables.items()):
        if table:
            out.append("[" + ".".join(json.dumps(p) for p in table) + "]")
        out += lines
    return "\n".join(out) + "\n"


@st.composite
def file_and_env(draw: st.DrawFn) -> tuple[dict, dict]:
    """A settings file's keys (real, made up, whole sections as one value) and a few environment overrides, some
    of them under a section the file gives."""
    tree = draw(st.dictionaries(st.sampled_from(KEYS) | key_path, st.one_of(scalar, st.lists(scalar, max_size=3)),
                                max_size=8))
    env = draw(st.dictionaries(st.sampled_from(KEYS), env_text, max_size=2))
    under = [k for k in KEYS if any(k[:len(p)] == p and k != p for p in tree)]
    if under and draw(st.booleans()) is True:
        env[draw(st.sampled_from(under))] = draw(env_text)
    return tree, env


@given(case=file_and_env())
def test_a_generated_settings_file_gives_settings_or_a_config_error_naming_the_key(case: tuple[dict, dict]) -> None:
    tree, env = case
    environ = {ENV_PREFIX + "__".join(p.upper() for p in path): value for path, value in env.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vigil.toml"
        path.write_text(to_toml(tree), encoding="utf-8", errors="surrogatepass")
        settings = check(lambda: load_settings(path, environ=environ), [*tree, *env], {**tree, **env})
    # a whole section given as one value is an error, never silently replaced by an override
    assert settings is None or not any(p in SECTIONS and not isinstance(v, dict) for p, v in tree.items()
                                       if not any(k[:len(p)] == p and k != p for k in tree))


@given(data=st.binary(max_size=400))
def test_any_bytes_as_the_settings_file_give_settings_or_a_config_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vigil.toml"
        path.write_bytes(data)
        try:
            load_settings(path, environ={})
        except ConfigError as exc:
            assert str(exc).strip()


def test_a_client_certificate_without_its_key_is_named_with_its_value() -> None:
    """Found by the derandomized profile after new settings changed its examples: the pairing rule's message named
    the keys but not the value given."""
    check(lambda: load_settings(None, environ={ENV_PREFIX + "UPLINK__CERT_FILE": "0"}), [("uplink", "cert_file")],
          {("uplink", "cert_file"): "0"})
