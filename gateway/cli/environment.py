"""Every REBOOK_* variable a process is given must be a setting: a misspelt one would otherwise be ignored
and its default (SQLite, no Redis) used without a word."""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import BaseModel

from gateway.settings import Settings

PREFIX = "REBOOK_"
#: Not settings: read by the tests, the benchmarks and `rebook serve` for its own worker processes.
NOT_SETTINGS = ("REBOOK_TEST_", "REBOOK_BENCH_", "REBOOK_SERVE_")


def _model(annotation: object) -> type[BaseModel] | None:
    """The settings section a field holds (`X` or `X | None`), or None for a plain value."""
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    candidates = typing.get_args(annotation) if union else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _walk(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, bool]]:
    """(variable, is a leaf) for every field; a section may also be given whole, as JSON."""
    for name, field in model.model_fields.items():
        # An aliased field is read by its alias (`REBOOK_EMAIL__FROM`), so that is the name to give.
        spelled = field.alias if isinstance(field.alias, str) else name
        section = _model(field.annotation)
        if spelled:
            variable = f"{prefix}{spelled.upper()}"
            yield variable, section is None
            if section is not None:
                yield from _walk(section, variable + "__")


def settings_variables() -> list[str]:
    """Every REBOOK_* variable that sets one value (no section given whole), in the model's order."""
    return list(dict.fromkeys(name for name, leaf in _walk(Settings, PREFIX) if leaf))


def _known() -> tuple[set[str], tuple[str, ...]]:
    walked = list(_walk(Settings, PREFIX))
    exact = {name for name, _ in walked}
    # Below a dict or list field (templates, routes) pydantic-settings reads deeper names too.
    deeper = tuple(f"{name}__" for name, leaf in walked if leaf)
    return exact, deeper


def unknown_variables(environ: Mapping[str, str | None]) -> list[str]:
    """One line per REBOOK_* name that sets nothing, naming the closest setting when there is one."""
    exact, deeper = _known()
    problems = []
    for raw in sorted(environ):
        name = raw.upper()
        if not name.startswith(PREFIX) or name.startswith(NOT_SETTINGS) or name in exact or name.startswith(deeper):
            continue
        close = difflib.get_close_matches(name, settings_variables(), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see .env.example for every setting"
        problems.append(f"{raw}: not a setting; {hint}")
    return problems


def given_variables(env_file: Path = Path(".env")) -> dict[str, str | None]:
    """The process environment over `.env` (as Settings reads them)."""
    from_file = dotenv_values(env_file) if env_file.is_file() else {}
    return {**from_file, **os.environ}
