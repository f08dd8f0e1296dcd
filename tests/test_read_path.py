"""Reads never write, and a brief read is one statement (two while this worker has not yet
cached the caller: `api.services.access_cache`).

An open brief past its deadline is presented as closed by every read; the maintenance
sweep (or the brand's next write) persists exactly what the reads showed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from api.services.briefs import close_expired_briefs
from tests import factories


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL the app's engine sends meanwhile (the background jobs' own excluded): through
    SQLAlchemy, and straight to the driver (`api.services.hot_sql`)."""
    seen: list[str] = []
    drivers: list[Any] = []

    def keep(sql: str) -> None:
        if "match_" not in sql and "SKIP LOCKED" not in sql:
            seen.append(sql)

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        keep(sql)

    def logged(query: Any) -> None:
        keep(query.query)

    def watch(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        driver = dbapi_connection.driver_connection
        if driver not in drivers:
            driver.add_query_logger(logged)
            drivers.append(driver)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine.pool, "checkout", watch)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine.pool, "checkout", watch)
        for driver in drivers:
            driver.remove_query_logger(logged)


async def _stored(app: FastAPI, brief_id: str) -> dict[str, object]:
    [row] = await factories.db_rows(
        app, "SELECT status, version, updated_at FROM briefs WHERE id = :id", id=brief_id
    )
    return row


async def test_reading_an_expired_brief_writes_nothing_and_the_sweep_writes_what_was_shown(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    reader = await factories.creator(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    before = await _stored(app, brief["id"])
    path = f"/v1/briefs/{brief['id']}"

    shown = await client.get(path, headers=reader.headers)
    [listed] = (await client.get("/v1/briefs?mine=true", headers=owner.headers)).json()["items"]
    closed = (await client.get("/v1/briefs?mine=true&status=closed", headers=owner.headers)).json()[
        "items"
    ]
    assert shown.json()["status"] == listed["status"] == "closed"
    assert [b["id"] for b in closed] == [brief["id"]]
    # Nothing was written by the reads.
    assert await _stored(app, brief["id"]) == before

    async with app.state.sessionmaker.begin() as session:
        assert await close_expired_briefs(session) >= 1
    after = await client.get(path, headers=reader.headers)
    assert after.json() == shown.json() == listed
    assert after.headers["etag"] == shown.headers["etag"] == f'"{brief["version"] + 1}"'


def forget_callers(app: FastAPI) -> None:
    """Empty this worker's caller cache (as a restarted worker's is), still listening."""
    cache = app.state.access_cache
    assert cache.seen is not None
    cache.start(cache.seen)


async def test_a_brief_read_is_one_statement_once_the_caller_is_known_and_no_write(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    reader = await factories.creator(client)
    brief = await factories.open_brief(client, owner)
    await factories.expire_deadline(app, brief["id"])
    forget_callers(app)
    for expected in (2, 1):  # the caller (not yet cached), then the brief with its deliverables
        with statements(app) as sent:
            r = await client.get(f"/v1/briefs/{brief['id']}", headers=reader.headers)
        assert r.status_code == 200, r.text
        assert r.json()["deliverables"] == brief["deliverables"]
        assert len(sent) == expected, sent
        assert not [s for s in sent if not s.lstrip().upper().startswith("SELECT")]


async def test_an_unknown_brief_is_still_404_in_one_statement(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    reader = await factories.creator(client)
    forget_callers(app)
    for expected in (2, 1):  # the caller (not yet cached), then the brief's statement alone
        with statements(app) as sent:
            r = await client.get(
                "/v1/briefs/00000000-0000-4000-8000-000000000000", headers=reader.headers
            )
        factories.problem_of(r, 404, "not_found")
        assert len(sent) == expected, sent


async def test_a_search_page_is_one_statement_deliverables_included(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    reader = await factories.creator(client)
    briefs = [await factories.open_brief(client, owner) for _ in range(2)]
    for path, headers in (("/v1/briefs", reader.headers), ("/v1/briefs?mine=true", owner.headers)):
        forget_callers(app)
        for expected in (2, 1):  # the caller (not yet cached), then the page alone
            with statements(app) as sent:
                r = await client.get(path, headers=headers)
            assert r.status_code == 200, r.text
            shown = {b["id"]: b["deliverables"] for b in r.json()["items"]}
            assert shown == {b["id"]: b["deliverables"] for b in briefs}
            assert len(sent) == expected, sent
