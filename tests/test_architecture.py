"""The architecture contracts in pyproject.toml (Qt only in app.ui; imports point one way) hold."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: " in proc.stdout and " broken" in proc.stdout


def test_headless_core_imports_without_qt() -> None:
    """The engine, detection and acquisition must import with PySide6 and pyqtgraph unavailable."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import main, app.engine, app.headless, app.sources, detection.offline, acquisition.csv_replay\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


HEAVY = ("sklearn", "pandas", "scipy")  # ~185 MB of RSS and seconds of start-up the gateway never needs


def test_the_running_gateway_imports_neither_sklearn_nor_pandas_nor_scipy() -> None:
    """The engine, the HMI and the headless entry point, imported in a fresh process, load none of the extras'
    packages (pyproject.toml: the 'train' and 'offline' extras), so a gateway installed without them runs."""
    code = (
        "import sys\n"
        "import main, app.engine, app.headless, app.sources, app.ui.app, detection.cloud.service\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


BLOCK = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {blocked!r}:\n"
    "            raise ModuleNotFoundError(f'No module named {{name!r}}', name=name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


@pytest.mark.parametrize(("module", "blocked", "extra"), [
    ("detection.offline", ("pandas",), "offline"),
    ("detection.cloud.train", ("sklearn",), "train"),
])
def test_training_and_the_offline_plug_in_name_the_extra_they_need(module: str, blocked: tuple[str, ...],
                                                                     extra: str) -> None:
    code = BLOCK.format(blocked=blocked) + f"import {module}\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError:") and f"'{extra}' extra" in last, proc.stderr
    assert f"pip install -e '.[{extra}]'" in last


def test_app_core_never_imports_the_ui() -> None:
    """Imports point one way: app.ui -> app. Checked by parsing every module of app outside app/ui."""
    import ast

    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "app").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)} imports {n}"
                          for n in names if n == "app.ui" or n.startswith("app.ui.")]
    assert offenders == []
