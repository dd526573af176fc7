"""What changed between two AsyncAPI documents, and which changes break clients.

Channels are matched by address (parameter names aside), messages by action. A change
breaks clients when a client that worked with the old server can fail with the new one:

* what clients send (``receive`` operations): an action removed (or renamed), a new
  required field, a narrowed type (fewer types or enum values, tighter bounds, a
  pattern, extra fields now forbidden);
* what clients get (``send`` operations and replies): an action or a reply removed, a
  field that may now be missing, a widened type (more types or enum values, looser
  bounds) a client's parser may not expect;
* connecting: a channel removed, credentials needed where none were, a way of passing
  them removed.

Everything else (new actions, optional fields, widened inputs, ...) is listed as a
non-breaking change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


@dataclass(frozen=True, order=True)
class Change:
    """One difference: where (channel address, direction, action, field path) and what."""

    breaking: bool
    where: str
    what: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'changed '}  {self.where}: {self.what}"


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first, each group sorted."""
    changes = list(_Diff(old, new).changes())
    return sorted(set(changes), key=lambda c: (not c.breaking, c.where, c.what))


def format_changes(changes: list[Change]) -> str:
    """A readable report: a summary line, then one line per change."""
    breaking = sum(c.breaking for c in changes)
    if not changes:
        return "no changes\n"
    head = f"{breaking} breaking change(s), {len(changes) - breaking} other change(s)"
    return "\n".join([head, *map(str, changes)]) + "\n"


# ---------------------------------------------------------------------------- documents


@dataclass
class _Channel:
    address: str
    receives: dict[str, Any] = field(default_factory=dict)
    sends: dict[str, Any] = field(default_factory=dict)
    replies: dict[str, set[str]] = field(default_factory=dict)
    security: set[str] = field(default_factory=set)


class _Doc:
    """One document, indexed: channels by address, each with its actions' schemas."""

    def __init__(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict) or not str(data.get("asyncapi", "")).startswith("3."):
            raise ValueError("not an AsyncAPI 3 document")
        self.data = data
        self.channels: dict[str, _Channel] = {}
        by_id: dict[str, _Channel] = {}
        for channel_id, channel in (data.get("channels") or {}).items():
            channel = self.resolve(channel)
            address = str(channel.get("address") or channel_id)
            by_id[channel_id] = self.channels[_PLACEHOLDER.sub("{}", address)] = _Channel(address)
        for operation in (data.get("operations") or {}).values():
            operation = self.resolve(operation)
            target = by_id.get(self._ref_name(operation.get("channel"), "channels"))
            if target is None:
                continue
            actions = [self._message(m) for m in operation.get("messages") or []]
            kind = target.receives if operation.get("action") == "receive" else target.sends
            for action, payload in actions:
                kind[action] = payload
            reply = operation.get("reply") or {}
            if operation.get("action") == "receive":
                replied = {self._message(m)[0] for m in reply.get("messages") or []}
                for action, _ in actions:
                    target.replies.setdefault(action, set()).update(replied)
            for scheme in operation.get("security") or []:
                target.security.add(_scheme_key(self.resolve(scheme)))

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = self.pointer(node["$ref"])
            seen += 1
            if seen > 50:
                raise ValueError("$ref cycle")
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        node: Any = self.data
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise ValueError(f"dangling $ref {ref!r}")
            node = node[part]
        return node

    @staticmethod
    def _ref_name(node: Any, section: str) -> str:
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        prefix = f"#/{section}/"
        return ref[len(prefix) :] if ref.startswith(prefix) else ""

    def _message(self, node: Any) -> tuple[str, Any]:
        message = self.resolve(node)
        payload = message.get("payload", {})
        action = self.resolve(payload).get("properties", {}).get("action", {})
        action = self.resolve(action)
        name = action.get("const") if isinstance(action, dict) else None
        return str(name if name is not None else message.get("name", "?")), payload


def _scheme_key(scheme: dict[str, Any]) -> str:
    kind = scheme.get("type", "?")
    if kind == "httpApiKey":
        return f"{scheme.get('in')} {scheme.get('name')!r}"
    if kind == "http":
        return f"HTTP {scheme.get('scheme')}"
    if kind == "oauth2":
        return "OAuth2 " + "/".join(sorted(scheme.get("flows") or {}))
    return str(kind)


