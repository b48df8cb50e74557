"""Layering holds: import-linter's contracts pass, and the core imports no framework, client or provider SDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("rebooking_core", "consent", "locales", "conversations")
FORBIDDEN = ("fastapi", "starlette", "httpx", "redis", "twilio", "pywa", "pywa_async", "aiohttp", "slack_sdk", "slack_bolt")


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module an `import` or `from … import` names, lazy imports inside functions included."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden_imports(source: str) -> set[str]:
    return {m for m in imported_modules(ast.parse(source)) if m.split(".")[0] in FORBIDDEN}


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("package", CORE)
def test_the_core_imports_no_framework_client_or_provider_sdk(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in files
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_ast_walk_sees_every_import_form() -> None:
    source = (
        "import redis.asyncio as r\n"
        "from fastapi import APIRouter\n"
        "from . import sibling\n"
        "def lazy():\n"
        "    import httpx\n"
        "    from twilio.rest import Client\n"
        "if TYPE_CHECKING:\n"
        "    from pywa_async import WhatsApp\n"
        "import fastapi_utils\n"
    )
    assert forbidden_imports(source) == {"redis.asyncio", "fastapi", "httpx", "twilio.rest", "pywa_async"}
