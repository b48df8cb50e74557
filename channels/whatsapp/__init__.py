"""WhatsApp Cloud API adapter (Meta) through pywa_async: render, send, map errors, parse webhooks.

API: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
Setup: create a Meta app with the WhatsApp product, a system-user token with
`whatsapp_business_messaging`, an approved UTILITY template per message key and language (see
`channels.whatsapp.templates`), and subscribe the app's webhook to the `messages` field.
"""

from channels.whatsapp.client import WhatsAppChannel
from channels.whatsapp.inbound import parse_webhook, verify_signature
from channels.whatsapp.render import render_whatsapp

__all__ = ["WhatsAppChannel", "parse_webhook", "render_whatsapp", "verify_signature"]
