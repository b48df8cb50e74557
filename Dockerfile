# The one image for the gateway (`rebook serve`) and the workers (`rebook worker`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The pinned dependency set first (its own layer, rebuilt only when the lock changes), then rebook on top
# of it without resolving anything again: the image runs what the tests ran.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY rebooking_core ./rebooking_core
COPY conversations ./conversations
COPY channels ./channels
COPY webhooks ./webhooks
COPY consent ./consent
COPY locales ./locales
COPY gateway ./gateway
COPY infra ./infra
RUN pip install --no-deps . && pip check && useradd --system --uid 10001 --home-dir /app rebook

USER rebook
# 8000: the gateway's HTTP API and webhooks; 8001: its admin listener (/metrics, /docs); 9108: a worker's /metrics and /healthz.
EXPOSE 8000 8001 9108
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
ENTRYPOINT ["rebook"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
