"""Channel-agnostic conversation engine: states, events, decide(), outbox and timers."""
