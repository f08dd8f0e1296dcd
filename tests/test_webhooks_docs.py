"""The OpenAPI document's `webhooks` section: every event type, with a typed payload."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI

from api.services.event_catalog import EVENT_TYPES

API = Path(__file__).resolve().parent.parent / "api"


def test_every_event_type_is_documented_with_its_payload_schema(app: FastAPI) -> None:
    document = app.openapi()
    assert document["openapi"].startswith("3.1")
    assert set(document["webhooks"]) == set(EVENT_TYPES)
    schemas = document["components"]["schemas"]
    for event_type, spec in EVENT_TYPES.items():
        operation = document["webhooks"][event_type]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        envelope = schemas[ref.rsplit("/", 1)[1]]
        assert envelope["properties"]["type"]["const"] == event_type
        assert envelope["properties"]["data"]["$ref"].endswith("/" + spec.data.__name__)
        assert {"200", "410"} <= set(operation["responses"])


def test_every_event_the_code_records_is_in_the_catalog() -> None:
    """A service that starts recording a new type must document it."""
    recorded = set()
    for path in API.rglob("*.py"):
        recorded |= set(re.findall(r'"([a-z_]+\.[a-z_]+)",?\s*(?:\n|,|\))', path.read_text()))
    event_like = {t for t in recorded if t.split(".")[0] in {n.split(".")[0] for n in EVENT_TYPES}}
    assert event_like - set(EVENT_TYPES) == set()
