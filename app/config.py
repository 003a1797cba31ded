"""Vigil's one validated settings object: a TOML file, then environment overrides, checked once at start-up.

Environment overrides use ``VIGIL_<SECTION>__<KEY>`` (double underscore between levels), for example
``VIGIL_DETECTION__MIN_DURATION_S=10``. A bad value stops start-up with :class:`ConfigError`, whose message
names the key, the bad value and what is allowed.
"""
from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app import shifts

ENV_PREFIX = "VIGIL_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "resources" / "vigil.toml"
MAX_CONFIG_BYTES = 1 << 20  # the shipped file is ~5 KB; anything near this is not a settings file
MAX_PIN_DIGITS = 12  # the longest PIN the pad takes


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range; the message says which and what is allowed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SiteSettings(_Section):
    site_id: str = Field("plant-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    gateway_id: str = Field("gw-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class SimulatorSettings(_Section):
    n_pumps: int = Field(2, ge=1, le=50)
    sample_period_s: float = Field(1.0, gt=0, le=60)
    seed: int = Field(0, ge=0)
    start_stopped: bool = False
    regime_changes: bool = True
    # What a run on the simulator shows (acquisition/simulator/scenario.py): "demo" pre-runs the commissioning and
    # then faults pumps one after another; "none" is the plain simulation. Unset: "demo" (the simulator's default,
    # off when faults are injected with --inject); never with another source.
    scenario: Literal["demo", "none"] | None = None


class CsvSettings(_Section):
    path: str = ""
    format: Literal["skab", "plain"] = "skab"
    asset: str = Field("CSV-1", min_length=1)
    timestamp_column: str = "timestamp"


class MqttSourceSettings(_Section):
    # the ingest map (broker, JSON subscriptions, Sparkplug B mapping); relative paths are tried from the
    # working directory, then from the project root (docs/mqtt-ingest.md)
    map: str = Field("resources/mqtt/example.toml", min_length=1)


class ModbusSourceSettings(_Section):
    # the register map (devices, registers, encodings, poll rates); relative paths are tried from the working
    # directory, then from the project root (docs/modbus.md)
    map: str = Field("resources/modbus/simulator-tcp.toml", min_length=1)


class SourceSettings(_Section):
    kind: Literal["simulator", "csv", "mqtt", "modbus"] = "simulator"
    # Plant seconds per wall second for sources with a simulated clock (simulator, CSV replay); 0 = as fast as possible.
    speed: float = Field(1.0, ge=0, le=100_000)
    simulator: SimulatorSettings = SimulatorSettings()
    csv: CsvSettings = CsvSettings()
    mqtt: MqttSourceSettings = MqttSourceSettings()
    modbus: ModbusSourceSettings = ModbusSourceSettings()


class DetectionSettings(_Section):
    baseline_s: float = Field(300.0, ge=30, le=7 * 86400, description="commissioning window of running data")
    baseline_samples: int = Field(120, ge=20, le=100_000, description="...and at least this many samples")
    n_estimators: int = Field(100, ge=10, le=1000)
    max_samples: int = Field(256, ge=16, le=4096)
    seed: int = Field(0, ge=0)
    threshold: float = Field(1.25, gt=0, le=100, description="alarm when the normalised score exceeds this")
    clear_ratio: float = Field(0.5, gt=0, lt=1, description="hysteresis: clear below threshold * clear_ratio")
    min_duration_s: float = Field(20.0, ge=0, le=3600)
    min_duration_samples: int = Field(10, ge=1, le=1000, description="...and at least this many samples")
    dedup_window_s: float = Field(300.0, ge=0, le=86400)
    settle_s: float = Field(60.0, ge=0, le=3600, description="no alarms this long after a start or set-point change")
    top_channels: int = Field(3, ge=1, le=8)


class StorageSettings(_Section):
    path: str = "var/vigil.db"
    raw_retention_days: float = Field(7.0, gt=0, le=3650)
    batch_max: int = Field(2000, ge=1, le=100_000)


class EngineSettings(_Section):
    queue_size: int = Field(64, ge=1, le=100_000)
    join_timeout_s: float = Field(5.0, gt=0, le=120)
    comm_alarm_s: float = Field(5.0, ge=0, le=3600, description="a device silent this long raises a diagnostic alarm")
    quality_alarm_s: float = Field(10.0, ge=0, le=3600,
                                   description="a channel bad or stale this long raises a diagnostic alarm")
    hang_after_s: float = Field(60.0, ge=1, le=3600, description="a worker with no progress this long is hung: the "
                                "systemd watchdog pings stop and the service is restarted (docs/kiosk.md)")
    checks_every_s: float = Field(86400.0, ge=1, le=30 * 86400,
                                  description="the engine runs doctor's checks this often (docs/doctor.md)")
    checks_first_after_s: float = Field(600.0, ge=0, le=86400,
                                        description="...the first time this long after start (start-up stays fast)")


class CloudSettings(_Section):
    timeout_s: float = Field(30.0, gt=0, le=3600, description="no verdict this long: 'cloud unreachable - edge only'")
    late_verdict_s: float = Field(3600.0, ge=0, le=7 * 86400,
                                  description="a first verdict still counts this long after the time-out")
    standin_delay_s: float = Field(1.5, ge=0, le=600, description="the in-process stand-in's answer delay")
    standin_reachable: bool = True


class UplinkSettings(_Section):
    """The MQTT uplink (docs/uplink.md). No username or password here: they live in the keyring
    (``python main.py credentials set --username U``)."""

    enabled: bool = False
    host: str = Field("localhost", min_length=1, max_length=253, pattern=r"^[A-Za-z0-9_.:-]+$")
    port: int = Field(8883, ge=1, le=65535)
    tls: bool = Field(True, description="false only for a broker on this machine or a lab network")
    ca_file: str = Field("", description="CA certificate(s) that signed the broker's; empty = the system store")
    cert_file: str = Field("", description="client certificate for mutual TLS; empty = none")
    key_file: str = Field("", description="the client certificate's private key")
    client_id: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$",
                           description="empty = vigil-{site.gateway_id}")
    keepalive_s: int = Field(30, ge=5, le=3600)
    heartbeat_s: float = Field(30.0, ge=1, le=3600)
    session_expiry_s: int = Field(7 * 86400, ge=0, le=365 * 86400,
                                  description="broker keeps our subscription (confirmations) this long offline")
    outbox_max_age_days: float = Field(7.0, gt=0, le=365, description="older telemetry is dropped")
    outbox_max_rows: int = Field(200_000, ge=100, le=10_000_000, description="over this, oldest telemetry goes")
    drain_rate: float = Field(200.0, ge=0, le=1_000_000,
                              description="telemetry messages/s while a backlog drains; 0 = no limit")
    credentials_file: str = Field("", description="encrypted keyring file when no system keyring exists; "
                                                  "empty = $XDG_DATA_HOME/vigil/credentials.cfg")
    credentials_key_file: str = Field("", description="its key file (0600); empty = "
                                                      "$XDG_CONFIG_HOME/vigil/keyring.key")

    @model_validator(mode="after")
    def _key_needs_cert(self) -> UplinkSettings:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError(f"uplink.cert_file = {self.cert_file!r}, uplink.key_file = {self.key_file!r}: they go "
                             "together (mutual TLS needs both files; leave both empty for none)")
        return self


