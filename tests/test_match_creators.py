"""The in-memory creator index behind `GET /v1/briefs/{id}/matches`: the model on account
vectors gives the numbers it gives on values, the ranking is the brute-force ranking page
after page, the copy holds what the database holds, and every worker's copy follows every
committed change."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.main import create_app, lifespan
from api.matching import creator_rows as match_accounts
from api.matching import features as match_features
from api.matching import model, requirements
from api.matching.creator_index import CreatorIndex
from api.matching.creator_rows import CreatorBatch
from api.models.matching import (
    ACCOUNT_FEATURES,
    CreatorMatchFilters,
    country_code,
    currency_code,
    niche_mask,
)
from api.settings import get_settings
from tests import factories
from tests.factories import Actor, match_creator
from tests.match_rows import account_row, brief_row

POOL = ["ES", "DE", "US", "GB", "FR", "IT", "MX", "BR", "JP"]


def _accounts(rng: random.Random, creators: int) -> list[dict[str, Any]]:
    """Random account rows of `creators` creators, one to three platforms each."""
    rows = []
    for _ in range(creators):
        creator_id = uuid.UUID(int=rng.getrandbits(128))
        for platform in rng.sample([1, 2, 3], rng.randint(1, 3)):
            row = account_row(rng, POOL, currency_code("EUR"))
            row.update(platform=platform, creator_id=creator_id, account_id=uuid.uuid4())
            rows.append(row)
    return rows


def _brief(rng: random.Random) -> dict[str, Any]:
    row = brief_row(rng, POOL)
    row["niche_count"] = int(row["niche_mask"]).bit_count()
    row["platform_mask"] = rng.choice([0, 1, 2, 3, 5, 7])
    return row


# --- the model on vectors -----------------------------------------------------------------------


def test_the_model_on_account_vectors_gives_the_numbers_it_gives_on_values() -> None:
    rng = random.Random(5)
    settings = get_settings()
    rows = _accounts(rng, 200)
    batch = CreatorBatch.of(rows)
    by_id = {row["account_id"]: row for row in rows}
    eligible_seen = checked = 0
    for _ in range(40):
        features = _brief(rng)
        b = model.Side(features)
        for platform, (start, stop) in batch.groups.items():
            a = batch.side(platform, slice(start, stop))
            with np.errstate(all="ignore"):
                fits = np.broadcast_to(requirements.eligible(b, a, settings), (stop - start,))
                parts = model.parts(b, a, settings)
                score = np.broadcast_to(model.score(parts, settings.match_weights), fits.shape)
            for i in range(start, stop):
                values = model.Side(by_id[batch.id_of(i)])
                assert bool(fits[i - start]) == bool(requirements.eligible(b, values, settings))
                checked += 1
                eligible_seen += bool(fits[i - start])
                expected = model.parts(b, values, settings)
                for name in model.PARTS:
                    got = parts[name][i - start] if np.ndim(parts[name]) else parts[name]
                    assert float(got) == pytest.approx(float(expected[name]), abs=1e-12), name
                total = model.score(expected, settings.match_weights)
                assert float(score[i - start]) == pytest.approx(float(total), abs=1e-12)
    assert 100 < eligible_seen < checked - 100  # both outcomes are exercised


# --- the ranking --------------------------------------------------------------------------------


def _brute_force(
    rows: list[dict[str, Any]],
    features: dict[str, Any],
    filters: CreatorMatchFilters,
    applied: set[uuid.UUID],
) -> dict[uuid.UUID, tuple[float, uuid.UUID]]:
    """Each listed creator's best score and account, computed row by row on values."""
    settings = get_settings()
    b = model.Side(features)
    countries = {country_code(c) for c in filters.country}
    niches = niche_mask(filters.niche)
    best: dict[uuid.UUID, tuple[float, int, uuid.UUID]] = {}
    for row in rows:
        a = model.Side(row)
        if row["creator_id"] in applied or not requirements.eligible(b, a, settings):
            continue
        if countries and row["country"] not in countries:
            continue
        if niches and not row["niche_mask"] & niches:
            continue
        if filters.min_followers is not None and row["followers"] < filters.min_followers:
            continue
        key = float(model.score(model.parts(b, a, settings), settings.match_weights))
        if not math.isfinite(key):
            continue
        mine = best.get(row["creator_id"])
        if mine is None or (key, -row["platform"]) > (mine[0], -mine[1]):
            best[row["creator_id"]] = (key, row["platform"], row["account_id"])
    return {creator: (key, account) for creator, (key, _, account) in best.items()}


