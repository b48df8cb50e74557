"""Inbound provider HTTP: verify signatures first, parse via `channels`, hand events to the engine."""