class _Diff:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old = _Doc(old)
        self.new = _Doc(new)

    def changes(self) -> Iterator[Change]:
        for key in sorted(self.old.channels.keys() | self.new.channels.keys()):
            before = self.old.channels.get(key)
            after = self.new.channels.get(key)
            if after is None:
                assert before is not None
                yield Change(True, before.address, "channel removed")
            elif before is None:
                yield Change(False, after.address, "channel added")
            else:
                yield from self._channel(before, after)

    def _channel(self, old: _Channel, new: _Channel) -> Iterator[Change]:
        where = old.address
        if new.security and not old.security:
            yield Change(True, where, "connections now need credentials")
        for scheme in sorted(old.security - new.security):
            if new.security:
                yield Change(True, where, f"credentials in {scheme} no longer accepted")
        for scheme in sorted(new.security - old.security):
            if old.security:
                yield Change(False, where, f"credentials also accepted in {scheme}")
        if old.security and not new.security:
            yield Change(False, where, "connections no longer need credentials")
        for action in sorted(old.receives.keys() | new.receives.keys()):
            at = f"{where} client->server `{action}`"
            if action not in new.receives:
                yield Change(True, at, "removed: the server no longer accepts it")
            elif action not in old.receives:
                yield Change(False, at, "added")
            else:
                yield from _Schemas(self.old, self.new, at, output=False).compare(
                    old.receives[action], new.receives[action], ""
                )
                lost = old.replies.get(action, set()) - new.replies.get(action, set())
                for reply in sorted(lost):
                    yield Change(True, at, f"no longer answered with `{reply}`")
                gained = new.replies.get(action, set()) - old.replies.get(action, set())
                for reply in sorted(gained):
                    yield Change(False, at, f"may now be answered with `{reply}`")
        for action in sorted(old.sends.keys() | new.sends.keys()):
            at = f"{where} server->client `{action}`"
            if action not in new.sends:
                yield Change(True, at, "removed: the server no longer sends it")
            elif action not in old.sends:
                yield Change(False, at, "added")
            else:
                yield from _Schemas(self.old, self.new, at, output=True).compare(
                    old.sends[action], new.sends[action], ""
                )


# ---------------------------------------------------------------------------- schemas


