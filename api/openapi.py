"""The OpenAPI document: FastAPI's, plus the rules it cannot infer from the routes.

Each rule is one function here, applied to every operation it concerns, so a new route gets
it without remembering to: `Idempotency-Key` on signed-in POSTs, `If-Match` required where
428 is the answer, the page-size bounds on `limit`, an example on every request body, the
400 for malformed JSON, tag descriptions and schema names fit for generated clients.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

import api.models
from api import idempotency
from api.errors import problem_responses
from api.models.common import reject_explicit_null
from api.models.users import REGISTRATION_ALTERNATIVES, REGISTRATION_FIELDS
from api.models.webhooks import EVENT_TYPE_PATTERN
from api.openapi_examples import REQUEST_EXAMPLES
from api.services.event_catalog import EVENT_TYPES, RESOURCES
from api.settings import Settings

Document = dict[str, Any]
Operation = dict[str, Any]

TAGS: list[dict[str, str]] = [
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics."},
    {"name": "auth", "description": "Sign up, the OAuth2 token endpoint, and logging out."},
    {"name": "me", "description": "The caller: account, scoped API tokens, own lists."},
    {"name": "brands", "description": "Brand profiles."},
    {
        "name": "creators",
        "description": "Creator profiles, social accounts with audience figures, the "
        "directory brands search, and the private shipping address.",
    },
    {
        "name": "briefs",
        "description": "A brand's call for creators: drafts, search, the lifecycle "
        "(`draft` → `open` → `closed` → `completed`, or `cancelled`).",
    },
    {
        "name": "applications",
        "description": "Creators apply to open briefs; brands shortlist, decline or accept "
        "(accepting creates the deal). Invitations ask a matched creator to apply.",
    },
    {
        "name": "matching",
        "description": "Creators ranked for a brief, briefs ranked for a creator; each score "
        "shows its parts.",
    },
    {
        "name": "deals",
        "description": "Accepted applications: versioned terms (`ETag`/`If-Match`), usage "
        "rights on a date, cancelling and paying.",
    },
    {
        "name": "deliverables",
        "description": "Content owed under a deal: drafts, review rounds, the live post and "
        "its performance figures.",
    },
    {"name": "gifting", "description": "Gifted deals: the shipping address and shipments."},
    {"name": "reports", "description": "Campaign results per brief."},
    {"name": "admin", "description": "User administration (admins only)."},
    {
        "name": "brand teams",
        "description": "A brand's members and their roles (owner, manager, viewer), and "
        "single-use invitations to join.",
    },
    {
        "name": "conversations",
        "description": "One thread per application and per deal between the creator and the "
        "brand's members, with read markers and unread counts.",
    },
    {
        "name": "activity",
        "description": "Who did what on a brief or a deal, when, with the request id.",
    },
    {
        "name": "campaign operations",
        "description": "Working on many applications and deals at once: bulk decisions and "
        "shipments, the shipping list, the brief's deals, CSV exports.",
    },
    {
        "name": "budgets",
        "description": "A brief's total budget with committed, paid and remaining spend.",
    },
    {
        "name": "webhooks",
        "description": "Subscriptions that receive the events of your own objects, signed per "
        "Standard Webhooks, with every delivery attempt visible; and the event feed.",
    },
]


def idempotency_key_parameter(settings: Settings) -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Makes a retry safe: the same key with the same body within "
            f"{settings.idempotency_ttl_hours} hours replays the first response instead of "
            "acting twice; the same key with another body is a 422, and a retry while the "
            "first request still runs is a 409. Scoped to the caller."
        ),
        # The middleware's own rule for a well-formed key.
        "schema": {"type": "string", "pattern": idempotency._VALID_KEY.pattern},
        "example": "5f0c2a9e-8d1b-4a57-9a51-0a6d2f3c1e77",
    }


_METHODS = ("get", "put", "post", "delete", "patch")


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` build (once) and return the finished document."""

    def openapi() -> Document:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI, settings: Settings) -> Document:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=TAGS,
    )
    rules: list[Callable[[str, str, Operation], None]] = [
        lambda m, _p, op: _idempotency_key(m, op, settings),
        _if_match_required_where_428,
        _malformed_json_400,
        lambda _m, _p, op: _page_size_bounds(op, settings),
        _request_body_example,
    ]
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                for rule in rules:
                    rule(method, path, item[method])
    _not_nullable_where_null_is_refused(document)
    _registration_union(document)
    _form_bodies_as_components(document)
    _closed_pattern_properties(document["components"]["schemas"])
    _event_type_names(document)
    _clean_schema_names(document)
    return document


