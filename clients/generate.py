"""Regenerate the Python client (`clients/python/`, package `rebook_client`) from the app's OpenAPI document.

`make client` runs this. The document is the one the gateway serves at /openapi.json, for the /v1
routes, from the sandbox's settings (with no REBOOK_* variable read, so every machine makes the same
one); it is written to `clients/openapi.json` beside the client. The generator is
openapi-python-client (pinned in pyproject.toml's dev extras), run with `clients/python-client.yaml`;
its post-hooks run ruff from this virtualenv. `tests/clients/test_client_is_fresh.py` fails when the
committed client differs from what this produces.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCUMENT = HERE / "openapi.json"
CONFIG = HERE / "python-client.yaml"
CLIENT = HERE / "python"
PREFIX = "/v1/"


@contextlib.contextmanager
def _no_rebook_environment() -> Iterator[None]:
    """Settings read only what is passed: the document must not depend on who generates it."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("REBOOK_")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def _title(key: str) -> str:
    """`gateway__http__escalations__FlightNamed` → `EscalationsFlightNamed` (the generator names models by title)."""
    module, name = key.split("__")[-2:]
    return "".join(part.capitalize() for part in module.split("_")) + name


def document() -> dict[str, Any]:
    """The /v1 part of the app's OpenAPI document, schemas FastAPI had to qualify given distinct titles."""
    sys.path.insert(0, str(ROOT))
    with _no_rebook_environment():
        from gateway.container import build
        from gateway.http.app import create_app
        from gateway.settings import Settings

        settings = Settings(_env_file=None, sandbox=True, database_url="sqlite+aiosqlite://")  # type: ignore[call-arg]
        doc = create_app(build(settings)).openapi()
    doc = dict(json.loads(json.dumps(doc)))
    doc["paths"] = {path: ops for path, ops in doc["paths"].items() if path.startswith(PREFIX)}
    for key, schema in doc.get("components", {}).get("schemas", {}).items():
        if "__" in key:
            schema["title"] = _title(key)
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(doc: dict[str, Any], into: Path) -> None:
    """The client for `doc`, written to `into` (replaced)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "openapi.json"
        source.write_text(render(doc))
        out = Path(tmp) / "python"
        command = [
            str(Path(sys.executable).parent / "openapi-python-client"), "generate",
            "--path", str(source), "--output-path", str(out), "--config", str(CONFIG), "--meta", "setup",
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not (out / "rebook_client").is_dir():
            raise RuntimeError(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")
        shutil.rmtree(out / ".ruff_cache", ignore_errors=True)  # left by the post-hooks
        if into.exists():
            shutil.rmtree(into)
        shutil.copytree(out, into)


def main() -> int:
    doc = document()
    DOCUMENT.write_text(render(doc))
    generate(doc, CLIENT)
    print(f"wrote {DOCUMENT.relative_to(ROOT)} and {CLIENT.relative_to(ROOT)}/ ({len(doc['paths'])} paths)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
