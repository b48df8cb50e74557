"""docker-compose.yml and the Dockerfile, checked by parsing (Docker cannot run here)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from tests.deploy.conftest import ROOT, load_yaml, setting_field

_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?(?::?\?[^}]*)?\}")
_REBOOK_VAR = re.compile(r"\bREBOOK_[A-Z0-9_]+\b")
APP_SERVICES = ("migrate", "gateway", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml("docker-compose.yml")
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = compose["services"]
    return result


def _rebook_variables() -> set[str]:
    """Every REBOOK_* name the compose file sets or interpolates."""
    return set(_REBOOK_VAR.findall((ROOT / "docker-compose.yml").read_text()))


def _defaults() -> dict[str, str]:
    """`${VAR:-default}` defaults by variable."""
    text = (ROOT / "docker-compose.yml").read_text()
    return {m.group(1): m.group(2) for m in _INTERPOLATION.finditer(text) if m.group(2) is not None}


def test_the_stack_has_every_service(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", "migrate", "gateway", "worker", "prometheus", "grafana"} <= set(services)


def test_the_checker_knows_a_missing_setting() -> None:
    assert setting_field("REBOOK_TWILIO__ACCOUNT_SID") is not None
    assert setting_field("REBOOK_TRACING__EXPORTER") is not None
    assert setting_field("REBOOK_TWILIO__NOPE") is None
    assert setting_field("REBOOK_DATABASE_URL__X") is None
    assert setting_field("REBOOK_HTTP_PORT") is None


def test_every_rebook_variable_is_a_setting_and_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    variables = _rebook_variables()
    assert {"REBOOK_DATABASE_URL", "REBOOK_REDIS_URL", "REBOOK_WORKER_METRICS_PORT", "REBOOK_LOG__FORMAT"} <= variables
    for name in sorted(variables):
        assert setting_field(name) is not None, f"{name} is not in gateway/settings.py"
        assert f"`{name.removeprefix('REBOOK_')}`" in readme or name in readme, f"{name} is not documented in README.md"


def test_an_unset_variable_never_blanks_a_meaningful_default() -> None:
    for name, default in _defaults().items():
        if not name.startswith("REBOOK_") or default:
            continue
        field = setting_field(name)
        assert field is not None and field.default is None, f"${{{name}:-}} would replace a real default with ''"


def test_the_app_services_share_one_environment_pointing_at_postgres_and_redis(services: dict[str, Any]) -> None:
    envs = [services[name]["environment"] for name in APP_SERVICES]
    shared = {k: v for k, v in envs[0].items()}
    for env in envs:
        assert {k: env[k] for k in shared} == shared
    assert shared["REBOOK_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in shared["REBOOK_DATABASE_URL"]
    assert shared["REBOOK_REDIS_URL"] == "redis://redis:6379/0"
    for secret in ("REBOOK_OPS_API_KEYS", "REBOOK_PII_KEYS", "REBOOK_BLIND_INDEX_KEY"):
        assert ":?" in shared[secret], f"{secret} must be required, never a built-in default"


def test_app_services_wait_for_healthy_postgres_and_redis_and_migrations(services: dict[str, Any]) -> None:
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("gateway", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_worker_scales_without_port_clashes(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["command"] == ["worker"]
    assert "ports" not in worker, "a published port would clash between replicas"
    assert "container_name" not in worker
    assert worker["deploy"]["replicas"] >= 2
    assert "serve" in services["gateway"]["command"] and "--no-worker" in services["gateway"]["command"]

    published: list[str] = []
    for service in services.values():
        for mapping in service.get("ports", []):
            host = str(mapping).rsplit(":", 1)[0]
            default = _INTERPOLATION.fullmatch(host)
            published.append(default.group(2) if default else host)
    assert len(published) == len(set(published)), published


def test_app_services_build_the_dockerfile_image(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["gateway"]["image"]
    assert (ROOT / "Dockerfile").is_file()


def test_the_dockerfile_ships_every_package_and_runs_rebook() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in packages:
        package = pattern.rstrip("*")
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.M), f"{package} is not copied into the image"
    assert re.search(r'^ENTRYPOINT \["rebook"\]$', dockerfile, re.M)
    assert re.search(r"^EXPOSE 8000 8001 9108$", dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the app does not run as root"
    assert "pip install --no-deps ." in dockerfile
