"""OpenTelemetry tracing, off by default: spans from a disruption through its batches to each send and booking."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import update

from gateway.settings import TracingSettings
from infra.db import Database
from rebooking_core.models import Disruption

log = logging.getLogger(__name__)

#: The carrier key of a W3C trace context, in job labels and in `disruptions.trace_context`.
TRACEPARENT = "traceparent"

_propagator = TraceContextTextMapPropagator()


def make_exporter(settings: TracingSettings) -> SpanExporter | None:
    if settings.exporter == "console":
        return ConsoleSpanExporter()
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.endpoint) if settings.endpoint else OTLPSpanExporter()
    return None


class Tracing:
    """One tracer provider per container (not the process-global one), so tests and apps never share spans."""

    def __init__(self, settings: TracingSettings, *, exporter: SpanExporter | None = None) -> None:
        exporter = exporter or make_exporter(settings)
        self.enabled = exporter is not None
        self._provider: TracerProvider | None = None
        if exporter is None:
            self._tracer: trace.Tracer = trace.NoOpTracer()
            return
        self._provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("rebook")

    @contextlib.contextmanager
    def span(self, name: str, *, parent: str | None = None, **attributes: str | int) -> Iterator[None]:
        """A span under `parent` (a traceparent) when given, else under whatever span is current."""
        if not self.enabled:
            yield
            return
        ctx = _propagator.extract({TRACEPARENT: parent}) if parent else None
        with self._tracer.start_as_current_span(name, context=ctx, attributes=attributes):
            yield

    @contextlib.contextmanager
    def continued(self, name: str, labels: Mapping[str, Any], **attributes: str | int) -> Iterator[None]:
        """A job's span, continuing the trace its kicker put in the job labels."""
        parent = labels.get(TRACEPARENT)
        with self.span(name, parent=parent if isinstance(parent, str) else None, **attributes):
            yield

    def current(self) -> str | None:
        """The current span as a traceparent, to carry to another process or store with a row."""
        if not self.enabled:
            return None
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=otel_context.get_current())
        return carrier.get(TRACEPARENT)

    def labels(self) -> dict[str, str]:
        """Job labels that make the kicked job's span a child of the current one."""
        current = self.current()
        return {TRACEPARENT: current} if current else {}

    async def remember(self, db: Database, disruption_id: int) -> None:
        """Store the current trace with the disruption, for sends and bookings that run outside its jobs."""
        current = self.current()
        if current is None:
            return
        async with db.transaction() as s:
            await s.execute(update(Disruption).where(Disruption.id == disruption_id).values(trace_context=current))

    def flush(self) -> None:
        if self._provider is not None:
            self._provider.force_flush()

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
