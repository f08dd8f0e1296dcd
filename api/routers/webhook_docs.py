"""The OpenAPI 3.1 `webhooks` section: one entry per event type, with its typed payload, so
generated clients get a model for every event a receiver may get."""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from typing import Any, Literal

from fastapi import Body, FastAPI
from pydantic import BaseModel, Field, create_model

from api.services.event_catalog import EVENT_TYPES

_HEADERS = (
    "Signed per the Standard Webhooks specification: `webhook-id` (the event id, the same "
    "on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` "
    "(`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the subscription's secret; two "
    "signatures, space-separated, for 24 h after a secret rotation)."
)


def _model_name(event_type: str) -> str:
    words = re.split(r"[._]", event_type)
    return "".join(w.capitalize() for w in words) + "Event"


def envelope(event_type: str, data: type[BaseModel]) -> type[BaseModel]:
    """The body a receiver gets for one event type, as a model."""
    fields: dict[str, Any] = {
        "id": (str, Field(description="The event id; also the `webhook-id` header.")),
        "type": (Literal[event_type], ...),
        "timestamp": (datetime, Field(description="When the change happened.")),
        "data": (data, ...),
    }
    model: type[BaseModel] = create_model(_model_name(event_type), **fields)
    return model


def install_webhook_docs(app: FastAPI) -> None:
    """Document every event type under the OpenAPI document's top-level `webhooks`."""
    for event_type, spec in EVENT_TYPES.items():
        envelope_model = envelope(event_type, spec.data)

        async def receive(body: Any) -> None:  # pragma: no cover - documentation only
            return None

        receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "body",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=envelope_model,
                    default=Body(...),
                )
            ]
        )
        app.webhooks.add_api_route(
            event_type,
            receive,
            methods=["POST"],
            operation_id="on" + _model_name(event_type).removesuffix("Event"),
            summary=spec.description,
            description=_HEADERS,
            tags=["webhooks"],
            status_code=200,
            responses={
                200: {"description": "Received (any 2xx)."},
                410: {"description": "Gone: the subscription is disabled, nothing more is sent."},
                "default": {
                    "description": "Any other answer, or none within 10 s, is retried with "
                    "exponential backoff for about three days."
                },
            },
        )
