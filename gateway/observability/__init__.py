"""Metrics and tracing for the gateway and the workers."""
