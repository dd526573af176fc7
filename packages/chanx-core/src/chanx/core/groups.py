"""Group names: the rule each layer enforces, and a helper that makes a valid name from
anything (a room from the URL, a user id, ...).

Layers differ in what they accept: the in-memory layer takes any string, Channels layers
only ASCII letters, digits, ``-``, ``_`` and ``.`` (fewer than 100 characters). A layer
states its rule with a ``group_name_rule`` attribute (a :class:`GroupNameRule`); the
engine checks every name against it before joining or sending, so a bad name gets a
clear error instead of a failure deep inside the layer. :func:`group_name` builds names
valid on every layer::

    async def get_groups(self):
        return [group_name("room", self.path_params["room"])]
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chanx.core.escape import for_log

__all__ = [
    "ANY_STRING",
    "PORTABLE",
    "UTF8_STRING",
    "GroupNameRule",
    "InvalidGroupName",
    "group_name",
    "group_name_rule_of",
]


@dataclass(frozen=True, slots=True)
class GroupNameRule:
    """Which group names a layer accepts: ``accepts(name)``, and the rule in words for
    error messages and logs."""

    description: str
    accepts: Callable[[str], bool]

    def check(self, name: object, layer: object = None) -> None:
        """Raise :class:`InvalidGroupName` unless ``name`` is a string this rule accepts."""
        if not isinstance(name, str) or not self.accepts(name):
            raise InvalidGroupName(name, self, layer)


class InvalidGroupName(ValueError):
    """A group name breaks the rule of the layer it was meant for.

    The message names the group (escaped and cut, it may come from a client), the layer
    and its rule.
    """

    def __init__(self, name: object, rule: GroupNameRule, layer: object = None) -> None:
        self.name = name
        self.rule = rule
        where = f" of {_describe(layer)}" if layer is not None else ""
        wrong = (
            f"group {for_log(name)} breaks the group-name rule{where}: {rule.description}"
            if isinstance(name, str)
            else f"a group name must be a string, not {type(name).__name__}"
        )
        super().__init__(f"{wrong}; build group names with chanx.core.groups.group_name(...)")


def _encodes_as_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_PORTABLE = re.compile(r"[A-Za-z0-9_.\-]{1,99}")

ANY_STRING = GroupNameRule("any string", lambda name: True)
"""The rule of layers that take any string (the in-memory layer)."""

UTF8_STRING = GroupNameRule(
    "any string that encodes as UTF-8 (no lone surrogates)", _encodes_as_utf8
)
"""The rule assumed for a layer that declares none (names go to the wire as UTF-8)."""

PORTABLE = GroupNameRule(
    "1 to 99 ASCII letters, digits, '-', '_' or '.' (Channels' rule)",
    lambda name: _PORTABLE.fullmatch(name) is not None,
)
"""Names every layer accepts (Channels' rule, the strictest); :func:`group_name`'s output."""


def group_name_rule_of(layer: Any) -> GroupNameRule:
    """The rule ``layer`` declares (its ``group_name_rule``), else :data:`UTF8_STRING`."""
    rule = getattr(layer, "group_name_rule", None)
    return rule if isinstance(rule, GroupNameRule) else UTF8_STRING


def _describe(layer: object) -> str:
    describe = getattr(layer, "describe", None)
    if callable(describe):
        return f"{type(layer).__name__} {describe()}"
    return type(layer).__name__


_READABLE_LIMIT = 48
_HASH_CHARACTERS = 16  # 80 bits: no one finds another input with a given name
_NOT_PORTABLE = re.compile(r"[^A-Za-z0-9\-]+")


def group_name(*parts: str | int) -> str:
    """A group name valid on every layer, made from ``parts``.

    The name is a readable prefix (the parts, accents dropped, other characters outside
    ASCII letters, digits and ``-`` replaced by ``_``, cut to 48 characters), a ``.``, and
    16 characters of a SHA-256 digest of the exact parts. So it is stable (the same parts
    give the same name in every process and release), distinct parts give distinct names
    (``("room", "a b")`` and ``("room", "a_b")`` differ, so do ``("a", "b")`` and
    ``("a_b",)``), and a client choosing a room name cannot pick one that lands in
    another room's group. Use one leading part per purpose (``group_name("room", room)``,
    ``group_name("members", room)``) so names from different routes never meet::

        group_name("room", "Café de Paris")  # 'room_Cafe_de_Paris.<16 characters>'
    """
    if not parts:
        raise TypeError("group_name() needs at least one part")
    texts = [_text(part) for part in parts]
    digest = hashlib.sha256()
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    tag = base64.b32encode(digest.digest()).decode("ascii").lower()[:_HASH_CHARACTERS]
    readable = "_".join(_readable(text) for text in texts).strip("_")[:_READABLE_LIMIT]
    return f"{readable or 'group'}.{tag}"


def _text(part: str | int) -> str:
    if isinstance(part, bool) or not isinstance(part, (str, int)):
        raise TypeError(f"group_name() parts are strings or integers, not {type(part).__name__}")
    return str(part)


def _readable(text: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_PORTABLE.sub("_", ascii_only)
