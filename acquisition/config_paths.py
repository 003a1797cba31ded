"""Finding a source's map file (Modbus register map, MQTT ingest map) from a path given in settings or on the
command line."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def resolve_map_path(path: str | os.PathLike[str]) -> Path:
    """As given when it exists (absolute or from the working directory), else from the project root, so the
    shipped maps under ``resources/`` are found from anywhere."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    candidate = PROJECT_ROOT / p
    return candidate if candidate.exists() else p
