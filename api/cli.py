"""`briefboard` command: serve, migrate, seed-demo, openapi, worker, create-admin."""

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
from pathlib import Path

from api.settings import get_settings


def migrate(_: argparse.Namespace, database_url: str) -> int:
    from alembic import command

    from api.migrations_state import alembic_config

    command.upgrade(alembic_config(database_url), "head")
    return 0


def serve(args: argparse.Namespace, _: str) -> int:
    # Uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills the process before `atexit` runs and the embedded PostgreSQL would be left
    # running. Turning it into SystemExit lets the normal exit path stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", "1"))
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts its own requests; /metrics sums them from this directory.
        metrics_dir = tempfile.mkdtemp(prefix="briefboard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _run_uvicorn(args, workers)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _run_uvicorn(args: argparse.Namespace, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        proxy_headers=get_settings().trust_forwarded_for,
        access_log=False,  # the app logs every request itself, as JSON with its request id
    )


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


def worker(_: argparse.Namespace, database_url: str) -> int:
    """Dispatch webhooks until SIGTERM/SIGINT: any number of these (and of API workers with
    WEBHOOKS_DISPATCH_INTERVAL_SECONDS > 0) may run at once."""
    from api.observability import configure_logging
    from api.services.webhook_dispatch import work

    settings = get_settings()
    configure_logging(settings.log_level)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        asyncio.run(work(database_url, settings))
    return 0


def create_admin(args: argparse.Namespace, database_url: str) -> int:
    from api.demo import create_admin_account

    password = os.environ.get("BRIEFBOARD_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 10:
        print("the password needs at least 10 characters", file=sys.stderr)
        return 2
    asyncio.run(create_admin_account(database_url, get_settings(), args.email, password))
    print(f"admin {args.email} created")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="briefboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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

    args = parser.parse_args(argv)
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
