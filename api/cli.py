"""`briefboard` command: dev, serve, migrate, seed-demo, openapi, worker, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from api.settings import get_settings


def migrate(_: argparse.Namespace, database_url: str) -> int:
    from alembic import command

    from api.migrations_state import alembic_config

    config = alembic_config(database_url)
    config.attributes["configure_logging"] = False  # ours: JSON lines, set up in main()
    command.upgrade(config, "head")
    return 0


def serve(args: argparse.Namespace, _: str) -> int:
    # Uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills the process before `atexit` runs and the embedded PostgreSQL would be left
    # running. Turning it into SystemExit lets the normal exit path stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings = get_settings()
    secret_problem = settings.secrets_problem()
    if secret_problem is not None:
        print(secret_problem, file=sys.stderr)
        return 2
    workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", "1"))
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts its own requests; /metrics sums them from this directory.
        metrics_dir = tempfile.mkdtemp(prefix="briefboard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    index_dir = None
    if not os.environ.get("MATCH_INDEX_DIR"):
        # The workers share one copy of the match indexes through this directory.
        from api.matching.shared import make_run_directory

        index_dir = make_run_directory()
        os.environ["MATCH_INDEX_DIR"] = index_dir
        get_settings.cache_clear()
    if settings.metrics_port is not None:
        from api.observability import start_metrics_server

        start_metrics_server(args.host, settings.metrics_port)
    try:
        _run_uvicorn(args, workers)
    finally:
        for made in (metrics_dir, index_dir):
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
    return 0


def _run_uvicorn(args: argparse.Namespace, workers: int) -> None:
    import uvicorn

    from api.observability import logging_config

    settings = get_settings()
    options = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": workers,
        "proxy_headers": settings.trust_forwarded_for,
        "access_log": False,  # the app logs every request itself, as JSON with its request id
        # At SIGTERM: stop accepting, let requests in flight finish for at most this long.
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
        "server_header": False,  # no `server: uvicorn` banner
        "log_config": logging_config(settings.log_level),  # uvicorn's own lines as JSON
    }
    if workers == 1:
        uvicorn.run("api.main:create_app", **options)
        return
    # As uvicorn.run does for several workers, with a supervisor that stops listening at
    # once (see _Supervisor).
    config = uvicorn.Config("api.main:create_app", **options)
    _supervisor()(config, sockets=[config.bind_socket()]).run()


def _supervisor() -> Any:
    from uvicorn.supervisors.multiprocess import Multiprocess

    class _Supervisor(Multiprocess):
        """Uvicorn's worker supervisor, closing its own copy of the listening socket when it
        stops the workers. Each worker closes its copy as it starts draining; the
        supervisor's kept the socket listening until every worker had finished, so the
        kernel went on queueing new connections that nobody would accept, and reset them
        all at the exit. Now they are refused at once (a client or load balancer retries
        elsewhere)."""

        def terminate_all(self) -> None:
            for sock in self.sockets:
                sock.close()
            super().terminate_all()

    return _Supervisor


def seed_demo(_: argparse.Namespace, database_url: str) -> int:
    from api.demo import seed

    settings = get_settings()
    if settings.environment == "production":
        print("refusing to load demo data in production", file=sys.stderr)
        return 2
    created = asyncio.run(seed(database_url, settings))
    print("Demo data loaded." if created else "Demo data already present; left as it is.")
    from api.demo import print_logins

    print_logins()
    return 0


def openapi(args: argparse.Namespace, _: str | None = None) -> int:
    from api.main import create_app

    os.environ.setdefault("BRIEFBOARD_CONFIGURE_LOGGING", "0")
    document = json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(document)
    else:
        Path(args.output).write_text(document)
        print(f"wrote {args.output}")
    return 0


def _at_head(database_url: str) -> bool:
    """Whether the database is at the latest migration (a warm restart skips Alembic)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from api.migrations_state import current_revisions, head_revisions

    async def current() -> set[str]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await current_revisions(conn)
        except Exception:  # no alembic_version table yet: a fresh database
            return set()
        finally:
            await engine.dispose()

    return asyncio.run(current()) == head_revisions()


def _preload_app() -> None:
    import api.demo
    import api.main  # noqa: F401