def _filters(rng: random.Random) -> CreatorMatchFilters:
    return CreatorMatchFilters(
        country=rng.choice([[], [], ["ES", "DE"]]),
        niche=rng.choice([[], [], ["beauty", "fashion"]]),
        min_followers=rng.choice([None, None, 20_000]),
    )


def test_pages_of_the_index_are_the_brute_force_ranking() -> None:
    rng = random.Random(9)
    settings = get_settings()
    rows = _accounts(rng, 250)
    index = CreatorIndex()
    index.hold(CreatorBatch.of(rows))
    creators = sorted({row["creator_id"] for row in rows})
    listed_somewhere = 0
    for _ in range(30):
        features, filters = _brief(rng), _filters(rng)
        applied = set(rng.sample(creators, 20))
        expected = _brute_force(rows, features, filters, applied)
        got: list[tuple[float, uuid.UUID, uuid.UUID]] = []
        cursor = None
        while True:
            hits = index.rank(settings, features, filters, applied=applied, cursor=cursor, n=7)
            got += [(h.key, h.creator_id, h.account_id) for h in hits]
            if len(hits) < 7:
                break
            cursor = (hits[-1].key, hits[-1].creator_id)
        assert len({creator for _, creator, _ in got}) == len(got)  # no creator twice
        assert {creator for _, creator, _ in got} == set(expected)
        for key, creator, account in got:
            assert key == pytest.approx(expected[creator][0], abs=1e-12)
            assert account == expected[creator][1]
        order = [(key, creator.int) for key, creator, _ in got]
        assert order == sorted(order, reverse=True)
        listed_somewhere += bool(got)
    assert listed_somewhere > 10


def test_the_rows_of_several_batches_rank_as_one() -> None:
    """Rows split between the base and the delta (as after syncs) rank as a fresh copy."""
    rng = random.Random(4)
    settings = get_settings()
    rows = _accounts(rng, 120)
    whole = CreatorIndex()
    whole.hold(CreatorBatch.of(rows))
    split = CreatorIndex()
    split.hold(CreatorBatch.of(rows[:150]))
    split._apply([], CreatorBatch.of(rows[150:]))
    assert split.size == whole.size == len(rows)
    for _ in range(10):
        features, filters = _brief(rng), CreatorMatchFilters()
        ranked = [
            [
                (h.key, h.creator_id)
                for h in index.rank(settings, features, filters, applied=set(), cursor=None, n=30)
            ]
            for index in (whole, split)
        ]
        assert ranked[0] == ranked[1]


