"""The migrated database is what the feature registry (`api.matching.registry`) says: the
match tables' columns, the source views, the refresh functions' column lists, the change
triggers' column lists, and the frozen code tables of the migrations (equal to the enums).

Migrations are frozen text, so nothing derives them at run time: these tests are what makes
a registry change without its migration (or a migration without its registry change) fail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, get_args

import asyncpg
import numpy as np
import pytest
from sqlalchemy.engine import make_url

from api.matching import registry
from api.matching.creator_rows import _COLUMNS as COPIED
from api.models.common import DeliverableFormat, Niche, Platform, Tier
from api.models.creators import AgeBucket, GenderBucket
from api.models.matching import NICHE_CODES, PLATFORM_CODES, TIER_BITS, country_code

TABLES = {"match_accounts": registry.ACCOUNT, "match_briefs": registry.BRIEF}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the migrated test database; what a test creates is rolled back."""
    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield conn
    finally:
        await transaction.rollback()
        await conn.close()


async def _columns(db: asyncpg.Connection, table: str) -> dict[str, tuple[str, bool]]:
    rows = await db.fetch(
        """SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
                  NOT a.attnotnull AS nullable
           FROM pg_attribute a
           WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped""",
        table,
    )
    return {r["name"]: (r["type"], r["nullable"]) for r in rows}


async def test_the_match_tables_hold_exactly_the_registrys_features(
    db: asyncpg.Connection,
) -> None:
    # By name (a column added by a later migration sits at the table's end).
    for table, features in TABLES.items():
        expected = {f.name: (f.kind.sql, f.nullable) for f in registry.stored(features)}
        assert await _columns(db, table) == expected, table


async def test_the_source_views_compute_each_feature_as_the_registry_states_it(
    db: asyncpg.Connection,
) -> None:
    # The registry's view, created next to the installed one: PostgreSQL prints both
    # from their parsed form, so layout does not matter and every expression does.
    for table, (_, view, _) in registry.SIDES.items():
        await db.execute(f"CREATE TEMP VIEW registry_view AS {registry.view_sql(table)}")
        derived = await db.fetchval("SELECT pg_get_viewdef('registry_view'::regclass)")
        installed = await db.fetchval("SELECT pg_get_viewdef($1::regclass)", view)
        assert installed == derived, table
        await db.execute("DROP VIEW registry_view")


async def test_the_refresh_functions_write_every_stored_feature(db: asyncpg.Connection) -> None:
    for function, (table, _, _) in registry.REFRESHERS.items():
        source = await db.fetchval("SELECT prosrc FROM pg_proc WHERE proname = $1", function)
        insert = re.search(rf"INSERT INTO {table} \(([^)]*)\)\s+SELECT ([^;]*?) FROM", source)
        assert insert is not None, function
        into, selected = ([c.strip() for c in g.split(",")] for g in insert.groups())
        assert into == selected, function
        assert sorted(into) == sorted(registry.names(TABLES[table])), function


