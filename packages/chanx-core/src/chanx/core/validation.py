"""Validation errors as a client may see them: without any text the client chose.

Pydantic's error messages and locations can carry input: an unknown union tag appears in
its message, a dict key the client picked appears in ``loc``, a validator's
``ValueError`` text may quote the value. :func:`public_errors` keeps what a client needs
to react (each error's ``type``, positions and the names the schema declares) and drops
the rest:

* ``msg`` is pydantic's message when it is built from the schema alone (``"Field
  required"``, ``"String should have at most 200 characters"``); for errors whose
  message embeds input it is a fixed wording of the same error (``"Value error"``,
  ``"Invalid JSON"``, ``"Input tag does not match any of the expected tags: 'circle',
  'square'"``); an error raised with a custom type keeps its message only when it has no
  context values (``PydanticCustomError("not_even", "Value must be even")``), else it
  reads ``"Invalid value"``;
* ``loc`` keeps list positions and every name the schema declares (fields, aliases,
  union tags and member names); anything else, a dict key for instance, becomes ``"*"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_core.core_schema import ErrorType

from chanx.messages.outgoing import ErrorDetail

__all__ = ["GENERIC_MESSAGE", "LOC_PLACEHOLDER", "declared_names", "public_errors"]

LOC_PLACEHOLDER = "*"
"""What stands in ``loc`` for a key the schema does not declare (a dict key)."""

GENERIC_MESSAGE = "Invalid value"
"""``msg`` of an error whose own message could carry input."""

KNOWN_ERROR_TYPES = frozenset(get_args(ErrorType))
"""Pydantic's own error types (others come from ``PydanticCustomError``)."""

SAFE_CONTEXT = frozenset(
    {
        "class",
        "class_name",
        "decimal_places",
        "discriminator",
        "encoding",
        "expected",
        "expected_schemes",
        "expected_tags",
        "expected_version",
        "field_type",
        "ge",
        "gt",
        "le",
        "lt",
        "max_digits",
        "max_length",
        "method_name",
        "min_length",
        "multiple_of",
        "pattern",
        "tz_expected",
        "whole_digits",
    }
)
"""Context values that come from the schema, never from the input."""

REWORDED = {
    "assertion_error": "Assertion failed",
    "bytes_invalid_encoding": "Data should be valid {encoding}",
    "date_from_datetime_parsing": "Input should be a valid date or datetime",
    "date_parsing": "Input should be a valid date in the format YYYY-MM-DD",
    "datetime_from_date_parsing": "Input should be a valid datetime or date",
    "datetime_object_invalid": "Invalid datetime object",
    "datetime_parsing": "Input should be a valid datetime",
    "get_attribute_error": "Error extracting attribute",
    "iteration_error": "Error iterating over object",
    "json_invalid": "Invalid JSON",
    "mapping_type": "Input should be a valid mapping",
    "no_such_attribute": "Object has no such attribute",
    "time_delta_parsing": "Input should be a valid timedelta",
    "time_parsing": "Input should be in a valid time format",
    "timezone_offset": "Timezone offset of {tz_expected} required",
    "too_long": (
        "{field_type} should have at most {max_length} item{expected_plural} after validation"
    ),
    "too_short": (
        "{field_type} should have at least {min_length} item{expected_plural} after validation"
    ),
    "union_tag_invalid": (
        "Input tag found using {discriminator} does not match any of the expected tags: "
        "{expected_tags}"
    ),
    "url_parsing": "Input should be a valid URL",
    "url_syntax_violation": "Input violated strict URL syntax rules",
    "uuid_parsing": "Input should be a valid UUID",
    "value_error": "Value error",
}
"""Fixed wordings for pydantic errors whose message embeds input (the input left out)."""

_LOC_MARKERS = frozenset({"[key]"})


def public_errors(
    errors: ValidationError | Iterable[ErrorDetails], declared: Iterable[str], skip: int = 0
) -> list[ErrorDetail]:
    """The errors of a ``ValidationError`` (or its ``errors()``, context included)
    without client-chosen text; ``declared`` are the names the schema declares
    (:func:`declared_names`); the first ``skip`` items of each ``loc`` are left out."""
    if isinstance(errors, ValidationError):
        errors = errors.errors(include_url=False, include_input=False)
    names = declared if isinstance(declared, (set, frozenset)) else frozenset(declared)
    return [
        ErrorDetail(
            loc=public_loc(error["loc"][skip:], names),
            msg=public_message(error),
            type=error["type"],
        )
        for error in errors
    ]


def public_loc(loc: Sequence[int | str], declared: set[str] | frozenset[str]) -> list[int | str]:
    """``loc`` with every string the schema does not declare replaced by ``"*"``."""
    return [
        part
        if isinstance(part, int) or part in declared or part in _LOC_MARKERS
        else LOC_PLACEHOLDER
        for part in loc
    ]


def public_message(error: ErrorDetails) -> str:
    """A message for ``error`` that carries none of the input (see the module docs)."""
    kind = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    safe = {key: value for key, value in context.items() if key in SAFE_CONTEXT}
    template = REWORDED.get(kind)
    if template is not None:
        count = safe.get("max_length", safe.get("min_length"))
        try:
            return template.format(expected_plural="" if count == 1 else "s", **safe)
        except (KeyError, IndexError, ValueError):
            return GENERIC_MESSAGE
    if kind in KNOWN_ERROR_TYPES:
        return error["msg"] if len(safe) == len(context) else GENERIC_MESSAGE
    return error["msg"] if not context else GENERIC_MESSAGE


def declared_names(core_schema: Any) -> frozenset[str]:
    """Every string a pydantic core schema holds (field names, aliases, literal values,
    tags, model and type names): the strings a ``loc`` may show."""
    found: set[str] = set()
    pending = [core_schema]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str):
                    found.add(key)
                pending.append(value)
        elif isinstance(node, (list, tuple)):
            pending.extend(node)
        elif isinstance(node, type):
            found.add(node.__name__)
    return frozenset(found)
