"""Composition root: settings, wiring, HTTP app, worker, CLI and the demo."""
