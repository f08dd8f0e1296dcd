"""`make bench-restart`: how long `make run` (`briefboard dev`) takes to answer /readyz.

    .venv/bin/python -m bench.restart [--runs 5] [--port 8000]

Starts `briefboard dev` on the embedded PostgreSQL (DATABASE_URL unset), times process
start to the first 200 from /readyz, stops it with SIGTERM (which also stops PostgreSQL),
and repeats. The first run is cold when `.data/postgres` does not exist yet; the others
are warm restarts. Prints each time, the median of the warm ones and the load average,
since on a shared machine the load moves the figure more than the code does.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def one_start(port: int, timeout: float = 120.0) -> float:
    """Seconds from starting `briefboard dev` to its first ready /readyz."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    started = time.monotonic()
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/briefboard"), "dev", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not _ready(port):
            if process.poll() is not None:
                raise SystemExit(f"briefboard dev exited with {process.returncode}")
            if time.monotonic() - started > timeout:
                raise SystemExit("not ready in time")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    cold = not (ROOT / ".data" / "postgres").exists()
    times = []
    for n in range(args.runs):
        seconds = one_start(args.port)
        kind = "cold" if cold and n == 0 else "warm"
        print(f"run {n + 1} ({kind}): {seconds:.2f} s to /readyz", flush=True)
        times.append((kind, seconds))
        time.sleep(1)
    warm = [s for kind, s in times if kind == "warm"]
    if warm:
        print(f"warm restart median: {statistics.median(warm):.2f} s over {len(warm)} runs")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