def _idempotency_key(method: str, op: Operation, settings: Settings) -> None:
    # The middleware remembers signed-in callers only; an anonymous POST ignores the key.
    if method == "post" and op.get("security"):
        op.setdefault("parameters", []).append(idempotency_key_parameter(settings))


def _if_match_required_where_428(_method: str, _path: str, op: Operation) -> None:
    if "428" not in op["responses"]:
        return
    for parameter in op.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            parameter["required"] = True


def _malformed_json_400(_method: str, _path: str, op: Operation) -> None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        response = problem_responses(400)[400]
        op["responses"].setdefault(
            "400",
            {
                "description": "The body is not well-formed JSON (`malformed_json`).",
                "content": response["content"],
            },
        )


def _page_size_bounds(op: Operation, settings: Settings) -> None:
    for parameter in op.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] == "limit":
            schema = parameter["schema"]
            bounds = {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_page_size,
                "default": settings.default_page_size,
            }
            schema.pop("anyOf", None)
            schema.update(bounds)


def _request_body_example(_method: str, _path: str, op: Operation) -> None:
    for media in op.get("requestBody", {}).get("content", {}).values():
        schema = media["schema"]
        # An optional body is `anyOf: [{$ref}, {type: null}]`.
        refs = [s.get("$ref", "") for s in schema.get("anyOf", [schema])]
        name = next((r for r in refs if r), "").rsplit("/", 1)[-1]
        example = REQUEST_EXAMPLES.get(name) or REQUEST_EXAMPLES.get(op["operationId"])
        if example is not None:
            media["example"] = copy.deepcopy(example)


def _refused_nulls() -> dict[str, set[str]]:
    """Per model name, the fields whose validator is `reject_explicit_null` (PATCH fields that
    may be omitted but not cleared): the validator is the rule, the schema follows it."""
    refused: dict[str, set[str]] = {}
    for module_info in pkgutil.iter_modules(api.models.__path__, "api.models."):
        module = importlib.import_module(module_info.name)
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            decorators = model.__pydantic_decorators__.field_validators.values()
            fields = {
                field
                for decorator in decorators
                if decorator.func is reject_explicit_null
                for field in decorator.info.fields
            }
            if fields:
                refused[model.__name__] = fields
    return refused


def _not_nullable_where_null_is_refused(document: Document) -> None:
    schemas = document["components"]["schemas"]
    for name, fields in _refused_nulls().items():
        properties = schemas.get(name, {}).get("properties", {})
        for field in fields:
            _drop_null(properties[field])


def _drop_null(prop: dict[str, Any]) -> None:
    branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        del prop["anyOf"]
        prop.update(branches[0])
    elif branches:
        prop["anyOf"] = branches
    if prop.get("default", ...) is None:
        del prop["default"]


