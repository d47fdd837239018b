# parallelprompt: one image for the producer, the workers, the emulator and the admin CLI.
# Two stages: the package is built and installed into a virtualenv in `build`; the runtime
# stage copies only that virtualenv (no sources, no build/ or *.egg-info, no pip cache).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY parallelprompt ./parallelprompt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install . \
    && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PARALLELPROMPT_DB=/data/parallelprompt.db \
    PARALLELPROMPT_LOG_FORMAT=json \
    HF_HOME=/data/hf
# uid 10001 owns /data (the database volume) and /work, the working directory, so that
# relative outputs (`report --out report.html`) can be written.
RUN useradd --create-home --uid 10001 parallelprompt \
    && mkdir -p /data /input /work \
    && chown parallelprompt /data /work
COPY --from=build /opt/venv /opt/venv

USER parallelprompt
WORKDIR /work
VOLUME ["/data"]

# Workers serve /healthz on PARALLELPROMPT_METRICS_PORT; the check passes trivially for the
# one-shot producer and the CLI, which have no port (compose overrides it per service anyway).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["sh", "-c", "[ -z \"$PARALLELPROMPT_METRICS_PORT\" ] || python -m parallelprompt.healthcheck http://127.0.0.1:$PARALLELPROMPT_METRICS_PORT/healthz"]

ENTRYPOINT []
CMD ["parallelprompt", "--help"]
