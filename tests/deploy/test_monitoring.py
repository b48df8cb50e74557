"""Alert rules, the Prometheus config and the Grafana dashboard refer only to metrics rebook exposes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy.conftest import ROOT, balanced, load_yaml, metric_names, unknown_metrics

_DURATION = re.compile(r"^\d+[smhd]$")


def _rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml("deploy/prometheus/alerts.yml")["groups"] for rule in group["rules"]]


def _panels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in items:
        out.append(panel)
        out.extend(_panels(panel.get("panels", [])))
    return out


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "deploy/grafana/dashboards/rebook.json").read_text())
    return data


def test_the_checker_catches_an_unknown_metric(known_metrics: set[str]) -> None:
    expr = 'sum(rate(rebook_sends_total{outcome="rebook_not_a_metric"}[5m])) / rebook_nope_total'
    assert metric_names(expr) == {"rebook_sends_total", "rebook_nope_total"}, "label values are not metric names"
    assert unknown_metrics(expr, known_metrics) == {"rebook_nope_total"}
    assert not balanced("sum(rate(rebook_sends_total[5m])")
    assert "rebook_option_generation_seconds_bucket" in known_metrics
    assert "rebook_option_generation_seconds" not in known_metrics, "a histogram is queried by its suffixed series"


def test_every_alert_is_well_formed_and_uses_known_metrics(known_metrics: set[str]) -> None:
    rules = _rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        expr = rule["expr"]
        assert balanced(expr), rule["alert"]
        assert metric_names(expr) or "up{" in expr, f"{rule['alert']} reads no rebook metric"
        assert unknown_metrics(expr, known_metrics) == set(), rule["alert"]
        assert _DURATION.match(str(rule["for"])), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


@pytest.mark.parametrize(
    ("metric", "threshold", "severity"),
    [
        ("rebook_option_generation_seconds_bucket", "> 5", "critical"),
        ("rebook_option_generation_seconds_bucket", "> 3", "warning"),
        ("rebook_kpi_passengers", "> 0.20", "critical"),
        ("rebook_sends_total", "> 0.01", "critical"),
    ],
)
def test_the_seed_slas_have_alerts(metric: str, threshold: str, severity: str) -> None:
    matching = [
        r for r in _rules() if metric in metric_names(r["expr"]) and threshold in r["expr"] and r["labels"]["severity"] == severity
    ]
    assert len(matching) == 1


def test_prometheus_loads_the_rules_and_scrapes_gateway_and_every_worker() -> None:
    config = load_yaml("deploy/prometheus/prometheus.yml")
    compose = load_yaml("docker-compose.yml")["services"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["prometheus"]["volumes"] if v.startswith("./")}
    for rule_file in config["rule_files"]:
        assert (ROOT / mounts[rule_file]).is_file()
    assert (ROOT / mounts["/etc/prometheus/prometheus.yml"]) == ROOT / "deploy/prometheus/prometheus.yml"

    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    admin_port = compose["gateway"]["environment"]["REBOOK_ADMIN__PORT"]  # /metrics is on the admin listener
    assert jobs["rebook-gateway"]["static_configs"][0]["targets"] == [f"gateway:{admin_port}"]
    assert jobs["rebook-gateway"]["metrics_path"] == "/metrics"
    [discovery] = jobs["rebook-worker"]["dns_sd_configs"]
    worker_env = compose["worker"]["environment"]
    assert discovery["names"] == ["worker"]
    assert discovery["port"] == int(worker_env["REBOOK_WORKER_METRICS_PORT"])
    assert worker_env["REBOOK_WORKER_METRICS_HOST"] == "0.0.0.0", "the default 127.0.0.1 is unreachable from Prometheus"


def test_every_dashboard_query_uses_known_metrics(known_metrics: set[str]) -> None:
    panels = [p for p in _panels(_dashboard()["panels"]) if p["type"] != "row"]
    assert len(panels) >= 20
    used: set[str] = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert balanced(target["expr"]), panel["title"]
            assert unknown_metrics(target["expr"], known_metrics) == set(), panel["title"]
            used |= metric_names(target["expr"])
    kpis = {
        "rebook_time_to_first_option_seconds_bucket",
        "rebook_time_to_booking_seconds_bucket",
        "rebook_self_service_ratio",
        "rebook_escalation_ratio",
        "rebook_acceptance_ratio",
        "rebook_outbox_messages",
        "rebook_jobs_waiting",
        "rebook_job_duration_seconds_bucket",
        "rebook_sends_total",
        "rebook_delivery_latency_seconds_bucket",
        "rebook_webhook_rejections_total",
    }
    assert kpis <= used


def test_dashboard_ids_datasource_and_provisioning_agree() -> None:
    dashboard = _dashboard()
    panels = _panels(dashboard["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    [datasource] = load_yaml("deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == datasource["uid"]
            assert {t["datasource"]["uid"] for t in panel["targets"]} == {datasource["uid"]}

    [provider] = load_yaml("deploy/grafana/provisioning/dashboards/rebook.yml")["providers"]
    grafana = load_yaml("docker-compose.yml")["services"]["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"] if v.startswith("./")}
    assert (ROOT / mounts[provider["options"]["path"]] / "rebook.json").is_file()
    assert (ROOT / mounts["/etc/grafana/provisioning"] / "dashboards" / "rebook.yml").is_file()
