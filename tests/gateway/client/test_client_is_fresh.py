"""The committed client and OpenAPI document are what `make client` makes from the app now."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("client_generator", ROOT / "clients" / "generate.py")
assert _spec is not None and _spec.loader is not None
generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generator)

STALE = "the committed client is stale: run `make client` and commit clients/"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_committed_document_is_the_apps() -> None:
    assert json.loads(generator.DOCUMENT.read_text()) == generator.document(), STALE


def test_the_committed_client_is_what_the_generator_makes(tmp_path: Path) -> None:
    fresh = tmp_path / "python"
    generator.generate(generator.document(), fresh)
    committed, made = _files(generator.CLIENT), _files(fresh)
    assert sorted(committed) == sorted(made), STALE
    assert [name for name in made if committed[name] != made[name]] == [], STALE


def test_every_v1_operation_is_in_the_client_but_the_text_feeds() -> None:
    doc = generator.document()
    modules = {p.stem for p in (generator.CLIENT / "rebook_client" / "api").rglob("*.py")}
    missing = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()} - modules
    # openapi-python-client generates no function for a text/plain body (IATA MVT/ASM feeds).
    assert missing == {"post_mvt", "post_asm"}, missing
