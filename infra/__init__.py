"""Plumbing with no business rules: database, crypto, logging, Redis."""
