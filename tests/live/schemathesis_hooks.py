"""Schemathesis hooks for the CI run (loaded through tests/live/schemathesis.toml)."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

from api.idempotency import _VALID_KEY as _WELL_FORMED_KEY


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """A fresh `Idempotency-Key` for every well-formed one generated: schemathesis repeats
    keys across requests, and the same key with another request is, as documented, a 422
    `idempotency_key_reused`. Malformed keys are kept, so their 422 is still checked."""
    headers = case.headers or {}
    for name, value in list(headers.items()):
        well_formed = isinstance(value, str) and _WELL_FORMED_KEY.match(value)
        if name.lower() == "idempotency-key" and well_formed:
            headers[name] = str(uuid.uuid4())