def test_a_merged_batch_keeps_the_account_parts_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Merging the delta into the base carries the account parts over: the next request
    does not compute them again for every account, and they are what it would compute."""
    rng = random.Random(6)
    settings = get_settings()
    rows = _accounts(rng, 60)
    first, second = CreatorBatch.of(rows[:50]), CreatorBatch.of(rows[50:])
    first.account_parts(settings)
    second.account_parts(settings)
    keep = np.ones(first.size, dtype=bool)
    keep[3] = False
    everything = np.ones(second.size, dtype=bool)
    expected = CreatorBatch.joined(
        [(CreatorBatch.of(rows[:50]), keep), (CreatorBatch.of(rows[50:]), everything)]
    ).account_parts(settings)
    merged = CreatorBatch.joined([(first, keep), (second, everything)])

    def computed_again(*_: Any) -> None:
        raise AssertionError("the account parts were computed again")

    monkeypatch.setattr(model, "account_parts", computed_again)
    carried = merged.account_parts(settings)
    assert set(carried) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(carried[name], values)


# --- the copy and the database ------------------------------------------------------------------


async def test_the_copy_holds_each_account_as_the_database_does(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    await match_creator(client)
    await match_creator(client, country=None, accounts=[{"platform": "tiktok"}, {}])
    await match_creator(
        client,
        rate_card_currency="EUR",
        rate_card=[{"platform": "instagram", "format": "reel", "fee_minor": 90_000}],
    )
    index = CreatorIndex()
    async with app.state.sessionmaker() as session:
        await index.refresh(session, uuid.UUID(brief["id"]))
        rows = await factories.db_rows(app, "SELECT * FROM match_accounts WHERE slot = 0")
    assert index.size == len(rows) == 4
    ((batch, _),) = index.segments()
    fees = {k: batch.fee_column(k) for k in range(1, 11)}
    for row in rows:
        (i,) = batch.rows_of(row["account_id"])
        for name in ACCOUNT_FEATURES:
            # `niche_count`: the model no longer reads an account's (niche overlap
            # divides by the brief's count), so the copy leaves it out.
            if name in ("account_id", "slot", "fees", "niche_count"):
                continue
            columns = batch.columns
            if name == "creator_id":
                held: Any = uuid.UUID(int=batch.creator_keys(np.array([i]))[0])
            elif name.startswith("aud_"):
                slot = name.removeprefix("aud_")
                country, share = columns[f"aud_country_{slot}"][i], columns[f"aud_share_{slot}"][i]
                held = int(country) << 10 | int(share)
            else:
                held = columns[name][i].item()
                held = None if isinstance(held, float) and math.isnan(held) else held
            assert held == row[name], name
        listed = [fees[k][i] for k in range(1, 11)]
        assert listed == [-1 if f is None else f for f in (row["fees"] or [None] * 10)]
    assert any(row["fees"] for row in rows)
    assert any(row["country"] is None for row in rows)


async def test_the_log_names_each_changed_account_with_its_transaction(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    creator = await match_creator(client)
    (account_id,) = creator.extra["account_ids"]
    async with app.state.sessionmaker.begin() as session:
        await session.execute(
            text("UPDATE social_accounts SET followers = followers + 1 WHERE id = :id"),
            {"id": account_id},
        )
        xid = await session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
    rows = await factories.db_rows(
        app, "SELECT account_id FROM match_account_changes WHERE xid = :xid", xid=xid
    )
    assert {str(r["account_id"]) for r in rows} == {account_id}


# --- keeping up with writes ---------------------------------------------------------------------


async def _listed(client: httpx.AsyncClient, brand: Actor, brief: dict[str, Any]) -> list[str]:
    items = await factories.all_pages(client, brand, f"/v1/briefs/{brief['id']}/matches")
    return [item["creator"]["id"] for item in items]


async def test_every_worker_sees_an_account_change_at_its_next_request(
    client: httpx.AsyncClient, app: FastAPI, second_worker: httpx.AsyncClient
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)  # micro accounts
    first = await match_creator(client)
    assert await _listed(client, brand, brief) == [str(first.creator_id)]
    assert await _listed(second_worker, brand, brief) == [str(first.creator_id)]
    copies = app.state.creator_index.copies

    second = await match_creator(client)
    assert set(await _listed(second_worker, brand, brief)) == {
        str(first.creator_id),
        str(second.creator_id),
    }
    # The first creator's account shrinks out of the brief's tier.
    (account_id,) = first.extra["account_ids"]
    r = await client.patch(
        f"/v1/creators/me/accounts/{account_id}", json={"followers": 500}, headers=first.headers
    )
    assert r.status_code == 200, r.text
    assert await _listed(second_worker, brand, brief) == [str(second.creator_id)]
    assert await _listed(client, brand, brief) == [str(second.creator_id)]
    # Followed through the change log, not by copying everything again.
    assert app.state.creator_index.copies == copies
    metrics = (await client.get("/metrics")).text
    assert "briefboard_creator_index_rows " in metrics
    assert "briefboard_creator_index_copies_total " in metrics


async def _ranked(app: FastAPI, index: CreatorIndex, brief: dict[str, Any]) -> set[uuid.UUID]:
    brief_id = uuid.UUID(brief["id"])
    async with app.state.sessionmaker() as session:
        features = await match_features.brief_features(session, brief_id)
        applied = await index.refresh(session, brief_id)
    assert features is not None
    hits = index.rank(
        get_settings(), features, CreatorMatchFilters(), applied=applied, cursor=None, n=100
    )
    return {h.creator_id for h in hits}


async def test_a_truncate_of_the_account_rows_sends_every_worker_back_to_a_full_copy(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    kept, left_out = await match_creator(client), await match_creator(client)
    index = CreatorIndex()
    assert await _ranked(app, index, brief) == {kept.creator_id, left_out.creator_id}
    # A bulk rebuild, as loaders do it: emptied with TRUNCATE (which no row trigger sees),
    # refilled with triggers off, one creator's rows not refilled.
    columns = ", ".join(ACCOUNT_FEATURES)
    async with app.state.sessionmaker.begin() as session:
        for statement in (
            "SET LOCAL session_replication_role = replica",
            "CREATE TEMP TABLE saved ON COMMIT DROP AS SELECT * FROM match_accounts",
            "TRUNCATE match_accounts",
            f"INSERT INTO match_accounts ({columns}) SELECT {columns}"  # noqa: S608
            " FROM saved WHERE creator_id <> :id",
        ):
            await session.execute(text(statement), {"id": left_out.creator_id})
    assert await _ranked(app, index, brief) == {kept.creator_id}
    assert index.copies == 2


async def test_changes_merged_into_the_base_rank_as_a_fresh_copy_does(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    before = [await match_creator(client) for _ in range(3)]
    merging = CreatorIndex(merge_rows=1)
    assert await _ranked(app, merging, brief) == {c.creator_id for c in before}
    after = [await match_creator(client, accounts=[{}, {"platform": "tiktok"}]) for _ in range(2)]
    r = await client.delete(
        f"/v1/creators/me/accounts/{before[0].extra['account_ids'][0]}",
        headers=before[0].headers,
    )
    assert r.status_code == 204, r.text
    expected = {c.creator_id for c in [*before[1:], *after]}
    assert await _ranked(app, merging, brief) == expected
    assert await _ranked(app, CreatorIndex(), brief) == expected
    assert merging.copies == 1  # merged, not copied again


async def test_a_copy_is_read_whole_however_its_stream_is_cut(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Rows split across chunks, a stream of several megabytes, a stream cut short."""
    await match_creator(client)
    chunks: list[bytes] = []

    async def take(chunk: bytes) -> None:
        chunks.append(bytes(chunk))

    async with app.state.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        query = match_accounts._COPY.format(where="true")
        await raw.copy_from_query(query, output=take, format="binary")  # type: ignore[union-attr]
    data = b"".join(chunks)
    header, row, trailer = data[:19], data[19:-2], data[-2:]
    stream = header + row * 12_000 + trailer  # about 4 MB
    reader = match_accounts.CopyReader()
    for i in range(0, len(stream), 4093):
        await reader.feed(stream[i : i + 4093])
    columns = reader.columns()
    assert len(columns["followers"]) == 12_000
    assert set(columns["followers"].tolist()) == {48_200}

    cut = match_accounts.CopyReader()
    await cut.feed(stream[: len(stream) // 2])
    with pytest.raises(ValueError, match="did not end where a row does"):
        cut.columns()


async def test_a_worker_copies_the_accounts_at_start_up_and_keeps_up_unasked(
    client: httpx.AsyncClient,
) -> None:
    await match_creator(client)
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 0.05})
    worker = create_app(settings)
    async with lifespan(worker):
        index: CreatorIndex = worker.state.creator_index
        await factories.until(lambda: index.copies == 1 and index.size == 1)
        await match_creator(client, accounts=[{}, {"platform": "tiktok"}])
        await factories.until(lambda: index.size == 3)  # followed without any request
        assert index.copies == 1


async def test_concurrent_requests_and_account_writes_stay_consistent(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Brands' requests at once, while creators join and accounts change: every answer is
    a page, and once the writes are done every worker's answer is the truth."""
    brand = await factories.brand(client)
    brief = await factories.open_brief(client, brand)
    creators = [await match_creator(client) for _ in range(4)]

    async def read() -> None:
        r = await client.get(f"/v1/briefs/{brief['id']}/matches", headers=brand.headers)
        assert r.status_code == 200, r.text

    async def write() -> list[str]:
        joined = [await match_creator(client) for _ in range(3)]
        for actor in creators[:2]:  # out of the brief's tier
            (account_id,) = actor.extra["account_ids"]
            r = await client.patch(
                f"/v1/creators/me/accounts/{account_id}",
                json={"followers": 500},
                headers=actor.headers,
            )
            assert r.status_code == 200, r.text
        return [str(a.creator_id) for a in joined]

    results = await asyncio.gather(write(), *(read() for _ in range(12)))
    expected = {str(a.creator_id) for a in creators[2:]} | set(results[0])
    assert set(await _listed(client, brand, brief)) == expected
