"""Consent ledger per passenger, channel and purpose, with provenance."""
