"""Hypothesis strategies for fuzzing consumers, and the checks every fuzzed answer passes.

Frames are built from the JSON Schema of a consumer's message classes: valid messages,
then every one-point mutation of each (a wrong type, a missing key, an unknown key, an
unknown union tag, an unknown action). A *marker* is put everywhere a client controls
text: in every string, every dict key, every made-up tag and action. The property: no
``error`` the server sends carries a marker. A refused frame runs no handler, so errors
are all it gets back; a valid frame may be echoed by its handler (the handler's choice).

Whole frames are fuzzed too (any text, any JSON): the connection must stay usable and
the server must log no error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chanx.messages.base import BaseMessage
from chanx.testing import BaseCommunicator

MARK = "ZqX"
"""Every marker starts with this; no server text ever contains it."""

FUZZ_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Few, reproducible examples: the suite runs these on every adapter."""


async def for_each_example(
    strategy: st.SearchStrategy[str],
    check: Callable[[str], Awaitable[None]],
    max_examples: int | None = None,
) -> None:
    """Run ``check`` on each example ``strategy`` draws, on the running loop (where the
    app under test lives); Hypothesis itself runs in a worker thread meanwhile, and
    shrinks and reports a failing frame as usual."""
    loop = asyncio.get_running_loop()
    chosen = (
        FUZZ_SETTINGS
        if max_examples is None
        else settings(FUZZ_SETTINGS, max_examples=max_examples)
    )

    @chosen
    @given(strategy)
    def examples(frame: str) -> None:
        asyncio.run_coroutine_threadsafe(check(frame), loop).result(timeout=60)

    await asyncio.to_thread(examples)


markers = st.integers(min_value=0, max_value=999).map(lambda n: f"{MARK}{n}")
"""Marker strings (short, so they fit most length limits)."""

Schema = Mapping[str, Any]

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def marked_text(min_length: int = 0, max_length: int | None = None) -> st.SearchStrategy[str]:
    """Text holding a marker, cut or padded to the length limits."""

    def fit(parts: tuple[str, str, str]) -> str:
        text = "".join(parts)
        if max_length is not None:
            text = text[:max_length]
        return text + "x" * max(0, min_length - len(text))

    return st.tuples(st.text(max_size=3), markers, st.text(max_size=3)).map(fit)


