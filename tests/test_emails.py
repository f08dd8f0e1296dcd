"""Email addresses are validated and normalised (NFKC, IDNA, lower case) before they are
stored or compared, so look-alike spellings of one address are one account."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from api.migrations_state import alembic_config
from api.models.users import normalize_email
from tests import factories
from tests.factories import PASSWORD, assert_problem, login


def _body(email: str) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "role": "creator"}


async def _register(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/v1/auth/register", json=_body(email))


def _email_errors(problem: dict[str, Any]) -> list[str]:
    return [e["msg"] for e in problem.get("errors", []) if e["loc"] == ["body", "email"]]


def _fullwidth(text: str) -> str:
    """The fullwidth forms of ASCII letters and digits (NFKC-equal to them)."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def _tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.parametrize(
    ("first", "look_alike"),
    [
        pytest.param(
            "ana{t}@example.com",
            _fullwidth("ANA") + "{t}@" + _fullwidth("example.com"),
            id="fullwidth",
        ),
        pytest.param("jos\u00e9{t}@example.com", "jose\u0301{t}@example.com", id="combining-mark"),
        pytest.param("ana{t}@b\u00fccher.example", "ana{t}@xn--bcher-kva.example", id="idna"),
        pytest.param("Ana{t}@Example.com", "ana{t}@EXAMPLE.COM", id="case"),
    ],
)
async def test_look_alike_spelling_of_a_registered_email_is_taken(
    client: httpx.AsyncClient, first: str, look_alike: str
) -> None:
    tag = _tag()
    r = await _register(client, first.format(t=tag))
    assert r.status_code == 201, r.text
    assert_problem(await _register(client, look_alike.format(t=tag)), 409, "email_taken")
    # The look-alike spelling signs in to the one account.
    signed_in = await login(client, look_alike.format(t=tag))
    assert signed_in.status_code == 200, signed_in.text


async def test_email_is_stored_in_its_normal_form(client: httpx.AsyncClient) -> None:
    tag = _tag()
    r = await _register(client, f"  {_fullwidth('ANA')}{tag}@B\u00fccher.Example ")
    assert r.status_code == 201, r.text
    assert r.json()["email"] == f"ana{tag}@b\u00fccher.example"


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("a\u200bna@example.com", id="zero-width-space"),
        pytest.param("ana@exam\u00adple.com", id="soft-hyphen"),
        pytest.param("\u202eana@example.com", id="right-to-left-override"),
        pytest.param("ana\u2060@example.com", id="word-joiner"),
        pytest.param("ana@example.com.", id="trailing-dot-domain"),
        pytest.param("<script>@x.example", id="markup"),
        pytest.param("Ana <ana@example.com>", id="display-name"),
        pytest.param("ana@localhost", id="no-domain"),
        pytest.param("ana@site.test", id="special-use-domain"),
        pytest.param("ana..lopez@example.com", id="double-dot"),
        pytest.param("ana\n@example.com", id="newline"),
    ],
)
async def test_invalid_or_invisible_email_is_refused(client: httpx.AsyncClient, email: str) -> None:
    problem = assert_problem(await _register(client, email), 422, "validation_error")
    assert _email_errors(problem), problem


async def test_sign_in_with_an_invalid_address_is_a_plain_failure(
    client: httpx.AsyncClient,
) -> None:
    r = await login(client, "a\u200bna@example.com")
    assert r.status_code in (400, 401), r.text


# --- existing rows -----------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _alembic(url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(command.upgrade, config, revision)


async def test_migration_normalises_the_emails_already_stored(database_url: str) -> None:
    name = f"{make_url(database_url).database}_email_{_tag()}"
    admin = await asyncpg.connect(_libpq(database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        await _alembic(url, "0011")
        conn = await asyncpg.connect(_libpq(url))
        try:
            stored = {
                _fullwidth("ana") + "@example.com": "ana@example.com",  # normalised
                "Ben@Example.COM": "ben@example.com",
                "ben@example.com ": "ben@example.com ",  # would collide: left as it was
                "not an email": "not an email",  # cannot be normalised: left as it was
            }
            for email in stored:
                await conn.execute(
                    "INSERT INTO users (id, email, password_hash, role) "
                    "VALUES ($1, $2, 'x', 'creator')",
                    uuid.uuid4(),
                    email,
                )
            await _alembic(url, "head")
            rows = await conn.fetch("SELECT email FROM users")
        finally:
            await conn.close()
        assert sorted(r["email"] for r in rows) == sorted(stored.values())
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_registration_still_works_for_plain_addresses(client: httpx.AsyncClient) -> None:
    actor = await factories.creator(client)
    assert (await login(client, actor.email)).status_code == 200


@settings(max_examples=300, deadline=None, database=None)
@given(st.emails())
def test_every_address_of_the_documented_format_is_accepted(address: str) -> None:
    """The schema says `format: email` (what generated clients and schemathesis send); the
    rule takes every such address."""
    assert normalize_email(address) == normalize_email(address.upper())


def test_the_schema_says_an_invitation_email_is_an_email(app: FastAPI) -> None:
    schema = app.openapi()["components"]["schemas"]["BrandInvitationCreate"]
    assert schema["properties"]["email"]["format"] == "email"
