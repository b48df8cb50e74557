"""The airline's systems behind rebook's ports: the built-in SQL store by default, or `HttpPss` (docs/pss.md).

Here rather than a root package of its own: like `gateway/outbound` (signed events to the airline),
it is an HTTP client to the airline's systems that only the composition root wires; the core codes
against `rebooking_core.airline.ports` and never imports it.
"""
