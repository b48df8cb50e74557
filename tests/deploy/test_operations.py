"""The production shape, checked by parsing (Docker cannot run here): settings through .env, the admin port,
Alertmanager to a webhook and Slack, the Caddy example, no default Grafana password, a worker health check
that can fail, and the dependency lock the image installs."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.settings import AdminSettings, Settings
from tests.deploy.conftest import ROOT, load_yaml

APP_SERVICES = ("migrate", "gateway", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml("docker-compose.yml")["services"]
    return data


def test_every_setting_reaches_the_app_services_through_env_file(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        files = services[name]["env_file"]
        assert [f["path"] if isinstance(f, dict) else f for f in files] == [".env"], name
    assert services["gateway"]["environment"]["REBOOK_LOG__FORMAT"] == "json"


def test_metrics_are_scraped_on_the_admin_port_which_is_never_published(services: dict[str, Any]) -> None:
    gateway = services["gateway"]
    port = gateway["environment"]["REBOOK_ADMIN__PORT"]
    assert port == str(AdminSettings().port)
    assert gateway["environment"]["REBOOK_ADMIN__HOST"] == "0.0.0.0"
    assert not any(str(p).endswith(f":{port}") for p in gateway["ports"])
    prometheus = load_yaml("deploy/prometheus/prometheus.yml")
    [job] = [j for j in prometheus["scrape_configs"] if j["job_name"] == "rebook-gateway"]
    assert job["static_configs"][0]["targets"] == [f"gateway:{port}"]


def test_alertmanager_routes_every_alert_to_a_webhook_and_slack(services: dict[str, Any]) -> None:
    prometheus = load_yaml("deploy/prometheus/prometheus.yml")
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    manager = services["alertmanager"]
    assert "./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in manager["volumes"]
    assert "alertmanager" in services["prometheus"]["depends_on"]

    config = load_yaml("deploy/alertmanager/alertmanager.yml")
    receivers = {r["name"]: r for r in config["receivers"]}
    routes = config["route"]["routes"]
    assert routes[0]["continue"] is True, "the first route must let the alert on to the next receiver"
    routed = {config["route"]["receiver"], *(r["receiver"] for r in routes)}
    assert {"oncall-webhook", "ops-slack"} <= routed
    webhook = receivers["oncall-webhook"]["webhook_configs"][0]
    slack = receivers["ops-slack"]["slack_configs"][0]
    assert webhook["url_file"] == "/run/secrets/alert_webhook_url"
    assert config["global"]["slack_api_url_file"] == "/run/secrets/alert_slack_webhook_url"
    assert slack["channel"] and slack["send_resolved"]
    compose = load_yaml("docker-compose.yml")
    for secret in manager["secrets"]:
        assert compose["secrets"][secret]["environment"].startswith("ALERT_"), "URLs come from the environment, not a file in the repository"
    text = (ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    assert "hooks.slack.com" not in text and "api_url:" not in text


def test_caddy_terminates_tls_for_the_public_host_and_forwards_only_the_public_port(services: dict[str, Any]) -> None:
    caddy = services["caddy"]
    assert caddy["profiles"] == ["proxy"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert ":?" in caddy["environment"]["PUBLIC_HOST"]
    config = (ROOT / "deploy/caddy/Caddyfile").read_text()
    assert re.search(r"^\{\$PUBLIC_HOST\} \{$", config, re.M), "a site block per host: Caddy gets its certificate"
    assert "reverse_proxy gateway:8000" in config and "gateway:8001" not in config
    assert re.search(r"@admin path /metrics .*/docs .*/openapi\.json", config)
    assert "max_size 4MB" in config and "read_header 10s" in config


def test_grafana_has_no_default_password(services: dict[str, Any]) -> None:
    password = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert ":?" in password and ":-" not in password
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert ":?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_the_worker_health_check_asks_the_endpoint_that_fails_when_stuck(services: dict[str, Any]) -> None:
    worker = services["worker"]
    port = worker["environment"]["REBOOK_WORKER_METRICS_PORT"]
    test = " ".join(worker["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in test
    assert Settings.model_fields["worker_metrics_port"].default == int(port)
    rules = [r for g in load_yaml("deploy/prometheus/alerts.yml")["groups"] for r in g["rules"]]
    assert any("rebook_worker_loop_age_seconds" in r["expr"] for r in rules)


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_dependency_at_the_version_pyproject_asks_for() -> None:
    pins = _lock()
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for raw in dependencies:
        req = Requirement(raw)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: .venv/bin/python deploy/lock.py > requirements.lock"
        assert req.specifier.contains(pins[name]), f"{req.name}: lock has {pins[name]}, pyproject asks {req.specifier}"
    assert not {"pytest", "mypy", "ruff", "hypothesis"} & set(pins), "dev tools stay out of the image"


def test_the_lock_is_the_closure_deploy_lock_computes() -> None:
    """Stale when a dependency changed and the lock was not regenerated."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_lock", ROOT / "deploy" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert module.closure(dependencies) == _lock()


def test_the_image_installs_the_lock_then_rebook_without_resolving_again() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    lock = dockerfile.index("RUN pip install --no-deps -r requirements.lock")
    assert dockerfile.index("COPY requirements.lock ./") < lock < dockerfile.index("RUN pip install --no-deps . && pip check")