class _Schemas:
    """Compares two schemas of one message. ``output``: the server produces the data
    (widening breaks clients); otherwise it accepts it (narrowing breaks clients)."""

    def __init__(self, old: _Doc, new: _Doc, where: str, *, output: bool) -> None:
        self.old = old
        self.new = new
        self.where = where
        self.output = output
        self.seen: set[tuple[int, int]] = set()

    def _change(self, path: str, *, narrower: bool, what: str) -> Change:
        return self._at(path, narrower != self.output, what)

    def _at(self, path: str, breaking: bool, what: str) -> Change:
        """A change at ``path`` in the frame (``payload.text``; empty: the frame)."""
        return Change(breaking, f"{self.where} {path}" if path else self.where, what)

    def compare(self, old: Any, new: Any, path: str) -> Iterator[Change]:
        old, new = self.old.resolve(old), self.new.resolve(new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        if (id(old), id(new)) in self.seen:  # recursive models
            return
        self.seen.add((id(old), id(new)))
        old_variants, new_variants = self._variants(old, "old"), self._variants(new, "new")
        if len(old_variants) > 1 or len(new_variants) > 1:
            yield from self._union(old_variants, new_variants, path)
            return
        yield from self._types(old, new, path)
        yield from self._values(old, new, path)
        yield from self._bounds(old, new, path)
        if "object" in _types(old) & _types(new) or "properties" in old or "properties" in new:
            yield from self._object(old, new, path)
        if "items" in old and "items" in new and isinstance(old["items"], dict):
            yield from self.compare(old["items"], new["items"], f"{path}[]" if path else "[]")

    def _variants(self, schema: dict[str, Any], side: str) -> dict[str, Any]:
        doc = self.old if side == "old" else self.new
        options = schema.get("anyOf") or schema.get("oneOf")
        if not options:
            return {_variant_key(schema): schema}
        out: dict[str, Any] = {}
        for option in options:
            resolved = doc.resolve(option)
            out.setdefault(_variant_key(resolved), resolved)
        return out

    def _union(self, old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
        for key in sorted(old.keys() - new.keys()):
            yield self._change(path, narrower=True, what=f"no longer {key}")
        for key in sorted(new.keys() - old.keys()):
            yield self._change(path, narrower=False, what=f"may now be {key}")
        for key in sorted(old.keys() & new.keys()):
            yield from self.compare(old[key], new[key], path)

    def _types(self, old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
        before, after = _types(old), _types(new)
        if not before or not after or before == after:
            return
        if before == {"integer"} and after == {"number"}:
            yield self._change(path, narrower=False, what="integer widened to number")
            return
        if before == {"number"} and after == {"integer"}:
            yield self._change(path, narrower=True, what="number narrowed to integer")
            return
        text = f"type {'|'.join(sorted(before))} -> {'|'.join(sorted(after))}"
        if before - after:
            yield self._change(path, narrower=True, what=f"{text} (narrowed)")
        if after - before:
            yield self._change(path, narrower=False, what=f"{text} (widened)")

    def _values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
        before, after = _allowed_values(old), _allowed_values(new)
        if before == after:
            return
        if after is not None and (before is None or before - after):
            removed = sorted(before - after) if before is not None else []
            what = f"values removed: {', '.join(removed)}" if removed else "values restricted"
            yield self._change(path, narrower=True, what=what)
        if before is not None and (after is None or after - before):
            added = sorted(after - before) if after is not None else []
            what = f"values added: {', '.join(added)}" if added else "any value allowed now"
            yield self._change(path, narrower=False, what=what)

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
        for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            lower = key in _LOWER_BOUNDS
            if before is None:
                narrower = True
            elif after is None:
                narrower = False
            else:
                narrower = (after > before) if lower else (after < before)
            yield self._change(path, narrower=narrower, what=f"{key} {before} -> {after}")
        if old.get("pattern") != new.get("pattern"):
            narrower = new.get("pattern") is not None
            yield self._change(
                path,
                narrower=narrower,
                what=f"pattern {old.get('pattern')!r} -> {new.get('pattern')!r}",
            )

    def _object(self, old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
        old_props: dict[str, Any] = old.get("properties") or {}
        new_props: dict[str, Any] = new.get("properties") or {}
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        closed = new.get("additionalProperties") is False
        if closed and old.get("additionalProperties") is not False:
            yield self._change(path, narrower=True, what="extra fields no longer allowed")
        for name in sorted(old_props.keys() | new_props.keys()):
            at = f"{path}.{name}" if path else name
            if name not in new_props:
                if self.output and name in old_required:
                    yield self._at(at, True, "removed: clients may rely on it")
                elif not self.output and closed:
                    yield self._at(at, True, "removed: now refused")
                else:
                    yield self._at(at, False, "removed")
                continue
            if name not in old_props:
                if not self.output and name in new_required:
                    yield self._at(at, True, "new required field")
                else:
                    yield self._at(at, False, "added")
                continue
            if not self.output and name in new_required - old_required:
                yield self._at(at, True, "now required")
            if self.output and name in old_required - new_required:
                yield self._at(at, True, "may now be missing")
            yield from self.compare(old_props[name], new_props[name], at)


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    if "const" in schema:
        return {_json_type(schema["const"])}
    return set()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _allowed_values(schema: dict[str, Any]) -> set[str] | None:
    if "const" in schema:
        return {repr(schema["const"])}
    if isinstance(schema.get("enum"), list):
        return {repr(v) for v in schema["enum"]}
    return None


def _variant_key(schema: Any) -> str:
    """What a union member is, independent of its schema name: a tagged object
    (``kind='circle'``), or its type."""
    if not isinstance(schema, dict):
        return "any"
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and "const" in prop:
            return f"{name}={prop['const']!r}"
    types = _types(schema)
    return "|".join(sorted(types)) if types else "any"
