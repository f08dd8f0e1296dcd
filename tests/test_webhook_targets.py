"""The SSRF guard: webhook targets must be https, without credentials, and resolve only to
public addresses, at registration and again at every delivery attempt."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from api.services.webhook_targets import TargetRefused, resolve_target
from tests import factories
from tests.factories import assert_problem
from tests.webhook_helpers import Clock, deliveries, dispatcher, emit, subscribe
from tests.webhook_receiver import receiver, tls_receiver

# One address of every refused class, as a literal and as what a name resolves to.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link_local"),
    ("fe80::1", "link_local"),
    ("100.64.0.1", "cgnat"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - a refused target, not a bind address
    ("fd12:3456::1", "unique_local"),
    ("::ffff:127.0.0.1", "ipv4_mapped"),
    ("::ffff:8.8.8.8", "ipv4_mapped"),
    ("64:ff9b::a00:1", "reserved"),
]


def _fixed(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_every_non_public_class_is_refused_when_resolved(address: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target(
            "https://hooks.example.com/x", allow_private=False, resolver=_fixed(address)
        )
    assert refused.value.reason == reason


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_every_non_public_class_is_refused_as_a_literal(address: str, reason: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(TargetRefused) as refused:
        await resolve_target(f"https://{host}/x", allow_private=False)
    assert refused.value.reason == reason


async def test_one_private_address_among_public_ones_is_refused() -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target(
            "https://hooks.example.com/x",
            allow_private=False,
            resolver=_fixed("93.184.216.34", "10.0.0.8"),
        )
    assert refused.value.reason == "private"


async def test_public_address_passes_and_is_the_one_connected_to() -> None:
    target = await resolve_target(
        "https://hooks.example.com:8443/x", allow_private=False, resolver=_fixed("93.184.216.34")
    )
    assert (target.host, target.port, target.address) == (
        "hooks.example.com",
        8443,
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "scheme"),
        ("ftp://hooks.example.com/x", "scheme"),
        ("https://user:pass@hooks.example.com/x", "credentials"),
        ("https://user@hooks.example.com/x", "credentials"),
        ("https:///x", "invalid_url"),
        ("https://hooks.example.com:99999/x", "invalid_url"),
    ],
)
async def test_scheme_credentials_and_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target(url, allow_private=False, resolver=_fixed("93.184.216.34"))
    assert refused.value.reason == reason


async def test_allow_private_permits_http_and_loopback_but_never_credentials() -> None:
    target = await resolve_target("http://127.0.0.1:8080/x", allow_private=True)
    assert target.address == "127.0.0.1"
    with pytest.raises(TargetRefused):
        await resolve_target("http://u:p@127.0.0.1/x", allow_private=True)


@pytest.fixture
def production_targets(app: FastAPI):  # type: ignore[no-untyped-def]
    """The app as in production: private targets refused."""
    original = app.state.settings
    app.state.settings = original.model_copy(update={"webhooks_allow_private_targets": False})
    yield
    app.state.settings = original


@pytest.mark.usefixtures("production_targets")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://user:pw@hooks.example.com/x",
        "https://localhost/x",
    ],
)
async def test_registration_refuses_non_public_targets(client: httpx.AsyncClient, url: str) -> None:
    brand = await factories.brand(client)
    r = await client.post("/v1/webhooks", json={"url": url}, headers=brand.headers)
    problem = assert_problem(r, 422, "webhook_url_refused")
    assert problem["errors"][0]["loc"] == ["body", "url"]
    hook = await client.post(
        "/v1/webhooks", json={"url": "https://hooks.example.com/x"}, headers=brand.headers
    )
    assert hook.status_code == 201
    r = await client.patch(
        f"/v1/webhooks/{hook.json()['id']}", json={"url": url}, headers=brand.headers
    )
    assert_problem(r, 422, "webhook_url_refused")


async def test_each_attempt_resolves_again_and_refuses_a_rebound_name(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """DNS rebinding: a name accepted at registration resolves to a private address at
    delivery time; every attempt asks the resolver again and is refused before connecting."""
    brand = await factories.brand(client)
    hook = await subscribe(client, brand, "https://hooks.example.com/x")
    await emit(app, brand_id=brand.brand_id)
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["10.0.0.7"]

    clock = Clock()
    worker = dispatcher(app, clock, webhooks_allow_private_targets=False)
    worker.resolver = rebinding
    await worker.run_once()
    clock.advance(timedelta(minutes=1))
    await worker.run_once()
    assert asked == ["hooks.example.com", "hooks.example.com"]
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "pending"
    assert [a["error"] for a in delivery["attempts"]] == ["refused_private"] * 2
    assert [a["status_code"] for a in delivery["attempts"]] == [None, None]


async def test_the_dispatcher_connects_to_the_address_it_checked(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The name is resolved once per attempt, by the guard; the connection goes to that
    address with the name kept in the Host header."""
    brand = await factories.brand(client)
    with receiver() as rx:
        url = rx.url.replace("127.0.0.1", "receiver.invalid")
        hook = await subscribe(client, brand, url)
        await emit(app, brand_id=brand.brand_id)
        worker = dispatcher(app)
        worker.resolver = _fixed("127.0.0.1")
        await worker.run_once()
    [request] = rx.requests
    assert request.headers["host"].startswith("receiver.invalid:")
    [delivery] = await deliveries(client, brand, hook)
    assert delivery["status"] == "delivered"


async def test_tls_is_checked_against_the_name_while_connecting_to_the_checked_address(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    """The dispatcher connects to the resolved address, yet TLS (SNI and the certificate
    check) uses the URL's name: a certificate for `hooks.test` is accepted at 127.0.0.1,
    and one for another name is refused."""
    brand = await factories.brand(client)
    with tls_receiver("hooks.test", str(tmp_path)) as rx:
        url = rx.url.replace("127.0.0.1", "hooks.test")
        hook = await subscribe(client, brand, url)
        wrong = await subscribe(client, brand, rx.url.replace("127.0.0.1", "other.test"))
        await emit(app, brand_id=brand.brand_id)
        trusted = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        async with httpx.AsyncClient(verify=trusted) as http:
            worker = dispatcher(app)
            worker.client = http
            worker.resolver = _fixed("127.0.0.1")
            await worker.run_once()
    [request] = rx.requests
    assert request.headers["host"].startswith("hooks.test:")
    assert Webhook(hook["secret"]).verify(request.body, request.headers)
    [ok] = await deliveries(client, brand, hook)
    assert ok["status"] == "delivered"
    [refused] = await deliveries(client, brand, wrong)
    assert refused["status"] == "pending"
    assert refused["attempts"][0]["error"] == "connection_error"


@pytest.mark.parametrize("flag", [0, 1, "false"])
async def test_enabled_takes_a_json_boolean_only(client: httpx.AsyncClient, flag: object) -> None:
    brand = await factories.brand(client)
    url = "https://hooks.example.com/x"
    r = await client.post("/v1/webhooks", json={"url": url, "enabled": flag}, headers=brand.headers)
    assert_problem(r, 422, "validation_error")
    hook = await client.post("/v1/webhooks", json={"url": url}, headers=brand.headers)
    r = await client.patch(
        f"/v1/webhooks/{hook.json()['id']}", json={"enabled": flag}, headers=brand.headers
    )
    assert_problem(r, 422, "validation_error")
    assert r.json()["errors"][0]["loc"] == ["body", "enabled"]
