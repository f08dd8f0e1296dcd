"""A started worker's start-up objects are out of the garbage collector's reach.

Every full collection used to walk them all (~110,000 objects: tens of milliseconds with
every request in flight waiting), the tail of a brief read at a fixed rate.
"""

from __future__ import annotations

import gc

import httpx
from fastapi import FastAPI


async def test_a_started_worker_has_frozen_its_start_up_heap(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # What start-up built (the app, its routes, its schemas) is frozen...
    assert gc.get_freeze_count() > 10_000
    # ...and the worker still collects what requests leave behind.
    assert gc.isenabled()
    assert (await client.get("/healthz")).status_code == 200
