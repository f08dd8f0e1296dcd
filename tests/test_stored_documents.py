"""A brief's stored JSON documents read the same whether or not they hold every default.

Hot reads serialise the stored row as `BriefRead` would (`api.models.stored`) instead of
validating it again; a document written before a field existed lacks that field, and
reads must still show its default, in the schema's order, exactly as validation did.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_json, to_jsonable_python

from api.models.briefs import (
    BriefRead,
    Disclosure,
    Product,
    ScreeningQuestion,
    TargetAudience,
    UsageRights,
)
from api.models.stored import shaper
from tests import factories

COLUMNS = ", ".join(f for f in BriefRead.model_fields if f != "deliverables")
DOCUMENTS = {
    "target_audience": TargetAudience,
    "usage_rights": UsageRights,
    "disclosure": Disclosure,
    "product": Product,
}


def _without_defaults(model: type[BaseModel], document: dict[str, Any]) -> dict[str, Any]:
    """The document as written before its defaulted fields existed: each key holding its
    field's default left out."""
    out = {}
    for name, value in document.items():
        default = model.model_fields[name].get_default(call_default_factory=True)
        if default is PydanticUndefined or value != to_jsonable_python(default):
            out[name] = value
    return out


async def _strip_defaults(app: FastAPI, brief_id: str) -> None:
    [row] = await factories.db_rows(
        app,
        f"SELECT {', '.join(DOCUMENTS)}, screening_questions FROM briefs WHERE id = :id",  # noqa: S608
        id=brief_id,
    )
    for column, model in DOCUMENTS.items():
        stripped = _without_defaults(model, row[column])
        assert stripped != row[column], column  # the test strips something
        await factories.db_execute(
            app,
            f"UPDATE briefs SET {column} = CAST(:doc AS jsonb) WHERE id = :id",  # noqa: S608
            doc=json.dumps(stripped),
            id=brief_id,
        )
    questions = [_without_defaults(ScreeningQuestion, q) for q in row["screening_questions"]]
    await factories.db_execute(
        app,
        "UPDATE briefs SET screening_questions = CAST(:doc AS jsonb) WHERE id = :id",
        doc=json.dumps(questions),
        id=brief_id,
    )


async def test_a_brief_stored_without_its_defaults_reads_as_one_stored_with_them(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    reader = await factories.creator(client)
    brief = await factories.open_brief(
        client, owner, screening_questions=[{"question": "Have you used a serum?"}]
    )
    path = f"/v1/briefs/{brief['id']}"
    complete = await client.get(path, headers=reader.headers)
    [listed] = [
        b
        for b in (await client.get("/v1/briefs?mine=true", headers=owner.headers)).json()["items"]
        if b["id"] == brief["id"]
    ]
    [stored] = await factories.db_rows(
        app, "SELECT usage_rights FROM briefs WHERE id = :id", id=brief["id"]
    )
    assert "ai_likeness_reuse_prohibited" in stored["usage_rights"]

    await _strip_defaults(app, brief["id"])
    [stripped] = await factories.db_rows(
        app, "SELECT usage_rights FROM briefs WHERE id = :id", id=brief["id"]
    )
    assert "ai_likeness_reuse_prohibited" not in stripped["usage_rights"]

    again = await client.get(path, headers=reader.headers)
    [listed_again] = [
        b
        for b in (await client.get("/v1/briefs?mine=true", headers=owner.headers)).json()["items"]
        if b["id"] == brief["id"]
    ]
    assert again.content == complete.content  # byte for byte: the same keys, order, values
    assert listed_again == listed == complete.json()
    assert again.json()["screening_questions"] == [
        {"question": "Have you used a serum?", "required": True}
    ]
    assert again.json()["usage_rights"]["ai_likeness_reuse_prohibited"] is True


async def test_shaped_values_serialise_as_the_validated_schema(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await factories.brand(client)
    brief = await factories.open_brief(
        client, owner, screening_questions=[{"question": "Have you used a serum?"}]
    )
    await _strip_defaults(app, brief["id"])
    [row] = await factories.db_rows(
        app,
        f"SELECT {COLUMNS} FROM briefs WHERE id = :id",  # noqa: S608 - our own column names
        id=brief["id"],
    )
    row["deliverables"] = brief["deliverables"]
    validated = BriefRead.model_validate(row)
    shaped: dict[str, Any] = shaper(BriefRead)(row)
    assert to_json(shaped) == validated.model_dump_json().encode()
