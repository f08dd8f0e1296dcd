"""Memory and start-up of a server's workers: `briefboard serve --workers N` against a loaded
database, until every worker holds its match indexes; then each worker's resident memory.

    .venv/bin/python -m bench.workers --database-url postgresql+asyncpg://.../bench --workers 4

Not a test. Start-up is timed until every worker has logged that its match indexes hold
their first copy (a worker serves only after that); memory is each worker's
`/proc/<pid>/smaps_rollup` after `--settle` seconds: RSS, and PSS (shared pages divided
among the processes that map them), split into anonymous (the process's own heap) and
shared memory (the mapped segments of `api.matching.shared`). Load the data first with
`make bench-matching` (or `python -m bench.matching ... --no-load` keeps what is there).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem")


def rollup(pid: int) -> dict[str, int]:
    """The process's memory in kB, from smaps_rollup."""
    out = dict.fromkeys(FIELDS, 0)
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in out:
            out[name] = int(rest.split()[0])
    return out


def children(pid: int) -> list[int]:
    found = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in found.stdout.split()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)

    env = os.environ | {
        "DATABASE_URL": args.database_url,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "INFO",
    }
    env.pop("MATCH_INDEX_DIR", None)
    started = time.monotonic()
    command = [sys.executable, "-m", "api.cli", "serve", "--workers", str(args.workers)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(args.port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready: list[float] = []
    done = threading.Event()

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            if "match indexes copied" in line:
                ready.append(time.monotonic() - started)
                if len(ready) == args.workers:
                    done.set()
            elif "copied" in line or '"level": "ERROR"' in line or "Traceback" in line:
                print(line.rstrip(), file=sys.stderr)

    threading.Thread(target=read, daemon=True).start()
    try:
        if not done.wait(args.timeout):
            print(f"only {len(ready)} of {args.workers} workers ready", file=sys.stderr)
            return 1
        time.sleep(args.settle)
        # One worker runs in the server's own process.
        workers = children(server.pid) if args.workers > 1 else [server.pid]
        workers = [pid for pid in workers if rollup(pid)["Rss"] > 50 * 1024]  # not helpers
        rows = {pid: rollup(pid) for pid in workers}
        total = {f: sum(r[f] for r in rows.values()) for f in FIELDS}
        load = os.getloadavg()[0]
        print(f"workers {args.workers}, ready at " + ", ".join(f"{t:.1f}" for t in ready) + " s")
        print("| worker | " + " | ".join(f"{f} MB" for f in FIELDS) + " |")
        print("|---|" + "---:|" * len(FIELDS))
        for pid, r in rows.items():
            print(f"| {pid} | " + " | ".join(f"{r[f] / 1024:.0f}" for f in FIELDS) + " |")
        print("| sum | " + " | ".join(f"{total[f] / 1024:.0f}" for f in FIELDS) + " |")
        print(f"load average (1 min): {load:.2f}")
        print(json.dumps({"ready_s": ready, "sum_kb": total, "load": load}))
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    raise SystemExit(main())
