"""Provider adapters: each renders neutral messages for one channel and parses its inbound payloads."""
