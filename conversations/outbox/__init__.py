"""The outbox: one dispatcher sends every message in lanes, renders it, paces it and dead-letters what cannot go."""
