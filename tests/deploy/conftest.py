"""Parsing helpers for the deployment files: PromQL metric names, compose variables, settings fields."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from gateway.observability.metrics import Metrics
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_METRIC = re.compile(r"\b(rebook_[a-zA-Z0-9_]+)\b")
_PAIRS = {")": "(", "]": "[", "}": "{"}


def metric_names(expr: str) -> set[str]:
    """rebook_* series names in a PromQL expression, label values (quoted strings) left out."""
    return set(_METRIC.findall(_QUOTED.sub('""', expr)))


def unknown_metrics(expr: str, known: set[str]) -> set[str]:
    return metric_names(expr) - known


def balanced(expr: str) -> bool:
    stack: list[str] = []
    for ch in _QUOTED.sub('""', expr):
        if ch in "([{":
            stack.append(ch)
        elif ch in _PAIRS and (not stack or stack.pop() != _PAIRS[ch]):
            return False
    return not stack


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text())


def setting_field(variable: str) -> FieldInfo | None:
    """The Settings field a REBOOK_* variable sets (`__` nests), or None when there is none."""
    parts = variable.removeprefix("REBOOK_").lower().split("__")
    model: type[BaseModel] = Settings
    field: FieldInfo | None = None
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        if i < len(parts) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            model = annotation
    return field


@pytest.fixture(scope="session")
def known_metrics() -> set[str]:
    return Metrics().names()