async def _update_triggers(db: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """The match change triggers that fire on UPDATE, by table: their `UPDATE OF` columns
    (empty: any column) and the columns their WHEN clause compares."""
    rows = await db.fetch(
        """SELECT t.tgrelid::regclass::text AS table_name, t.tgname,
                  pg_get_triggerdef(t.oid) AS definition,
                  ARRAY(SELECT a.attname::text FROM unnest(t.tgattr) k
                        JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k)
                    AS columns
           FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
           WHERE NOT t.tgisinternal AND p.proname LIKE 'match\\_on\\_%'
             AND t.tgtype & 16 <> 0"""  # TRIGGER_TYPE_UPDATE
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        when = set(re.findall(r"\bold\.(\w+)", r["definition"].split(" WHEN ", 1)[-1]))
        out.setdefault(r["table_name"], []).append(
            {
                "name": r["tgname"],
                "columns": sorted(r["columns"]),
                "when": sorted(when) if " WHEN " in r["definition"] else None,
            }
        )
    return out


async def _view_reads(db: asyncpg.Connection) -> dict[str, set[str]]:
    """By source table, the columns the source views read (through the views they read),
    primary keys aside (never updated)."""
    rows = await db.fetch(
        """WITH RECURSIVE used(view_name, table_name, column_name) AS (
               SELECT view_name::text, table_name::text, column_name::text
               FROM information_schema.view_column_usage
               WHERE view_name IN ('match_account_source', 'match_brief_source')
               UNION
               SELECT u.view_name, v.table_name::text, v.column_name::text
               FROM used u JOIN information_schema.view_column_usage v
                 ON v.view_name = u.table_name
           )
           SELECT table_name, column_name FROM used
           WHERE table_name NOT IN (SELECT table_name FROM information_schema.views)
             AND column_name <> 'id'"""
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["table_name"], set()).add(r["column_name"])
    return out


async def test_the_registry_names_every_source_column_the_views_read(
    db: asyncpg.Connection,
) -> None:
    declared = registry.trigger_columns()
    reads = await _view_reads(db)
    assert set(declared) == set(reads)
    for table, columns in declared.items():
        if columns != ["*"]:
            assert set(columns) == reads[table], table


async def test_the_change_triggers_fire_on_exactly_the_columns_the_features_read(
    db: asyncpg.Connection,
) -> None:
    installed = await _update_triggers(db)
    assert set(installed) == set(registry.trigger_columns())
    for table, columns in registry.trigger_columns().items():
        (trigger,) = installed[table]
        if table in registry.TRIGGERS:
            # A listed trigger: a column the features read and the list lacks would let
            # its edits stop reaching the index, silently.
            assert trigger["name"] == registry.TRIGGERS[table].name
            assert trigger["columns"] == columns, table
            expected_when = columns if registry.TRIGGERS[table].when_changed else None
            assert trigger["when"] == expected_when, table
        else:
            # Any update of the table refreshes its rows.
            assert trigger["columns"] == [], table
            assert trigger["when"] is None, table


async def test_the_registry_installs_what_the_migrations_installed(
    db: asyncpg.Connection,
) -> None:
    """`install_sql` (what a migration freezes when a feature changes) runs, and leaves
    the triggers as they were."""
    before = await _update_triggers(db)
    for statement in registry.install_sql():
        await db.execute(statement)
    assert await _update_triggers(db) == before


async def _frozen_array(db: asyncpg.Connection, function: str) -> list[str]:
    source = await db.fetchval("SELECT prosrc FROM pg_proc WHERE proname = $1", function)
    (listed,) = re.findall(r"ARRAY\[([^\]]*)\]", source)
    return re.findall(r"'([^']*)'", listed)


async def test_the_migrations_frozen_code_tables_equal_the_enums(db: asyncpg.Connection) -> None:
    assert await _frozen_array(db, "match_platform_code") == [p.value for p in Platform]
    assert await _frozen_array(db, "match_niche_code") == [n.value for n in Niche]
    assert await _frozen_array(db, "match_format_index") == [f.value for f in DeliverableFormat]
    assert await _frozen_array(db, "match_tier_bit") == [t.value for t in Tier]
    # And the codes they give are the ones Python reads.
    for value, code in PLATFORM_CODES.items():
        assert await db.fetchval("SELECT match_platform_code($1)", value) == code
    for value, code in NICHE_CODES.items():
        assert await db.fetchval("SELECT match_niche_code($1)", value) == code
    for i, f in enumerate(DeliverableFormat):
        assert await db.fetchval("SELECT match_format_index($1)", f.value) == i
    for value, bit in TIER_BITS.items():
        assert await db.fetchval("SELECT match_tier_bit($1)", value) == bit
    letters = [chr(c) for c in range(65, 91)]
    countries = [a + b for a in letters for b in letters]
    codes = await db.fetchval(
        "SELECT array_agg(match_country_code(c)) FROM unnest($1::text[]) c", countries
    )
    assert codes == [country_code(c) for c in countries]
    # The audience buckets the views read are the API's (genders' bits, ages' names).
    assert list(registry.GENDER_BITS) == list(get_args(GenderBucket))
    assert [name for name, _, _ in registry.AGE_BUCKETS] == list(get_args(AgeBucket))


def test_the_creator_copy_holds_every_held_account_feature_on_a_fixed_width() -> None:
    held = [f for f in registry.ACCOUNT if f.held not in (None, "uuid")]
    copied = {name for name, _, _, _ in COPIED}
    for f in held:
        if f.kind.wire is None:  # the rate card: one column per format
            assert {f"fee_{k}" for k in range(1, registry.FORMATS + 1)} <= copied, f.name
        else:
            assert f.name in copied, f.name
        if f.nullable and f.kind.wire is not None:
            # NULL travels as -1 and is held as NaN.
            assert np.dtype(f.held).kind == "f", f.name
    assert all(wire is not None for _, _, wire, _ in COPIED)
