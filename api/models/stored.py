"""Stored rows and JSON documents answered as their schema serialises them, without
validating them again.

A hot read used to build its `*Read` schema from the row (pydantic validating every field
and every nested document) only to serialise it at once: for a page of 20 briefs that was
most of the server's CPU. What validation added is small and known: a nested document
stored before a field existed lacks that field's default, and keys come back from JSONB
in its own order (shortest first), not the schema's; numeric columns come back as
`Decimal` where the schema says `float`. `shaper(model)` does exactly that, derived from
the model once: the schema's fields in its order, a missing one as its default, nested
models (also in lists or optional) shaped the same way, floats as floats. Everything else
was validated when it was written and is passed through as stored.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from inspect import isclass
from operator import itemgetter
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python

Shape = Callable[[Mapping[str, Any]], dict[str, Any]]


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `Annotated` and `| None`, and whether it is a list of it."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _unwrapped(rest[0])
    if get_origin(annotation) is list:
        inner, _ = _unwrapped(get_args(annotation)[0])
        return inner, True
    return annotation, False


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


@cache
def shaper(model: type[BaseModel]) -> Shape:
    """A function from a stored mapping (a row, a JSON document) to the plain values
    `model`'s serialiser would write for it, in its field order (see the module)."""
    names = tuple(model.model_fields)
    defaults: dict[str, Any] = {}
    converts: list[tuple[str, Callable[[Any], Any], bool]] = []
    for name, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if default is not PydanticUndefined:
            defaults[name] = to_jsonable_python(default)
        inner, many = _unwrapped(info.annotation)
        if isclass(inner) and issubclass(inner, BaseModel):
            converts.append((name, shaper(inner), many))
        elif inner is float:
            converts.append((name, _float, many))
    every = itemgetter(*names)

    def shape(stored: Mapping[str, Any]) -> dict[str, Any]:
        try:  # a complete mapping: its values in one C call
            values = every(stored)
        except KeyError:  # stored before a field existed: its default
            values = tuple(
                stored[name] if name in stored or name not in defaults else defaults[name]
                for name in names
            )
        out = dict(zip(names, values if len(names) > 1 else (values,), strict=True))
        for name, convert, many in converts:
            value = out[name]
            if value is not None:
                out[name] = [convert(v) for v in value] if many else convert(value)
        return out

    return shape
