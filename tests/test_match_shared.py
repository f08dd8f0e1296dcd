"""One copy of the match indexes per host: the follower publishes segments in the run
directory, every worker maps them (`api.matching.shared`), swaps never pull a copy from
under a reader, and when the follower dies another process takes over."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI

from api.main import create_app, lifespan
from api.matching import features as match_features
from api.matching.brief_index import BriefIndex
from api.matching.shared import Host
from api.settings import get_settings
from tests import factories
from tests.factories import Actor, match_creator

PATH = "/v1/me/matches"


def _mapped(path: Path) -> list[str]:
    """This process's mappings of the file at `path` (a deleted file's end in "(deleted)")."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return [line for line in lines if str(path) in line]


async def _ranked(
    app: FastAPI, index: BriefIndex, creator: Actor, *, sync: bool = True
) -> set[str]:
    """The briefs `index` ranks for `creator`: after a sync, or over what it holds."""
    async with app.state.sessionmaker() as session:
        accounts = await match_features.account_features(session, creator_id=creator.creator_id)
        if sync:
            await index.refresh(session, creator.creator_id)
    hits = index.rank(get_settings(), accounts, now=0.0, applied=set(), cursor=None, n=1000)
    return {str(h.brief_id) for h in hits}


async def _new_generation(app: FastAPI) -> None:
    """As a bulk loader's TRUNCATE does: every copy is out of date."""
    await factories.db_execute(app, "UPDATE match_index_state SET generation = generation + 1")


async def test_a_second_worker_maps_the_published_copy_without_copying(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    brief = await factories.open_brief(client, brand)
    settings = get_settings().model_copy(
        update={"match_index_dir": str(tmp_path), "maintenance_interval_seconds": 0.05}
    )
    first, second = create_app(settings), create_app(settings)
    async with lifespan(first), lifespan(second):
        for name in ("brief_index", "creator_index"):
            made, mapped = getattr(first.state, name), getattr(second.state, name)
            assert (made.copies, mapped.copies) == (1, 0)
            assert mapped.adopted == 1
            assert mapped.size == made.size > 0
        # Both rank over the same file's pages, mapped read-only, not over copies of them.
        ((batch, _),) = second.state.creator_index.segments()
        assert not batch.columns["followers"].flags.writeable
        pointer = second.state.match_host.latest("creators")
        assert len(_mapped(tmp_path / pointer.file)) >= 2
        for worker in (first, second):
            transport = httpx.ASGITransport(app=worker, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                items = await factories.all_pages(c, creator, PATH, limit=100)
                assert [item["brief"]["id"] for item in items] == [brief["id"]]
        assert second.state.brief_index.copies == 0


async def test_a_reader_keeps_its_generation_while_a_new_one_replaces_it(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    old = await factories.open_brief(client, brand, title="Old")
    follower = BriefIndex(host=Host(str(tmp_path)))
    reader = BriefIndex(host=Host(str(tmp_path)))
    assert await _ranked(app, follower, creator) == {old["id"]}
    assert await _ranked(app, reader, creator) == {old["id"]}
    assert (follower.copies, reader.copies, reader.adopted) == (1, 0, 1)
    segment = tmp_path / follower.host.latest("briefs").file  # type: ignore[union-attr]

    r = await client.post(f"/v1/briefs/{old['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    new = await factories.open_brief(client, brand, title="New")
    await _new_generation(app)
    assert await _ranked(app, follower, creator) == {new["id"]}  # copied and published anew
    assert follower.copies == 2
    # The old segment is unlinked, and the reader, between its requests, still ranks over
    # it, whole: its pages stay mapped as long as it holds them.
    assert not segment.exists()
    assert await _ranked(app, reader, creator, sync=False) == {old["id"]}
    assert any(line.endswith("(deleted)") for line in _mapped(segment))
    # Its next request maps the new generation (no copy of its own); once nothing holds the
    # old one, its pages are let go.
    assert await _ranked(app, reader, creator) == {new["id"]}
    assert (reader.copies, reader.adopted) == (0, 2)
    gc.collect()
    assert _mapped(segment) == []


async def test_a_worker_whose_follower_is_busy_elsewhere_waits_for_its_copy(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    """A reader that needs a newer copy than the published one asks the follower (another
    process's background task: here another app) and maps what it publishes."""
    brand = await factories.brand(client)
    creator = await match_creator(client)
    brief = await factories.open_brief(client, brand)
    settings = get_settings().model_copy(update={"match_index_dir": str(tmp_path)})
    worker = create_app(settings)  # maintenance every minute: a copy only when asked
    async with lifespan(worker):
        reader = BriefIndex(host=Host(str(tmp_path)))
        assert await _ranked(app, reader, creator) == {brief["id"]}
        await _new_generation(app)
        assert await _ranked(app, reader, creator) == {brief["id"]}
        assert reader.copies == 0
        assert worker.state.brief_index.copies == 2


_FOLLOWER = """
import asyncio, sys
from api.db import create_engine, create_sessionmaker
from api.matching.brief_index import BriefIndex
from api.matching.shared import Host
from api.settings import Settings

async def main():
    settings = Settings()
    engine = create_engine(settings.database_url, settings)
    host = Host(sys.argv[1])
    host.following = True  # keeps the lock, as a worker's background task does
    index = BriefIndex(host=host)
    async with create_sessionmaker(engine)() as session:
        await index.sync(session)
    print("published", index.copies, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_when_the_follower_dies_another_process_takes_over(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    brief = await factories.open_brief(client, brand)
    follower = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _FOLLOWER,
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        env=os.environ | {"BRIEFBOARD_CONFIGURE_LOGGING": "0"},
    )
    try:
        assert follower.stdout is not None
        line = await asyncio.wait_for(follower.stdout.readline(), 60)
        assert line.decode().split() == ["published", "1"]
        reader = BriefIndex(host=Host(str(tmp_path)))
        assert await _ranked(app, reader, creator) == {brief["id"]}
        assert reader.copies == 0  # mapped the other process's copy
        assert not reader.host.lead("briefs")  # the follower holds the lock

        follower.send_signal(signal.SIGKILL)
        await follower.wait()
        await _new_generation(app)
        # Nobody follows now: the reader's request needs a copy, so it takes over.
        assert await _ranked(app, reader, creator) == {brief["id"]}
        assert reader.copies == 1
        assert reader.host.latest("briefs").state.generation == int(  # type: ignore[union-attr]
            (await factories.db_rows(app, "SELECT generation FROM match_index_state"))[0][
                "generation"
            ]
        )
    finally:
        if follower.returncode is None:
            follower.kill()
            await follower.wait()


def test_a_private_run_directory_goes_with_its_host() -> None:
    host = Host()
    directory = host.directory
    assert directory.is_dir()
    assert host.lead("briefs")
    assert host.leads("briefs")
    host.close()
    assert not directory.exists()
