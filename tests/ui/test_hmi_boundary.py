"""Screens see the documented API (app/hmi_api.py), not the engine's insides: checked on the source of app/ui."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "app" / "ui"

# The engine's parts. A screen that imported one could reach past the API (and break when the engine changes).
INSIDES = ("app.engine", "app.alarm_manager", "app.live", "app.store", "app.uplink", "app.diagnostics",
           "app.cloud_standin", "app.cloud_verdicts", "app.cloud_messages", "app.telemetry", "app.headless")
# Where an engine is built and handed to the window: the wiring point, and the harnesses that drive a real engine.
WIRING = {"app/ui/app.py", "app/ui/screenshots.py", "app/ui/screenshots_kpis.py",
          "app/ui/screenshots_manage.py"}
WIRING_DIRS = ("app/ui/bench/",)


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names (``from app import engine`` counts as ``app.engine``)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def is_inside(module: str) -> bool:
    return any(module == part or module.startswith(part + ".") for part in INSIDES)


def test_no_screen_imports_the_engine_or_its_parts() -> None:
    offenders = []
    for path in sorted(UI.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in WIRING or rel.startswith(WIRING_DIRS):
            continue
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            if is_inside(module):
                offenders.append(f"{rel}:{line} imports {module}")
    assert offenders == [], "app/ui must use app.hmi_api, not the engine's parts:\n" + "\n".join(offenders)


def test_no_screen_is_handed_an_engine() -> None:
    """Screens get an ``api`` (app.hmi_api.HmiApi); nothing outside the wiring point holds an ``engine``."""
    offenders = []
    for path in sorted(UI.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in WIRING or rel.startswith(WIRING_DIRS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.arg):
                name = node.arg
            elif isinstance(node, ast.Name):
                name = node.id
            elif isinstance(node, ast.Attribute):
                name = node.attr
            else:
                continue
            if name == "engine":
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == [], "an engine handed to a screen:\n" + "\n".join(offenders)


def test_the_rule_catches_every_form_of_import() -> None:
    """The check itself: plain, from-, aliased and function-level imports of an engine part are all found."""
    source = ("import app.engine\nfrom app import alarm_manager\nfrom app.live import EngineSnapshot as S\n"
              "def f():\n    from app.store.status import CommitPending\n"
              "from app.hmi_api import HmiApi\nfrom app.users import Action\nfrom app.ui import theme\n")
    caught = sorted({m for _, m in imported_modules(ast.parse(source)) if is_inside(m)})
    assert caught == ["app.alarm_manager", "app.engine", "app.live", "app.live.EngineSnapshot", "app.store.status",
                      "app.store.status.CommitPending"]


def test_the_window_is_built_from_the_api_only_at_the_wiring_point() -> None:
    """run_gui is the one place that turns an Engine into the API the window receives."""
    text = (UI / "app.py").read_text(encoding="utf-8")
    assert "MainWindow(EngineHmi(engine)" in text
