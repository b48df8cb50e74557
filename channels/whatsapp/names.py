"""The provider and channel names every WhatsApp send result and webhook event carries."""

from __future__ import annotations

PROVIDER = "meta"
CHANNEL = "whatsapp"
