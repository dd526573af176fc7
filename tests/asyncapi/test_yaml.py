"""The YAML writer: any JSON-compatible data reads back the same (PyYAML, a YAML 1.1
reader, is the strictest judge of what a plain scalar means)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chanx.asyncapi import to_json, to_yaml

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_data = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_data)
def test_any_json_data_reads_back_the_same(data: Any) -> None:
    assert yaml.safe_load(to_yaml(data)) == data


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "null",
        "Null",
        "~",
        "true",
        "1.0",
        "1e5",
        "0x1F",
        "0o17",
        "1_000",
        "12:30",
        ".inf",
        "-",
        "- item",
        "a: b",
        "a #b",
        " leading",
        "trailing ",
        "$ref",
        "#/components/schemas/X",
        "@at",
        "`code`",
        "multi\nline",
        "tab\there",
        'quote " and \\ backslash',
        "é and ü",
        "emoji \U0001f600",
        "line\u2028separator",
        "next\x85line",
        "bom\ufeff",
        "bell\x07",
    ],
)
def test_strings_a_reader_could_misread_are_quoted(text: str) -> None:
    assert yaml.safe_load(to_yaml({text: text})) == {text: text}


def test_plain_words_stay_plain() -> None:
    assert to_yaml({"title": "Chat room", "address": "/ws/chat"}) == (
        'title: Chat room\naddress: "/ws/chat"\n'
    )


@pytest.mark.parametrize("number", [0.0, -1.5, 1e-05, 1e100, 123456789.0, 2.5e-300])
def test_floats_stay_floats(number: float) -> None:
    assert yaml.safe_load(to_yaml([number])) == [number]
    assert isinstance(yaml.safe_load(to_yaml([number]))[0], float)


def test_layout_of_nested_collections() -> None:
    data = {"a": [{"b": 1, "c": [1, [2, 3]]}, []], "d": {}, "e": [{}]}
    assert to_yaml(data) == (
        "a:\n  - b: 1\n    c:\n      - 1\n      - - 2\n        - 3\n  - []\nd: {}\ne:\n  - {}\n"
    )
    assert yaml.safe_load(to_yaml(data)) == data


def test_json_is_indented_keeps_order_and_text() -> None:
    assert to_json({"b": "é", "a": [1]}) == '{\n  "b": "é",\n  "a": [\n    1\n  ]\n}\n'
    assert json.loads(to_json({"x": None})) == {"x": None}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "a"}, object()])
def test_non_json_data_is_refused(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        to_yaml({"x": bad} if not isinstance(bad, dict) else bad)
