"""JSON Schemas of message models, in the AsyncAPI Schema format (a superset of draft 07).

Pydantic writes JSON Schema 2020-12. Three of its keywords mean something else, or
nothing, in AsyncAPI 3.0 and are rewritten: ``$defs`` go to ``components.schemas`` (and
every ``$ref`` follows), ``prefixItems`` (tuples) become draft-07 ``items`` arrays, and
OpenAPI-style ``discriminator`` objects are dropped (AsyncAPI's ``discriminator`` is a
property name with inheritance semantics; the ``oneOf`` of ``const``-tagged variants
already says everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

SCHEMA_REF = "#/components/schemas/{model}"

Direction = Literal["validation", "serialization"]


class _WireSchema(GenerateJsonSchema):
    """Pydantic's generator, with one change: in serialization mode (what the server
    sends) every field is required, since chanx serializes defaults too."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization" and field["type"] != "typed-dict-field":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


def message_schemas(
    models: Sequence[tuple[type[BaseModel], JsonSchemaMode]],
) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]], dict[str, Any]]:
    """Schemas for ``(model, mode)`` pairs: the schema of each pair (usually a ``$ref``)
    and every named schema they use, for ``components.schemas`` (sorted by name)."""
    by_pair, top = models_json_schema(
        models, by_alias=True, ref_template=SCHEMA_REF, schema_generator=_WireSchema
    )
    definitions = top.get("$defs", {})
    named = {name: to_asyncapi(definitions[name]) for name in sorted(definitions)}
    converted = {(model, mode): to_asyncapi(schema) for (model, mode), schema in by_pair.items()}
    return cast("dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]", converted), named


def to_asyncapi(schema: Any) -> Any:
    """A copy of a Pydantic JSON Schema rewritten for the AsyncAPI Schema format."""
    if isinstance(schema, list):
        return [to_asyncapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "discriminator" and isinstance(value, dict):
            continue
        if key == "$defs":  # models_json_schema hoists these; a stray one is a bug
            raise ValueError("nested $defs in a message schema")
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: to_asyncapi(sub) for name, sub in value.items()}
        elif key == "prefixItems":
            out["items"] = to_asyncapi(value)
        elif key == "items" and "prefixItems" in schema:
            out["additionalItems"] = to_asyncapi(value)
        elif key in ("const", "default", "enum", "examples", "example"):
            out[key] = value  # data, not schemas
        else:
            out[key] = to_asyncapi(value)
    if "prefixItems" in schema and "items" not in schema and "maxItems" not in schema:
        out["additionalItems"] = False
    return out


def refs_in(value: Any) -> set[str]:
    """Every ``$ref`` string anywhere in ``value``."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
