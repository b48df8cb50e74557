"""Ops broadcasts: one notice to everyone on a flight or at an airport, as outbox rows."""
