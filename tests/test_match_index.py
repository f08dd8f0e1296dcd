"""The in-memory brief index behind `GET /v1/me/matches`: the model on vectors gives the
numbers it gives on values, and every worker's copy follows every committed change."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.main import create_app, lifespan
from api.matching import features as match_features
from api.matching import model, requirements
from api.matching import sync as match_copy
from api.matching.brief_index import BriefBatch, BriefIndex
from api.models.matching import BRIEF_FEATURES
from api.settings import get_settings
from tests import factories
from tests.factories import Actor, match_creator
from tests.match_rows import account_row, brief_row

PATH = "/v1/me/matches"


async def _ids(client: httpx.AsyncClient, actor: Actor) -> list[str]:
    items = await factories.all_pages(client, actor, PATH, limit=100)
    return [item["brief"]["id"] for item in items]


# --- the model on vectors ---------------------------------------------------------------------


def test_the_model_on_vectors_gives_the_numbers_it_gives_on_values() -> None:
    rng = random.Random(11)
    settings = get_settings()
    pool = ["ES", "DE", "US", "GB", "FR", "IT", "MX", "BR", "JP"]
    rows = [brief_row(rng, pool) for _ in range(400)]
    for row in rows:
        row["niche_count"] = int(row["niche_mask"]).bit_count()
    batch = BriefBatch.of(rows)
    by_id = {row["brief_id"]: row for row in rows}
    everything = np.arange(batch.size)
    eligible_seen = 0
    for _ in range(40):
        account = account_row(rng, pool, rows[0]["currency"])
        a = model.Side(account)
        with np.errstate(all="ignore"):
            fits = np.broadcast_to(
                requirements.eligible(batch.side(everything), a, settings), everything.shape
            )
            parts = model.parts(batch.side(everything), a, settings)
            score = model.score(parts, settings.match_weights)
        for i in range(batch.size):
            brief_id = batch.id_of(i)
            if batch.columns["platform"][i] != account["platform"]:
                continue  # an account reads the rows of its own platform
            b = model.Side(by_id[brief_id])
            assert bool(fits[i]) == bool(requirements.eligible(b, a, settings)), (
                i,
                by_id[brief_id],
            )
            values = model.parts(b, a, settings)
            for name in model.PARTS:
                vector = parts[name][i] if np.ndim(parts[name]) else parts[name]
                assert float(vector) == pytest.approx(float(values[name]), abs=1e-12), name
            expected = model.score(values, settings.match_weights)
            assert float(score[i]) == pytest.approx(float(expected), abs=1e-12)
            eligible_seen += bool(fits[i])
    assert 100 < eligible_seen < 40 * 200 - 100  # both outcomes are exercised


def test_pages_pruned_by_the_niche_bound_are_the_pages_of_every_brief_scored() -> None:
    """Briefs sharing none of the creator's niches are scored only when their bound (the
    exact audience-country part, every other part at its best) reaches the page's last
    score: the pages are those of scoring every brief, and the bound does leave some out."""
    rng = random.Random(17)
    settings = get_settings()
    pool = ["ES", "DE", "US", "GB", "FR", "IT", "MX", "BR", "JP"]
    rows = [brief_row(rng, pool) for _ in range(600)]
    for row in rows:
        row["niche_count"] = int(row["niche_mask"]).bit_count()
    index = BriefIndex()
    index.hold(BriefBatch.of(rows))
    left_out = 0
    for _ in range(30):
        accounts = [account_row(rng, pool, rows[0]["currency"]) for _ in range(rng.randint(1, 3))]
        niches = accounts[0]["niche_mask"]
        for account in accounts:
            account["niche_mask"] = niches  # the creator's niches, on every account
        n = rng.choice([3, 8])
        cursor: tuple[float, uuid.UUID] | None = None
        while True:
            page = index.rank(settings, accounts, now=0.0, applied=set(), cursor=cursor, n=n)
            with np.errstate(all="ignore"):
                every = [
                    *index._score(settings, accounts, 0.0, set(), niches, shared=True),
                    *index._score(settings, accounts, 0.0, set(), niches, shared=False),
                ]
                expected = index._page(every, cursor, n)
                if len(page) == n:
                    others = index._score(settings, accounts, 0.0, set(), niches, shared=False)
                    kept = index._score(
                        settings, accounts, 0.0, set(), niches, shared=False, least=page[-1].key
                    )
                    left_out += sum(len(s.rows) for s in others) - sum(len(s.rows) for s in kept)
            assert [(h.brief_id, h.key, h.account) for h in page] == [
                (h.brief_id, h.key, h.account) for h in expected
            ]
            if len(page) < n:
                break
            cursor = (page[-1].key, page[-1].brief_id)
    assert left_out > 0


# --- keeping up with writes ---------------------------------------------------------------------


async def test_every_worker_sees_a_brief_opened_or_closed_at_its_next_request(
    client: httpx.AsyncClient, app: FastAPI, second_worker: httpx.AsyncClient
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    first = await factories.open_brief(client, brand, title="First")
    assert await _ids(client, creator) == [first["id"]]
    assert await _ids(second_worker, creator) == [first["id"]]
    copies = app.state.brief_index.copies

    second = await factories.open_brief(client, brand, title="Second")
    assert set(await _ids(client, creator)) == {first["id"], second["id"]}
    assert set(await _ids(second_worker, creator)) == {first["id"], second["id"]}

    r = await client.post(f"/v1/briefs/{first['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    assert await _ids(second_worker, creator) == [second["id"]]
    assert await _ids(client, creator) == [second["id"]]
    # Followed through the change log, not by copying everything again.
    assert app.state.brief_index.copies == copies
    metrics = (await client.get("/metrics")).text
    assert "briefboard_brief_index_rows " in metrics
    assert "briefboard_brief_index_copies_total " in metrics


async def test_the_log_names_each_changed_brief_with_its_transaction(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    logged = await factories.db_rows(
        app, "SELECT xid FROM match_brief_changes WHERE brief_id = :id", id=brief["id"]
    )
    assert logged  # published: its match rows were written
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text(
                "UPDATE briefs SET application_deadline = application_deadline"
                " + interval '1 day' WHERE id = :id"
            ),
            {"id": brief["id"]},
        )
        xid = await session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
    rows = await factories.db_rows(
        app, "SELECT brief_id FROM match_brief_changes WHERE xid = :xid", xid=xid
    )
    assert {str(r["brief_id"]) for r in rows} == {brief["id"]}


async def _ranked(app: FastAPI, index: BriefIndex, creator: Actor) -> set[str]:
    """The briefs `index` ranks for `creator` after a sync (every one, whatever the
    page: the API's page load would hide a brief the copy should no longer hold)."""
    async with app.state.sessionmaker() as session:
        accounts = await match_features.account_features(session, creator_id=creator.creator_id)
        now, applied = await index.refresh(session, creator.creator_id)
    hits = index.rank(get_settings(), accounts, now=now, applied=applied, cursor=None, n=1000)
    return {str(h.brief_id) for h in hits}


async def test_a_change_committed_after_a_later_one_was_synced_is_still_seen(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The log is read by snapshot, not by the highest transaction id seen: a transaction
    that began first but commits after a sync is picked up by the next one."""
    brand = await factories.brand(client)
    creator = await match_creator(client)
    first = await factories.open_brief(client, brand, title="First")
    index = BriefIndex()
    assert await _ranked(app, index, creator) == {first["id"]}
    async with app.state.sessionmaker.begin() as slow:
        await slow.execute(
            text("UPDATE briefs SET status = 'closed' WHERE id = :id"), {"id": first["id"]}
        )
        second = await factories.open_brief(client, brand, title="Second")  # commits first
        assert await _ranked(app, index, creator) == {first["id"], second["id"]}
    assert await _ranked(app, index, creator) == {second["id"]}
    assert index.copies == 1


async def test_a_brief_changed_again_while_in_the_delta_is_followed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    based = await factories.open_brief(client, brand, title="In the base")
    index = BriefIndex(merge_rows=10_000)
    assert await _ranked(app, index, creator) == {based["id"]}
    added = await factories.open_brief(client, brand, title="In the delta")
    assert await _ranked(app, index, creator) == {based["id"], added["id"]}
    for brief in (added, based):
        r = await client.post(f"/v1/briefs/{brief['id']}/close", headers=brand.headers)
        assert r.status_code == 200, r.text
    assert await _ranked(app, index, creator) == set()
    assert index.copies == 1


async def test_a_truncate_of_the_match_rows_sends_every_worker_back_to_a_full_copy(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    kept = await factories.open_brief(client, brand, title="Kept")
    left_out = await factories.open_brief(client, brand, title="Left out")
    index = BriefIndex()
    assert await _ranked(app, index, creator) == {kept["id"], left_out["id"]}
    # A bulk rebuild, as loaders do it: emptied with TRUNCATE (which no row trigger sees),
    # refilled with triggers off; one brief is not refilled, and only a full copy can know.
    generation = await _generation(app)
    columns = ", ".join(BRIEF_FEATURES)
    async with app.state.sessionmaker.begin() as session:
        for statement in (
            "SET LOCAL session_replication_role = replica",
            "TRUNCATE match_briefs",
            f"INSERT INTO match_briefs ({columns}) SELECT {columns}"  # noqa: S608
            " FROM match_brief_source WHERE status = 'open' AND slot = 0 AND brief_id <> :id",
        ):
            await session.execute(text(statement), {"id": left_out["id"]})
    assert await _generation(app) == generation + 1
    assert await _ranked(app, index, creator) == {kept["id"]}
    assert index.copies == 2


async def _generation(app: FastAPI) -> int:
    rows = await factories.db_rows(app, "SELECT generation FROM match_index_state")
    return int(rows[0]["generation"])


async def test_a_worker_behind_the_pruned_log_copies_everything_again(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    creator = await match_creator(client)
    first = await factories.open_brief(client, brand, title="First")
    index = BriefIndex()
    assert await _ranked(app, index, creator) == {first["id"]}
    second = await factories.open_brief(client, brand, title="Second")

    # Two pruning rounds an hour apart: the cut-off passes this worker's last sync.
    for _ in range(2):
        await factories.db_execute(
            app, "UPDATE match_index_state SET next_prune_at = now() - interval '1 second'"
        )
        async with app.state.sessionmaker.begin() as session:
            await match_copy.prune_changes(session, limit=1000)
    left = await factories.db_rows(
        app, "SELECT 1 FROM match_brief_changes WHERE brief_id = :id", id=second["id"]
    )
    assert left == []  # the entry that would have told this worker is gone
    assert await _ranked(app, index, creator) == {first["id"], second["id"]}
    assert index.copies == 2


def test_ties_at_the_end_of_a_page_go_by_brief_id() -> None:
    rng = np.random.default_rng(3)
    keys = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.7, 0.5, 0.1])
    hi = rng.integers(0, 2**63, size=len(keys), dtype=np.uint64)
    lo = rng.integers(0, 2**63, size=len(keys), dtype=np.uint64)
    hi[[2, 3]] = hi[4]  # equal high halves: the low halves decide
    chosen = match_copy.best_positions(keys, hi, lo, 4)
    tied = [i for i in range(len(keys)) if keys[i] == 0.5]
    by_id = sorted(tied, key=lambda i: (int(hi[i]), int(lo[i])), reverse=True)
    assert sorted(chosen.tolist()) == sorted([0, 5, *by_id[:2]])


async def test_merged_changes_rank_as_a_fresh_copy_does(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Changes past `merge_rows` are merged into the base; the ranking is unchanged."""
    settings = get_settings()
    brand = await factories.brand(client)
    creator = await match_creator(
        client, niches=["beauty", "food"], accounts=[{}, {"platform": "tiktok"}]
    )
    briefs = []
    for i in range(4):
        briefs.append(
            await factories.open_brief(client, brand, title=f"Before {i}", niches=["beauty"])
        )
    merging = BriefIndex(merge_rows=1)

    async def page(index: BriefIndex) -> list[tuple[uuid.UUID, float, int]]:
        async with app.state.sessionmaker() as session:
            accounts = await match_features.account_features(session, creator_id=creator.creator_id)
            now, applied = await index.refresh(session, creator.creator_id)
        hits = index.rank(settings, accounts, now=now, applied=applied, cursor=None, n=50)
        return [(h.brief_id, h.key, h.account) for h in hits]

    await page(merging)
    for i in range(3):
        await factories.open_brief(
            client,
            brand,
            title=f"After {i}",
            niches=["food"],
            platforms=["tiktok"],
            deliverables=[{"platform": "tiktok", "format": "short_video"}],
        )
    r = await client.post(f"/v1/briefs/{briefs[0]['id']}/close", headers=brand.headers)
    assert r.status_code == 200, r.text
    merged = await page(merging)
    assert merged == await page(BriefIndex())
    assert len(merged) == 6
    assert merging.copies == 1  # merged, not copied again


async def test_a_worker_copies_the_open_briefs_at_start_up_and_keeps_up_unasked(
    client: httpx.AsyncClient,
) -> None:
    brand = await factories.brand(client)
    opened = await factories.open_brief(client, brand)
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 0.05})
    worker = create_app(settings)
    async with lifespan(worker):
        index: BriefIndex = worker.state.brief_index
        await factories.until(lambda: index.copies == 1 and index.size > 0)
        before = index.size
        await factories.open_brief(client, brand, title="Another")
        await factories.until(lambda: index.size > before)  # followed without any request
        r = await client.post(f"/v1/briefs/{opened['id']}/close", headers=brand.headers)
        assert r.status_code == 200, r.text
        await factories.until(lambda: index.size == before)
        assert index.copies == 1


async def test_concurrent_requests_and_writes_stay_consistent(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Many creators' requests at once, while briefs open and close: every answer is a
    consistent page, and once the writes are done every worker's answer is the truth."""
    brand = await factories.brand(client)
    creators = [await match_creator(client) for _ in range(3)]
    briefs = [await factories.open_brief(client, brand, title=f"Brief {i}") for i in range(4)]

    async def read(actor: Actor) -> None:
        r = await client.get(PATH, headers=actor.headers)
        assert r.status_code == 200, r.text

    async def write() -> list[str]:
        opened = [await factories.open_brief(client, brand, title=f"New {i}") for i in range(3)]
        for brief in briefs[:2]:
            r = await client.post(f"/v1/briefs/{brief['id']}/close", headers=brand.headers)
            assert r.status_code == 200, r.text
        return [b["id"] for b in opened]

    results = await asyncio.gather(write(), *(read(c) for c in creators * 6))
    opened = results[0]
    expected = {b["id"] for b in briefs[2:]} | set(opened)
    for actor in creators:
        assert set(await _ids(client, actor)) == expected