def dev(args: argparse.Namespace, _: str | None = None) -> int:
    """`make run`: one PostgreSQL start (embedded unless DATABASE_URL) for migrate, demo data
    and serve, each step announced with its time."""
    from api.embedded import database_url

    # From the first step on, SIGTERM unwinds through the `with` below and stops PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.monotonic()

    def step(text: str) -> None:
        print(f"[dev +{time.monotonic() - started:4.1f}s] {text}", file=sys.stderr, flush=True)

    # The app's modules load while PostgreSQL starts (a subprocess the main thread waits on).
    threading.Thread(target=_preload_app, name="preload", daemon=True).start()
    settings = get_settings()
    if settings.database_url:
        step("1/4 PostgreSQL: DATABASE_URL")
    else:
        pgdata = settings.data_dir.resolve() / "postgres"
        first = "" if pgdata.exists() else " (first run: creating the cluster)"
        step(f"1/4 PostgreSQL: starting the embedded server in {pgdata}{first}")
    with database_url(settings) as url:
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        if _at_head(url):
            step("2/4 schema already at the latest migration")
        else:
            step("2/4 migrating to the latest schema")
            migrate(args, url)
        step("3/4 demo data")
        if seed_demo(args, url) != 0:
            return 2
        step(f"4/4 serving on http://{args.host}:{args.port} (docs: /docs; ready: /readyz)")
        return serve(args, url)


def worker(_: argparse.Namespace, database_url: str) -> int:
    """Dispatch webhooks until SIGTERM/SIGINT: any number of these (and of API workers with
    WEBHOOKS_DISPATCH_INTERVAL_SECONDS > 0) may run at once."""
    from api.observability import configure_logging
    from api.services.webhook_dispatch import work

    settings = get_settings()
    problem = settings.secrets_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        asyncio.run(work(database_url, settings))
    return 0


def create_admin(args: argparse.Namespace, database_url: str) -> int:
    from api.demo import create_admin_account

    password = os.environ.get("BRIEFBOARD_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    from api.models.users import normalize_email
    from api.security import password_weakness

    try:
        normalize_email(args.email)
    except ValueError as error:
        print(f"the email {error}", file=sys.stderr)
        return 2
    weakness = password_weakness(password, args.email)
    if len(password) < 10 or weakness:
        print(weakness or "the password needs at least 10 characters", file=sys.stderr)
        return 2
    asyncio.run(create_admin_account(database_url, get_settings(), args.email, password))
    print(f"admin {args.email} created")
    return 0


def healthcheck(args: argparse.Namespace, _: str | None = None) -> int:
    """Exit 0 when the server on this machine answers /healthz (the image's HEALTHCHECK)."""
    import urllib.request

    url = f"http://127.0.0.1:{args.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="briefboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dev", help="migrate, load demo data and serve (one database start)")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=dev, needs_database=False)

    p = sub.add_parser("serve", help="serve the API with uvicorn")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=None, help="default: $WEB_CONCURRENCY or 1")
    p.set_defaults(func=serve, needs_database=True)

    p = sub.add_parser("migrate", help="upgrade the database to the latest migration")
    p.set_defaults(func=migrate, needs_database=True)
    p = sub.add_parser("seed-demo", help="load demo brands and creators once")
    p.set_defaults(func=seed_demo, needs_database=True)

    p = sub.add_parser("openapi", help="write the OpenAPI document")
    p.add_argument("--output", default="openapi/openapi.json")
    p.set_defaults(func=openapi, needs_database=False)

    p = sub.add_parser("worker", help="deliver webhooks (alongside or instead of the API's)")
    p.set_defaults(func=worker, needs_database=True)

    p = sub.add_parser("create-admin", help="create an admin (password from the prompt)")
    p.add_argument("--email", required=True)
    p.set_defaults(func=create_admin, needs_database=True)

    p = sub.add_parser("healthcheck", help="exit 0 when the local server answers /healthz")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--timeout", type=float, default=2.0)
    p.set_defaults(func=healthcheck, needs_database=False)

    args = parser.parse_args(argv)
    if args.command not in ("openapi", "healthcheck"):
        from api.observability import configure_logging

        configure_logging(get_settings().log_level)
    if not args.needs_database:
        result: int = args.func(args)
        return result
    from api.embedded import database_url

    # The embedded server (when DATABASE_URL is unset) runs for the command and stops after.
    with database_url(get_settings()) as url:
        # Child processes (uvicorn workers) reuse this server instead of starting their own.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        result = args.func(args, url)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
