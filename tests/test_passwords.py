"""Weak passwords are refused at registration with a field error; strong ones pass."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, assert_problem, unique_email


def _body(email: str, password: str) -> dict[str, str]:
    return {"email": email, "password": password, "role": "creator"}


def _password_errors(problem: dict[str, object]) -> list[str]:
    errors = problem.get("errors")
    assert isinstance(errors, list), problem
    return [e["msg"] for e in errors if e["loc"] == ["body", "password"]]


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaa", "1234567890", "password123", " " * 12, "qwertyuiop", "iloveyou2024"],
)
async def test_weak_password_is_refused_with_a_field_error(
    client: httpx.AsyncClient, password: str
) -> None:
    r = await client.post("/v1/auth/register", json=_body(unique_email("weak"), password))
    messages = _password_errors(assert_problem(r, 422, "validation_error"))
    assert messages
    assert "weak" in messages[0], messages


async def test_password_equal_to_or_containing_the_email_is_refused(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("ana.lopez")
    for password in (email, email.upper(), f"my {email} pw!"):
        r = await client.post("/v1/auth/register", json=_body(email, password))
        messages = _password_errors(assert_problem(r, 422, "validation_error"))
        assert messages
        assert "email" in messages[0], messages


@pytest.mark.parametrize(
    "password", [PASSWORD, "briefboard-demo", "spring-lemon-quartz", "Tr0ub4dor&3x"]
)
async def test_strong_passwords_are_accepted(client: httpx.AsyncClient, password: str) -> None:
    r = await client.post("/v1/auth/register", json=_body(unique_email("strong"), password))
    assert r.status_code == 201, r.text
