"""Budgets for the bad-input suite: `make test` runs a short one (profile "ci"), `make fuzz` a long one ("fuzz").

Every test here is marked ``fuzz`` and drives real entry points (config loader, CSV replay, Modbus codec, MQTT
JSON/Sparkplug decoders, confirmation parsing, model bundles) with generated hostile input. Examples are not
stored between runs (no database in the checkout), so a CI run is reproducible from its printed seed.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", parent=settings.get_profile("ci"), max_examples=5000)
settings.load_profile(os.environ.get("VIGIL_HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fuzz/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.fuzz)
