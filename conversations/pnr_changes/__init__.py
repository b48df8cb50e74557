"""Booking against a remote PSS in two phases: the intent recorded with the choice, the PSS called outside it."""
