"""The conversations rig, built with a tracer that keeps its spans in memory, and metric readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.sandbox import Sandbox
from gateway.container import build
from gateway.observability.tracing import Tracing
from gateway.settings import Settings, TracingSettings
from infra import crypto
from tests.conversations.conftest import Clock, Rig, _network

Labels = tuple[tuple[str, str], ...]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def rig(engine: AsyncEngine, clock: Clock, spans: InMemorySpanExporter) -> AsyncIterator[Rig]:
    previous = crypto.keyring()
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(sandbox=True, database_url=url, _env_file=None)  # type: ignore[call-arg]
    sandbox = Sandbox()
    c = build(settings, clock=clock, sandbox=sandbox, tracing=Tracing(TracingSettings(), exporter=spans))
    await c.start()
    try:
        disrupted, alternatives = await _network(c, clock)
        yield Rig(c, sandbox, clock, disrupted, alternatives)
    finally:
        await c.aclose()
        crypto.configure(previous)


def parse(text: str) -> dict[tuple[str, Labels], float]:
    """Every sample of a Prometheus text exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scraped(rig: Rig) -> dict[tuple[str, Labels], float]:
    """What a scrape of this container's /metrics would show (database gauges refreshed)."""
    from gateway.observability.metrics_server import scrape

    return parse((await scrape(rig.c)).decode())


def value(samples: dict[tuple[str, Labels], float], name: str, **labels: Any) -> float:
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


def finished(rig: Rig, spans: InMemorySpanExporter) -> list[ReadableSpan]:
    rig.c.tracing.flush()
    return list(spans.get_finished_spans())
