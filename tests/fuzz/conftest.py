"""Budgets for the bad-input suite: `make test` runs a short one (profile "ci"), `make fuzz` a long one ("fuzz").

Every test here is marked ``fuzz`` and drives real entry points (config loader, CSV replay, Modbus codec, MQTT
JSON/Sparkplug decoders, confirmation parsing, model bundles) with generated hostile input. The hypothesis
profiles live in tests/conftest.py: "ci" is derandomized (the same examples every run, so a red CI is about the
change), "fuzz" explores afresh each run.
"""
from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fuzz/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.fuzz)
