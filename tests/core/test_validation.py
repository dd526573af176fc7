"""Validation errors as clients see them: types and positions kept, client text gone."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_core._pydantic_core import list_all_errors

from chanx.core.validation import (
    GENERIC_MESSAGE,
    KNOWN_ERROR_TYPES,
    LOC_PLACEHOLDER,
    REWORDED,
    SAFE_CONTEXT,
    declared_names,
    public_errors,
    public_message,
)

MARK = "MRK"


def placeholders(template: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", template))


def test_every_pydantic_message_is_built_from_the_schema_or_reworded() -> None:
    """A template that takes a context value other than the schema's (the input, a
    validator's text) must have a fixed wording: checked against this pydantic."""
    for info in list_all_errors():
        unsafe = placeholders(info["message_template_python"]) - SAFE_CONTEXT - {"expected_plural"}
        if unsafe:
            assert info["type"] in REWORDED, (info["type"], unsafe)
    assert set(REWORDED) <= KNOWN_ERROR_TYPES


@pytest.mark.parametrize("info", list_all_errors(), ids=lambda info: info["type"])
def test_no_error_type_lets_a_context_value_from_the_input_through(info: dict[str, Any]) -> None:
    # Every context value the input could have shaped is the marker; the schema's are not.
    template = info["message_template_python"]
    context = {
        key: (f"{MARK}{key}" if key not in SAFE_CONTEXT else 3)
        for key in placeholders(template) - {"expected_plural"}
    }
    rendered = template.format(expected_plural="s", **context)
    error: Any = {"type": info["type"], "msg": rendered, "ctx": context, "loc": ()}
    message = public_message(error)
    assert MARK not in message
    assert message


def test_reworded_messages_keep_the_schema_s_values() -> None:
    error: Any = {
        "type": "union_tag_invalid",
        "msg": "Input tag 'MRK' found using 'kind' ...",
        "ctx": {"discriminator": "'kind'", "tag": "MRK", "expected_tags": "'circle', 'square'"},
    }
    assert public_message(error) == (
        "Input tag found using 'kind' does not match any of the expected tags: 'circle', 'square'"
    )
    error = {"type": "too_long", "msg": "...", "ctx": {"field_type": "List", "max_length": 1}}
    assert public_message(error) == "List should have at most 1 item after validation"


def test_custom_errors_keep_a_fixed_message_only() -> None:
    fixed: Any = {"type": "not_even", "msg": "Value must be even"}
    assert public_message(fixed) == "Value must be even"
    quoting: Any = {"type": "bad_name", "msg": "MRK is taken", "ctx": {"name": "MRK"}}
    assert public_message(quoting) == GENERIC_MESSAGE


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


class Payload(BaseModel):
    shape: Annotated[Circle | Square, Field(discriminator="kind")]
    tags: dict[str, int] = {}
    keyed: dict[int, int] = {}
    either: Circle | Square | None = None
    items: list[int] = []
    nick: str = Field("", alias="nickName", max_length=3)
    even: int = 0
    fixed: int = 0

    @field_validator("even")
    @classmethod
    def must_be_even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"{value} is odd, {MARK}")
        return value

    @field_validator("fixed")
    @classmethod
    def must_be_zero(cls, value: int) -> int:
        if value:
            raise PydanticCustomError("not_zero", "Must be zero")
        return value


def test_errors_without_input_from_the_client() -> None:
    adapter = TypeAdapter(Payload)
    frame = (
        '{"shape": {"kind": "MRK<tag>"}, "tags": {"MRK<key>": "x"}, "keyed": {"MRK1": 1},'
        ' "either": {"kind": "MRK"}, "items": [1, "MRK"], "nickName": "MRKMRK",'
        ' "even": 3, "fixed": 1}'
    )
    with pytest.raises(ValidationError) as raised:
        adapter.validate_json(frame)
    details = public_errors(raised.value, declared_names(adapter.core_schema))
    assert MARK not in str([d.model_dump() for d in details])
    got = {(tuple(d.loc), d.type): d.msg for d in details}
    assert got[(("shape",), "union_tag_invalid")].startswith("Input tag found using 'kind'")
    assert (("tags", LOC_PLACEHOLDER), "int_parsing") in got
    assert (("keyed", LOC_PLACEHOLDER, "[key]"), "int_parsing") in got
    assert (("either", "Circle", "kind"), "literal_error") in got
    assert (("items", 1), "int_parsing") in got
    assert got[(("nickName",), "string_too_long")] == "String should have at most 3 characters"
    assert got[(("even",), "value_error")] == "Value error"
    assert got[(("fixed",), "not_zero")] == "Must be zero"


def test_declared_names_are_what_the_schema_holds() -> None:
    names = declared_names(TypeAdapter(Payload).core_schema)
    assert {"shape", "kind", "circle", "square", "Circle", "tags", "nickName", "nick"} <= names
    assert not any(MARK in name for name in names)
