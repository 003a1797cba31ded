"""The HMI ships its fonts: every character the screens use is in them, and they are found on a gateway with no
system fonts at all (fontconfig pointed at an empty configuration)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication

from app.ui import theme

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "app" / "ui"


def ui_characters() -> dict[str, list[str]]:
    """Every non-ASCII character in a string of app/ui (escapes included), with the files that use it."""
    found: dict[str, set[str]] = {}
    for path in sorted(UI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for ch in node.value:
                    if ord(ch) > 127:
                        found.setdefault(ch, set()).add(str(path.relative_to(ROOT)))
    return {ch: sorted(paths) for ch, paths in found.items()}


def test_the_screens_use_non_ascii_characters_at_all() -> None:
    chars = ui_characters()
    assert "\u26a0" in chars and "\u25b6" in chars  # the scan sees \\u escapes: it is not vacuous


@pytest.mark.parametrize("name", theme.FONT_FILES)
def test_every_character_of_the_screens_is_in_the_shipped_font(qapp: QApplication, name: str) -> None:
    raw = QRawFont(str(theme.FONT_DIR / name), theme.FONT_PX)
    assert raw.isValid(), name
    missing = {f"U+{ord(ch):04X}": paths for ch, paths in ui_characters().items() if not raw.supportsCharacter(ord(ch))}
    assert not missing, f"{name} has no glyph for {missing}: it would render as an empty box"


def test_the_shipped_fonts_are_registered_under_the_hmi_family(qapp: QApplication) -> None:
    ids = theme.load_fonts()
    assert set(ids) == set(theme.FONT_FILES) and all(i >= 0 for i in ids.values())
    for font_id in ids.values():
        assert theme.FONT_FAMILY in QFontDatabase.applicationFontFamilies(font_id)
    assert theme.load_fonts() == ids  # once per process


def test_the_fonts_ship_with_their_licence_and_in_the_package_data() -> None:
    licence = (theme.FONT_DIR / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream" in licence and "Permission is hereby granted" in licence
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    globs = data["app.ui"]
    shipped = [p.relative_to(UI).as_posix() for p in (UI / "fonts").iterdir()] + ["sounds/alarm.wav"]
    for rel in shipped:
        assert any(fnmatch(rel, g) for g in globs), f"{rel} is not in app.ui's package data {globs}"


_PROBE = """
import json, sys
from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics, QGuiApplication
app = QGuiApplication([])
system = QFontDatabase.families()
from app.ui import theme
theme.load_fonts()
chars = json.loads(sys.argv[1])
out = {"system": system, "families": QFontDatabase.families()}
for bold in (False, True):
    f = theme.font(bold=bold)
    m = QFontMetrics(f)
    out["bold" if bold else "regular"] = {"family": QFontInfo(f).family(), "bold": QFontInfo(f).bold(),
                                          "missing": [c for c in chars if not m.inFontUcs4(ord(c))]}
print(json.dumps(out))
"""


def test_a_gateway_without_system_fonts_still_renders_every_glyph(tmp_path: Path) -> None:
    """fontconfig pointed at an empty configuration: no system font at all. The HMI's own fonts are found and
    have every character of the screens, regular and bold."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n", encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env.pop("FONTCONFIG_PATH", None)
    chars = sorted(ui_characters())
    run = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(chars)], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert theme.FONT_FAMILY not in out["system"], "system fonts were not hidden: the check would prove nothing"
    assert theme.FONT_FAMILY in out["families"]
    for weight in ("regular", "bold"):
        assert out[weight]["family"] == theme.FONT_FAMILY, out[weight]
        assert out[weight]["missing"] == [], f"{weight}: no glyph for {out[weight]['missing']}"
    assert out["bold"]["bold"]
