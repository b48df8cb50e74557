"""One trace from POST /v1/disruptions through the assess job and each batch to each send and booking."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from gateway.http.app import create_app
from gateway.observability.tracing import Tracing, make_exporter
from gateway.settings import Settings, TracingSettings
from rebooking_core.models import Disruption
from tests.conversations.conftest import Rig
from tests.fakes.server import LocalServer
from tests.gateway.observability.conftest import finished


@pytest.fixture
async def client(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://rebook.test", headers={"Authorization": "Bearer dev-ops-key"}
    ) as http:
        yield http


async def _post(rig: Rig, client: httpx.AsyncClient) -> int:
    f = rig.disrupted
    response = await client.post(
        "/v1/disruptions",
        json={"flight": {"carrier": f.carrier, "number": f.number, "date": f.service_date.isoformat()}, "kind": "cancelled"},
    )
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_batches_sends_and_bookings_join_the_disruption_trace(rig: Rig, client: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    people = [await rig.add_pax() for _ in range(3)]
    await _post(rig, client)
    await rig.c.jobs.wait_idle()
    await rig.c.dispatcher.drain()
    await rig.reply("sms", people[0], "1")
    await rig.c.dispatcher.drain()

    done = finished(rig, spans)
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in done:
        by_name.setdefault(span.name, []).append(span)
    [root] = by_name["POST /v1/disruptions"]
    [assess] = by_name["rebook.assess"]
    batches = by_name["rebook.offer_batch"]
    sends = by_name["send"]
    [booking] = by_name["booking"]
    assert root.parent is None
    assert root.context is not None and assess.context is not None
    trace_id = root.context.trace_id
    assert {s.context.trace_id for s in done if s.context is not None} == {trace_id}
    assert _parent(assess) == root.context.span_id
    assert batches and {_parent(b) for b in batches} == {assess.context.span_id}
    assert len(sends) == 4, "three offers and one confirmation"
    assert {_parent(s) for s in sends} == {root.context.span_id}
    assert _parent(booking) == root.context.span_id
    assert root.attributes is not None and root.attributes["flight"].startswith(rig.disrupted.carrier)
    assert all("+44" not in str(dict(s.attributes or {})) for s in done), "no phone number in span attributes"


async def test_a_failed_send_is_a_span_with_an_error_status(rig: Rig, client: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    from conversations.ports import ProviderUnavailable

    a = await rig.add_pax()
    await _post(rig, client)
    await rig.c.jobs.wait_idle()
    rig.sandbox.fail_next("sms", a.phone, ProviderUnavailable(code="503"))
    await rig.c.dispatcher.run_once()
    [send] = [s for s in finished(rig, spans) if s.name == "send"]
    assert not send.status.is_ok
    assert [e.name for e in send.events] == ["exception"]


async def test_without_an_exporter_nothing_is_traced_or_stored(rig: Rig) -> None:
    tracing = Tracing(TracingSettings())
    assert not tracing.enabled
    with tracing.span("anything"):
        assert tracing.current() is None
        assert tracing.labels() == {}
    rig.c.tracing = tracing
    await rig.add_pax()
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"Authorization": "Bearer dev-ops-key"}) as http:
        disruption_id = await _post(rig, http)
        await rig.c.jobs.wait_idle()
    async with rig.c.db.reading() as s:
        assert (await s.scalar(select(Disruption.trace_context).where(Disruption.id == disruption_id))) is None


async def test_the_disruption_row_keeps_its_traceparent(rig: Rig, client: httpx.AsyncClient) -> None:
    disruption_id = await _post(rig, client)
    await rig.c.jobs.wait_idle()
    async with rig.c.db.reading() as s:
        stored = await s.scalar(select(Disruption.trace_context).where(Disruption.id == disruption_id))
    assert stored is not None
    version, trace_id, span_id, flags = stored.split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    assert int(flags, 16) & 1, "sampled"


def test_exporter_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    monkeypatch.setenv("REBOOK_TRACING__EXPORTER", "otlp")
    monkeypatch.setenv("REBOOK_TRACING__ENDPOINT", "http://collector:4318/v1/traces")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.tracing.exporter == "otlp"
    assert settings.tracing.endpoint == "http://collector:4318/v1/traces"
    assert Settings(_env_file=None, sandbox=True, tracing={"exporter": "console"}).tracing.exporter == "console"  # type: ignore[call-arg, arg-type]
    assert isinstance(make_exporter(TracingSettings(exporter="console")), ConsoleSpanExporter)
    assert make_exporter(TracingSettings()) is None
    monkeypatch.setenv("REBOOK_TRACING__EXPORTER", "jaeger")
    with pytest.raises(ValueError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_otlp_export_reaches_a_collector_over_http() -> None:
    received: list[ExportTraceServiceRequest] = []
    collector = FastAPI()

    @collector.post("/v1/traces")
    async def traces(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        received.append(message)
        return Response(status_code=200)

    with LocalServer(collector) as srv:
        tracing = Tracing(TracingSettings(exporter="otlp", endpoint=f"{srv.url}/v1/traces", service_name="rebook-test"))
        with tracing.span("POST /v1/disruptions", flight="LH100/2031-01-01"), tracing.span("rebook.assess"):
            pass
        tracing.flush()
        tracing.shutdown()

    names = [span.name for req in received for rs in req.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert sorted(names) == ["POST /v1/disruptions", "rebook.assess"]
    resource = {a.key: a.value.string_value for a in received[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "rebook-test"
