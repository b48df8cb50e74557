"""The HTTP surface: the FastAPI app, the ops API, provider webhooks and RFC 9457 problems."""
