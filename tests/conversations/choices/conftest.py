"""The choice journeys run with the passenger's own choices turned on (REBOOK_CHOICES__ENABLED, off by default)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"choices": {"enabled": True}}