class ExportSettings(_Section):
    # A folder offered as an export destination besides mounted sticks (app/export/media.py); "" = sticks only
    folder: str = Field("", max_length=4096)

    @field_validator("folder")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if value and (not os.path.isabs(value) or "\0" in value):
            raise ValueError("must be an absolute folder path (e.g. /srv/vigil/exports) or \"\" for none")
        return value


class UiSettings(_Section):
    kiosk: bool = True
    auto_logout_s: float = Field(300.0, ge=10, le=86400)
    # Audible annunciation (app/annunciation.py): off by default, so the simulator demo and a desk stay quiet;
    # a plant panel turns it on in its settings file ([ui] sound = true).
    sound: bool = False


class UserSettings(_Section):
    """PIN rules and wrong-PIN lockouts (app/lockout.py): per user name and per panel, kept across restarts."""

    max_failures: int = Field(5, ge=1, le=20, description="wrong PINs in a row before that user is locked")
    panel_max_failures: int = Field(10, ge=1, le=100,
                                    description="wrong PINs at one panel, for any users, before the panel locks")
    lockout_steps_s: list[Annotated[float, Field(ge=1, le=86400)]] = Field(
        [60.0, 300.0, 900.0, 3600.0], min_length=1, max_length=10,
        description="lockout lengths, escalating with each lockout in a row; the last one repeats")
    min_pin_digits: int = Field(6, ge=4, le=MAX_PIN_DIGITS, description="shortest PIN a new or changed PIN may be")
    seed_demo_users: bool = True

    @field_validator("lockout_steps_s", mode="before")
    @classmethod
    def _steps_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: "60,300,900"
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("lockout_steps_s")
    @classmethod
    def _steps_escalate(cls, steps: list[float]) -> list[float]:
        if any(b < a for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError("each lockout must last at least as long as the one before (e.g. [60, 300, 900, 3600])")
        return steps

    @model_validator(mode="after")
    def _panel_limit_covers_user_limit(self) -> UserSettings:
        if self.panel_max_failures < self.max_failures:
            raise ValueError(f"users.panel_max_failures ({self.panel_max_failures}) must be at least "
                             f"users.max_failures ({self.max_failures}): the panel would lock before any user")
        return self


class ShiftSettings(_Section):
    """The shift pattern (app/shifts.py): local start times in one IANA zone; daylight saving is followed."""

    starts: list[str] = Field(["06:00", "14:00", "22:00"], description='local start times "HH:MM", increasing')
    timezone: str = Field("", description="IANA zone, e.g. 'Europe/Berlin'; empty = the system's local zone")

    @field_validator("starts", mode="before")
    @classmethod
    def _starts_checked(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: "06:00,14:00,22:00"
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            return value  # pydantic names the type error
        return [f"{t:%H:%M}" for t in shifts.parse_starts(value)]

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        shifts.resolve_zone(value)
        return value


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    dir: str = "var/log"


class Settings(_Section):
    site: SiteSettings = SiteSettings()
    source: SourceSettings = SourceSettings()
    detection: DetectionSettings = DetectionSettings()
    storage: StorageSettings = StorageSettings()
    engine: EngineSettings = EngineSettings()
    cloud: CloudSettings = CloudSettings()
    uplink: UplinkSettings = UplinkSettings()
    ui: UiSettings = UiSettings()
    users: UserSettings = UserSettings()
    shifts: ShiftSettings = ShiftSettings()
    export: ExportSettings = ExportSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _csv_needs_path(self) -> Settings:
        if self.source.kind == "csv" and not self.source.csv.path:
            raise ValueError("source.csv.path must name a CSV file when source.kind = 'csv'")
        return self

    @model_validator(mode="after")
    def _demo_only_on_the_simulator(self) -> Settings:
        """A gateway on a real plant never runs the demo: its faults would be alarms about pumps that are fine."""
        if self.source.kind != "simulator" and self.source.simulator.scenario == "demo":
            raise ValueError(f"source.simulator.scenario = 'demo' runs only on the built-in simulator, not with "
                             f"source.kind = {self.source.kind!r}; allowed with this source: 'none' or no "
                             f"scenario key")
        return self


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    set_by: dict[tuple[str, ...], str] = {}  # key path -> the variable that set it
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        if not all(p.strip("_") == p and p for p in parts):  # "___" cannot be split into levels unambiguously
            raise ConfigError(f"{name}: not a settings name (an empty level or a level starting or ending in _); "
                              f"allowed: {ENV_PREFIX}<SECTION>__<KEY>, e.g. {ENV_PREFIX}SOURCE__SPEED")
        node = tree
        for depth, part in enumerate(parts):
            path = tuple(parts[:depth + 1])
            last = depth == len(parts) - 1
            here = node.get(part)
            if (here is not None and not isinstance(here, dict)) or (last and isinstance(here, dict)):
                other = set_by.get(path) or next(v for k, v in set_by.items() if k[:len(path)] == path)
                raise ConfigError(f"{name} and {other} both set {'.'.join(path)}, once as a value and once as a "
                                  f"section; allowed: one of them")
            if last:
                node[part] = value
                set_by[path] = name
            else:
                node = node.setdefault(part, {})
    return tree


def _merge(base: Mapping[str, Any], over: Mapping[str, Any], origin: Mapping[tuple[str, ...], str] | None = None,
           prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        here = out.get(key)
        if isinstance(value, Mapping) and isinstance(here, Mapping):
            out[key] = _merge(here, value, origin, prefix + (key,))
        elif isinstance(value, Mapping) and here is not None:  # a section given as a plain value: not silently lost
            path = prefix + (key,)
            shown = repr(here) if len(repr(here)) <= 80 else repr(here)[:80] + "..."
            raise ConfigError(f"invalid configuration:\n  {'.'.join(path)} = {shown}{(origin or {}).get(path, '')}: "
                              f"must be a section ([{'.'.join(path)}]) of keys")
        else:
            out[key] = value
    return out


def _describe(err: ValidationError, origin: Mapping[tuple[str, ...], str]) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(str(p) for p in e["loc"])
        key = ".".join(loc) or "(top level)"
        src = origin.get(loc, "")
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key{src} (check the spelling; see resources/vigil.toml for every key)")
        elif e["type"] == "missing":
            lines.append(f"{key}: missing{src}")
        elif e["type"] == "value_error" and isinstance(value, dict):  # a rule across keys: its text names them
            lines.append(str(e["msg"]).removeprefix("Value error, "))
        else:
            shown = repr(value) if not isinstance(value, dict) else "{...}"
            if len(shown) > 80:
                shown = shown[:80] + f"... ({len(shown)} characters)"
            lines.append(f"{key} = {shown}{src}: {e['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _origins(tree: Mapping[str, Any], label: str, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for k, v in tree.items():
        path = prefix + (k,)
        if isinstance(v, Mapping):
            out.update(_origins(v, label, path))
        else:
            out[path] = label.format(env=ENV_PREFIX + "__".join(p.upper() for p in path))
    return out


def _read_toml(cfg_path: Path) -> dict[str, Any]:
    """The settings file's TOML: anything else (a folder, a device, a binary or huge file) is a ConfigError."""
    allowed = "allowed: a UTF-8 TOML file such as resources/vigil.toml"
    try:
        info = cfg_path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"config file {cfg_path} is a folder; {allowed}")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"config file {cfg_path} is not a regular file; {allowed}")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"config file {cfg_path} is too large ({info.st_size} bytes); {allowed} of at most "
                              f"{MAX_CONFIG_BYTES} bytes")
        raw = cfg_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {cfg_path}") from None
    except OSError as exc:
        raise ConfigError(f"config file {cfg_path} cannot be read: {exc.strerror or exc}; {allowed}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {cfg_path} is not a text file (not UTF-8 at byte {exc.start}); "
                          f"{allowed}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {cfg_path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {cfg_path} is nested too deeply to be a settings file; {allowed}") from None


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load the TOML file (the shipped default when ``path`` is None), apply env then explicit overrides."""
    cfg_path = Path(path) if path is not None else DEFAULT_CONFIG
    data = _read_toml(cfg_path)
    env = _env_overrides(os.environ if environ is None else environ)
    origin = _origins(data, f" (in {cfg_path.name})")
    origin.update(_origins(env, " (from {env})"))
    merged = _merge(_merge(data, env, origin), overrides or {}, origin)
    if overrides:
        origin.update(_origins(overrides, " (from the command line)"))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None


def with_changes(settings: Settings, changes: Mapping[str, Any], label: str = " (set on the panel)") -> Settings:
    """``settings`` with dotted keys changed (``{"ui.sound": True}``), checked by the same model as the file, so a
    bad value is the same :class:`ConfigError` the TOML loader gives (the key, the value, what is allowed)."""
    data = settings.model_dump()
    origin: dict[tuple[str, ...], str] = {}
    for key, value in changes.items():
        path = tuple(key.split("."))
        node = data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"{key}: not a settings key")
            node = node[part]
        if path[-1] not in node:
            raise ConfigError(f"{key}: unknown key (check the spelling; see resources/vigil.toml for every key)")
        node[path[-1]] = value
        origin[path] = label
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
