# syntax=docker/dockerfile:1
# Build: docker build -t briefboard .
# Migrate (once per release, not at every start): docker run --rm -e DATABASE_URL=... briefboard briefboard migrate
# Serve: docker run -e DATABASE_URL=... -e JWT_SECRET=... -e WEB_CONCURRENCY=2 -p 8000:8000 briefboard

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY api ./api
RUN pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    ENVIRONMENT=production \
    WEB_CONCURRENCY=2 \
    HOST=0.0.0.0 \
    PORT=8000
RUN useradd --system --uid 10001 --home-dir /app briefboard
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=briefboard alembic.ini ./
COPY --chown=briefboard migrations ./migrations
COPY --chown=briefboard api ./api
USER briefboard
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# PYTHONPATH=/app: the code runs from /app, beside alembic.ini and migrations/.
# The worker count comes from WEB_CONCURRENCY; DATABASE_URL and JWT_SECRET are required.
CMD ["briefboard", "serve"]