def _registration_union(document: Document) -> None:
    """`RegisterRequest` is one model (so every field error is reported at once); clients see
    what it accepts: a union of one schema per role, told apart by `role`."""
    schemas = document["components"]["schemas"]
    flat = schemas.pop("RegisterRequest")
    union: dict[str, Any] = {"oneOf": [], "discriminator": {"propertyName": "role", "mapping": {}}}
    every_role_field = {f for fields in REGISTRATION_FIELDS.values() for f in fields}
    for role, fields in REGISTRATION_FIELDS.items():
        name = f"{role.capitalize()}Registration"
        variant = copy.deepcopy(flat)
        variant["title"] = name
        variant["description"] = f"An account with role `{role}`. {flat.get('description', '')}"
        properties = variant["properties"]
        for field in every_role_field - set(fields):
            del properties[field]
        properties["role"] = {"type": "string", "const": role, "title": "Role"}
        for field, required in fields.items():
            if not required:
                continue
            _drop_null(properties[field])
            alternative = REGISTRATION_ALTERNATIVES.get(field)
            if alternative is None:
                variant["required"].append(field)
            else:
                # Said in words: client generators read an object-level `oneOf` of
                # `required` lists as a union of types.
                _drop_null(properties[alternative])
                variant["description"] += f" Give exactly one of `{field}` and `{alternative}`."
        schemas[name] = variant
        ref = f"#/components/schemas/{name}"
        union["oneOf"].append({"$ref": ref})
        union["discriminator"]["mapping"][role] = ref
    _replace_nodes(document, {"$ref": "#/components/schemas/RegisterRequest"}, union)


def _replace_nodes(node: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        if isinstance(child, dict) and {k: child.get(k) for k in old} == old:
            child.clear()
            child.update(copy.deepcopy(new))
        else:
            _replace_nodes(child, old, new)


def _closed_pattern_properties(node: Any) -> None:
    """A map whose keys must match a pattern (`dict[CountryCode, Percent]`) refuses other
    keys, which pydantic leaves unsaid (`additionalProperties` unset means "anything")."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _closed_pattern_properties(value)
    elif isinstance(node, list):
        for value in node:
            _closed_pattern_properties(value)


def _event_type_names(node: Any) -> None:
    """An event type (a webhook's filter, the feed's `type`) is a name of the catalog or a
    `resource.*` wildcard of one of its resources: listed, where the model has a pattern."""
    if isinstance(node, dict):
        if node.get("pattern") == EVENT_TYPE_PATTERN:
            for key in ("pattern", "minLength", "maxLength"):
                node.pop(key, None)
            node["enum"] = sorted(EVENT_TYPES) + sorted(f"{r}.*" for r in RESOURCES)
        for value in node.values():
            _event_type_names(value)
    elif isinstance(node, list):
        for value in node:
            _event_type_names(value)


def _form_bodies_as_components(document: Document) -> None:
    """A form body written out inline (the token endpoint reads its form itself) becomes a
    named component, `<OperationId>Request`, as FastAPI names the form bodies it builds."""
    for operations in document["paths"].values():
        for op in operations.values():
            content = op.get("requestBody", {}).get("content", {})
            media = content.get("application/x-www-form-urlencoded")
            if media is None or "$ref" in media["schema"]:
                continue
            name = op["operationId"][:1].upper() + op["operationId"][1:] + "Request"
            document["components"]["schemas"][name] = {**media["schema"], "title": name}
            media["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _clean_schema_names(document: Document) -> None:
    """Names fit for generated clients: FastAPI's `Body_issueToken` (a form body) becomes
    `IssueTokenRequest`, pydantic's `Page_BriefRead_` (a generic) becomes `BriefReadPage`."""
    schemas = document["components"]["schemas"]
    renames = {}
    for old in schemas:
        if old.startswith("Body_"):
            operation_id = old.removeprefix("Body_")
            renames[old] = operation_id[:1].upper() + operation_id[1:] + "Request"
        elif generic := re.fullmatch(r"([A-Za-z0-9]+)_([A-Za-z0-9]+)_", old):
            renames[old] = generic.group(2) + generic.group(1)
    for old, new in renames.items():
        assert new not in schemas, f"{old} would replace {new}"
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    prefix = "#/components/schemas/"
    _replace_refs(document, {prefix + old: prefix + new for old, new in renames.items()})


def _replace_refs(node: Any, refs: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in refs:
            node["$ref"] = refs[ref]
        for value in node.values():
            _replace_refs(value, refs)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, refs)
