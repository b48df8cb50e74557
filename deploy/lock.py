"""Write requirements.lock: the closure of pyproject.toml's [project] dependencies, pinned as installed here.

Run from the repository root after changing a dependency: `.venv/bin/python deploy/lock.py > requirements.lock`.
The Dockerfile installs exactly these (`pip install --no-deps -r requirements.lock`); tests/deploy checks
that every dependency of pyproject.toml is in it at the pinned version.
"""

import tomllib
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(dependencies: list[str]) -> dict[str, str]:
    """Every distribution the dependencies need (with their extras, markers evaluated here) -> version."""
    seen: dict[str, tuple[str, frozenset[str]]] = {}
    todo = [Requirement(d) for d in dependencies]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            raise SystemExit(f"not installed: {req}") from None
        before = seen.get(key, ("", frozenset()))[1]
        if key in seen and frozenset(req.extras) <= before:
            continue
        extras = before | frozenset(req.extras)
        seen[key] = (dist.version, extras)
        for raw in dist.requires or []:
            needed = Requirement(raw)
            contexts = [{"extra": e} for e in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(c) for c in contexts):
                todo.append(needed)
    return {key: version for key, (version, _) in seen.items()}


def main() -> None:
    with open("pyproject.toml", "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    print("# The image's dependencies, pinned: the closure of pyproject.toml's [project] dependencies as installed")
    print("# and tested (python 3.11, linux). The Dockerfile installs exactly these (pip install --no-deps).")
    print("# Regenerate after changing a dependency: .venv/bin/python deploy/lock.py > requirements.lock")
    for key, version in sorted(closure(dependencies).items()):
        print(f"{key}=={version}")


if __name__ == "__main__":
    main()
