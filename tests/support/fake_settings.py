"""The settings part of :class:`tests.support.fake_hmi.FakeHmi`: the real settings model and editor rules over
an in-memory copy (no database), so a bad value is refused with the loader's words, as on the engine."""
from __future__ import annotations

import threading

from app.config import Settings, with_changes
from app.hmi_api import Session
from app.settings_overrides import EDITABLE, MASK, SettingLine, Source, flat, is_secret, shown_value
from app.users import Action, require


class FakeSettings:
    settings: Settings

    def _init_settings(self) -> None:
        self.settings = Settings()
        self.panel_keys: set[str] = set()
        self.thresholds: dict[str, float] = {}
        self.settings_audit: list[tuple[str, str, object, object]] = []  # (who, key or asset, old, new)
        self.settings_threads: list[int] = []

    def setting_lines(self) -> list[SettingLine]:
        self.settings_threads.append(threading.get_ident())
        return [SettingLine(k, MASK if is_secret(k) and v else shown_value(v),
                            Source.PANEL if k in self.panel_keys else Source.FILE, k in EDITABLE)
                for k, v in flat(self.settings).items()]

    def asset_thresholds(self) -> dict[str, float]:
        self.settings_threads.append(threading.get_ident())
        return dict(self.thresholds)

    def change_setting(self, session: Session, key: str, value: object) -> None:
        self.settings_threads.append(threading.get_ident())
        require(session, Action.SETTINGS)
        if key not in EDITABLE:
            raise ValueError(f"{key} cannot be changed on the panel; allowed: {', '.join(EDITABLE)}")
        old = flat(self.settings)[key]
        self.settings = with_changes(self.settings, {key: value})
        self.panel_keys.add(key)
        self.settings_audit.append((session.user, key, old, flat(self.settings)[key]))

    def set_asset_threshold(self, session: Session, asset: str, value: float | None) -> None:
        self.settings_threads.append(threading.get_ident())
        require(session, Action.SETTINGS)
        if value is not None:
            value = with_changes(self.settings, {"detection.threshold": value}).detection.threshold
        old = self.thresholds.pop(asset, None)
        if value is not None:
            self.thresholds[asset] = value
        self.settings_audit.append((session.user, asset, old, value))
