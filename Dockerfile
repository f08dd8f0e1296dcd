# syntax=docker/dockerfile:1
# Build: docker build -t briefboard .
# Migrate (once per release, not at every start; no JWT secret needed):
#   docker run --rm -e ENVIRONMENT=production -e DATABASE_URL=... briefboard briefboard migrate
# Serve: docker run -e DATABASE_URL=... -e JWT_SECRET=... -e WEBHOOKS_ENCRYPTION_KEY=... \
#   -e WEB_CONCURRENCY=2 -p 8000:8000 briefboard
# Or everything at once: docker compose up (compose.yaml; README: Deployment).
# .ci/run lints this file (hadolint) and runs its steps outside Docker.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Every dependency at the version and hash of the lock file (`make lock` writes it from
# uv.lock); nothing resolves at build time, and the development extra stays out.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY api ./api
RUN pip install --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    ENVIRONMENT=production \
    WEB_CONCURRENCY=2 \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 briefboard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home briefboard
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=10001:10001 alembic.ini ./
COPY --chown=10001:10001 migrations ./migrations
COPY --chown=10001:10001 api ./api
# Numeric, so a runtime that forbids root (runAsNonRoot) can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8000
# `briefboard healthcheck` asks http://127.0.0.1:$PORT/healthz: it follows PORT when it moves.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["briefboard", "healthcheck"]
# PYTHONPATH=/app: the code runs from /app, beside alembic.ini and migrations/.
# The worker count comes from WEB_CONCURRENCY; DATABASE_URL, JWT_SECRET and
# WEBHOOKS_ENCRYPTION_KEY are required.
CMD ["briefboard", "serve"]
