# parallelprompt: one image for the producer, the workers and the emulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PARALLELPROMPT_DB=/data/parallelprompt.db \
    PARALLELPROMPT_LOG_FORMAT=json \
    HF_HOME=/data/hf

WORKDIR /app
COPY pyproject.toml README.md ./
COPY parallelprompt ./parallelprompt
COPY producer ./producer
COPY worker ./worker
COPY prompts ./prompts
COPY db ./db
COPY emulator ./emulator
COPY catalogue ./catalogue
RUN pip install . \
    && useradd --create-home --uid 10001 parallelprompt \
    && mkdir -p /data /input \
    && chown parallelprompt /data

USER parallelprompt
VOLUME ["/data"]

# Workers serve /healthz on PARALLELPROMPT_METRICS_PORT; the check passes trivially for the
# one-shot producer, which has no port (compose overrides it per service anyway).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["sh", "-c", "[ -z \"$PARALLELPROMPT_METRICS_PORT\" ] || python -m parallelprompt.healthcheck http://127.0.0.1:$PARALLELPROMPT_METRICS_PORT/healthz"]

ENTRYPOINT []
CMD ["parallelprompt", "--help"]
