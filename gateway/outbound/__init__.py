"""Signed outbound events to the airline's systems: subscriptions, routing, Standard Webhooks delivery (docs/webhooks.md)."""
