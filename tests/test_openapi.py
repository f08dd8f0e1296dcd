"""The OpenAPI document: committed and current, complete, and browsable offline at /docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
OPS_PATHS = {"/healthz", "/readyz", "/metrics"}
METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _v1_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for m, p, op in _operations(app.openapi()) if p not in OPS_PATHS]


def test_committed_document_matches_the_app(app: FastAPI) -> None:
    # Exactly what `briefboard openapi` (make openapi) writes.
    current = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    assert COMMITTED.read_text() == current, "openapi/openapi.json is stale: run `make openapi`"


def test_every_operation_has_a_stable_unique_operation_id(app: FastAPI) -> None:
    ids = [op.get("operationId") for _, _, op in _operations(app.openapi())]
    assert all(ids), [
        (m, p) for m, p, op in _operations(app.openapi()) if not op.get("operationId")
    ]
    assert len(ids) == len(set(ids))
    # Chosen names, not FastAPI's generated `name_path_method` ones.
    assert [i for i in ids if not re.fullmatch(r"[a-z][A-Za-z0-9]*", str(i))] == []


def test_every_v1_operation_lives_under_v1(app: FastAPI) -> None:
    assert [p for _, p, _ in _v1_operations(app) if not p.startswith("/v1/")] == []


def _scopes(op: dict[str, Any]) -> list[str]:
    return [s for requirement in op.get("security", []) for v in requirement.values() for s in v]


def test_signed_in_operations_document_401_and_scoped_ones_403(app: FastAPI) -> None:
    missing = [
        (m, p, sorted(op["responses"]))
        for m, p, op in _v1_operations(app)
        if op.get("security")
        and not ({"401", "403"} if _scopes(op) else {"401"}) <= set(op["responses"])
    ]
    assert missing == []


def test_operations_with_input_document_422(app: FastAPI) -> None:
    missing = [
        (m, p)
        for m, p, op in _v1_operations(app)
        if (op.get("parameters") or op.get("requestBody"))
        and "422" not in op["responses"]
        # RFC 6749: the token endpoint answers a malformed request with 400 invalid_request.
        and p != "/v1/auth/token"
    ]
    assert missing == []


def test_anonymous_operations_are_only_register_and_token(app: FastAPI) -> None:
    anonymous = {(m, p) for m, p, op in _v1_operations(app) if not op.get("security")}
    assert anonymous == {("POST", "/v1/auth/register"), ("POST", "/v1/auth/token")}
    token = app.openapi()["paths"]["/v1/auth/token"]["post"]
    # RFC 6749 section 5.2: every token error is a 400 (429 while throttled).
    assert {"400", "429"} <= set(token["responses"])
    assert not {"401", "422"} & set(token["responses"])


def test_every_error_response_is_a_documented_problem(app: FastAPI) -> None:
    document = app.openapi()
    wrong = []
    for method, path, op in _operations(document):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            schema = response.get("content", {}).get("application/problem+json", {}).get("schema")
            # The token endpoint's problems carry RFC 6749's `error` members as well.
            expected = "TokenProblem" if path == "/v1/auth/token" else "Problem"
            if schema != {"$ref": f"#/components/schemas/{expected}"}:
                wrong.append((method, path, status))
    assert wrong == []
    # FastAPI's own validation-error shape is never what the API answers.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert {"type", "title", "status", "detail", "code"} <= set(
        document["components"]["schemas"]["Problem"]["required"]
    )


async def test_docs_page_loads_its_assets_from_the_app(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", r.text)
    urls = re.findall(r"""url:\s*['"]([^'"]+)['"]""", r.text)
    assert "/docs/static/swagger-ui-bundle.js" in sources
    assert "/docs/static/swagger-ui.css" in sources
    assert "/openapi.json" in urls
    external = [s for s in sources + urls if s.startswith(("http:", "https:", "//"))]
    assert external == []
    for asset in sources:
        got = await client.get(asset)
        assert got.status_code == 200, asset
        assert got.content


async def test_docs_static_files_are_served(client: httpx.AsyncClient) -> None:
    js = await client.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    css = await client.get("/docs/static/swagger-ui.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Briefboard API"


async def test_docs_serve_swagger_ui_5_which_reads_openapi_3_1(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # Swagger UI 4 shows "Unable to render this definition" for the 3.1 document FastAPI
    # writes; the real-browser check in .ci/run proves the page draws.
    assert app.openapi()["openapi"].startswith("3.1")
    js = await client.get("/docs/static/swagger-ui-bundle.js")
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', js.text)
    assert version is not None
    assert int(version.group(1)) >= 5


async def test_redoc_page_loads_only_from_the_app(client: httpx.AsyncClient) -> None:
    r = await client.get("/redoc")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    sources = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", r.text)
    assert "/redoc/static/redoc.standalone.js" in sources
    assert [s for s in sources if s.startswith(("http:", "https:", "//"))] == []
    # Redoc's own footer logo lives on a CDN; the policy keeps the page from fetching it.
    assert "default-src 'self'" in r.headers["content-security-policy"]
    js = await client.get("/redoc/static/redoc.standalone.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
