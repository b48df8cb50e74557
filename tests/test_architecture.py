"""Layering holds: import-linter's contracts pass, and the core imports no framework, client or provider SDK."""

from __future__ import annotations

import ast
import re
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


#: `path/to/module.py:Name.attr` as docs/architecture.md names each hop of a reply.
_HOP = re.compile(r"`([a-z_/]+\.py):([A-Za-z_][\w.]*)`")


def _defines(tree: ast.AST, dotted: str) -> bool:
    """Whether `dotted` (a function, class, method, a function nested in one, or a module-level name) is defined."""
    if "." not in dotted and any(
        isinstance(node, ast.Assign | ast.AnnAssign)
        and any(isinstance(t, ast.Name) and t.id == dotted for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
        for node in ast.iter_child_nodes(tree)
    ):
        return True
    scope: list[ast.AST] = [tree]
    for part in dotted.split("."):
        found = [
            node
            for parent in scope
            for node in ast.walk(parent)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == part
        ]
        if not found:
            return False
        scope = found
    return True


def test_every_hop_the_architecture_page_names_exists() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    hops = _HOP.findall(page)
    assert len(hops) >= 10
    missing = [
        f"{path}:{name}"
        for path, name in hops
        if not (ROOT / path).is_file() or not _defines(ast.parse((ROOT / path).read_text(encoding="utf-8")), name)
    ]
    assert missing == []


def test_the_hop_check_notices_a_name_that_is_gone() -> None:
    tree = ast.parse("TABLE: dict = {}\nclass A:\n    async def run(self):\n        def inner():\n            pass\n")
    assert _defines(tree, "A.run") and _defines(tree, "A.run.inner") and _defines(tree, "TABLE")
    assert not _defines(tree, "A.walk") and not _defines(tree, "B")