class SchemaStrategies:
    """Strategies for the values one JSON Schema (with its ``$defs``) describes."""

    def __init__(self, schema: Schema) -> None:
        self.defs: Mapping[str, Schema] = schema.get("$defs", {})

    def valid(self, schema: Schema, depth: int = 0) -> st.SearchStrategy[Any]:
        """Values the schema accepts, marked wherever text goes (best effort: formats
        and patterns are not followed, so some are refused, which is fine here)."""
        if "$ref" in schema:
            return self.valid(self.defs[schema["$ref"].rsplit("/", 1)[-1]], depth)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return st.one_of([self.valid(choice, depth + 1) for choice in schema[key]])
        if "allOf" in schema:
            return self.valid(schema["allOf"][0], depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            return st.one_of([self.valid({**schema, "type": k}, depth) for k in kind])
        if kind == "string":
            return marked_text(schema.get("minLength", 0), schema.get("maxLength"))
        if kind == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if kind == "number":
            return st.floats(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "array":
            items = self.valid(schema.get("items", {}), depth + 1)
            return st.lists(items, min_size=schema.get("minItems", 0), max_size=3)
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        return JSON_VALUES if depth < 3 else JSON_SCALARS

    def _object(self, schema: Schema, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        properties: Mapping[str, Schema] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fixed = st.fixed_dictionaries(
            {
                name: self.valid(sub, depth + 1)
                for name, sub in properties.items()
                if name in required
            },
            optional={
                name: self.valid(sub, depth + 1)
                for name, sub in properties.items()
                if name not in required
            },
        )
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            keyed = st.dictionaries(markers, self.valid(extra, depth + 1), max_size=3)
            return st.tuples(fixed, keyed).map(lambda pair: {**pair[1], **pair[0]})
        return fixed


def message_strategy(cls: type[BaseMessage]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid frames (as dicts) of one message class, marked wherever text goes."""
    schema = cls.model_json_schema()
    strategies = SchemaStrategies(schema)
    payload = schema["properties"].get("payload", {})
    return st.fixed_dictionaries(
        {"action": st.just(cls.message_action), "payload": strategies.valid(payload)}
    )


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Callable[[Any], Any]) -> Any:
    if not path:
        return new(value)
    head, *rest = path
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


def mutations(frame: dict[str, Any], marker: str) -> list[dict[str, Any]]:
    """Every one-point change of ``frame`` that may make it wrong, at every position: the
    value replaced by the marker (a bad tag or action), a number, a list, ``null``, an
    object keyed by the marker; in objects, a marker key added (with a value no schema
    takes as text) and each key dropped."""
    changes: list[Callable[[Any], Any]] = [
        lambda old: marker,
        lambda old: 7,
        lambda old: [marker, old],
        lambda old: None,
        lambda old: {marker: 7, "kind": marker, "type": marker},
    ]
    found: list[dict[str, Any]] = []
    for path in _paths(frame):
        target = frame
        for step in path:
            target = target[step]
        options = list(changes)
        if isinstance(target, dict):
            options.append(lambda old: {**old, marker: [7]})
            options += [
                lambda old, gone=name: {k: v for k, v in old.items() if k != gone}
                for name in target
            ]
        for change in options:
            changed = _replace(frame, path, change)
            found.append(
                changed if isinstance(changed, dict) else {"action": marker, "payload": changed}
            )
    return found


def frames_for(message_types: Iterable[type[BaseMessage]]) -> st.SearchStrategy[str]:
    """Valid frames (JSON text) of these message classes, marked wherever text goes;
    :func:`mutations` makes the wrong ones from each."""
    return st.one_of([message_strategy(cls) for cls in message_types]).map(json.dumps)


whole_frames = st.one_of(
    st.text(max_size=40),
    st.text(max_size=20).map(lambda text: f"{MARK}{text}"),
    JSON_VALUES.map(json.dumps),
    st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3).map(json.dumps),
    st.fixed_dictionaries({"action": st.text(max_size=12) | markers, "payload": JSON_VALUES}).map(
        json.dumps
    ),
)
"""Any text: not JSON, JSON that is no object, objects with any action and payload."""


async def answer_to(comm: BaseCommunicator, *frames: str | bytes) -> list[dict[str, Any]]:
    """Send ``frames`` (text, or binary for ``bytes``), then a ``ping``; everything the
    server sent back before the pong's ``complete`` (the connection must still answer)."""
    with comm.off_contract("fuzzed frames: mutations and any text, on purpose"):
        for frame in frames:
            if isinstance(frame, bytes):
                await comm.send_bytes(frame)
            else:
                await comm.send_text(frame)
    await comm.send_json({"action": "ping", "payload": None})
    got: list[dict[str, Any]] = []
    ponged = False
    while True:
        data = await comm.receive_json(timeout=5)
        if ponged and data.get("action") == "complete":
            return got
        ponged = ponged or data.get("action") == "pong"
        got.append(data)


def check_no_echo_in_errors(frames: Iterable[str], answer: list[dict[str, Any]]) -> None:
    """No ``error`` the server sent carries a marker (a refused frame never runs a
    handler, so errors are all a refused frame gets back)."""
    for data in answer:
        if data.get("action") == "error":
            text = json.dumps(data)
            assert MARK not in text, f"client text echoed in {text}; frames sent: {list(frames)}"


def check_no_internal_errors(frames: Iterable[str], answer: list[dict[str, Any]]) -> None:
    """No handler failed."""
    for data in answer:
        if data.get("action") == "error":
            kinds = {error["type"] for error in data["payload"].get("errors") or ()}
            assert "internal_error" not in kinds, f"a handler failed; frames sent: {list(frames)}"


async def check_schema_frame(comm: BaseCommunicator, frame: str) -> list[dict[str, Any]]:
    """Send a valid ``frame`` and every mutation of it; no error echoes a marker, no
    handler fails; returns everything received."""
    data = json.loads(frame)
    frames = [frame, *(json.dumps(wrong) for wrong in mutations(data, f"{MARK}0"))]
    answer = await answer_to(comm, *frames)
    check_no_echo_in_errors(frames, answer)
    check_no_internal_errors(frames, answer)
    return answer


def server_errors(records: Iterable[logging.LogRecord]) -> list[str]:
    """ERROR (and worse) log lines from chanx or the frameworks."""
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR]
