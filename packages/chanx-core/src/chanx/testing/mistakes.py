"""Mistakes a test makes with stop actions, explained."""

from __future__ import annotations

from collections.abc import Iterable

from chanx.constants import (
    COMPLETION_ACTIONS,
    EVENT_ACTION_COMPLETE,
    GROUP_ACTION_COMPLETE,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.messages.base import message_classes_for

CONSTANT_NAMES = {
    MESSAGE_ACTION_COMPLETE: "MESSAGE_ACTION_COMPLETE",
    GROUP_ACTION_COMPLETE: "GROUP_ACTION_COMPLETE",
    EVENT_ACTION_COMPLETE: "EVENT_ACTION_COMPLETE",
}
"""The ``chanx.constants`` name of each completion action."""

MAX_TYPO_DISTANCE = 2


def spelled(action: str) -> str:
    """``GROUP_ACTION_COMPLETE`` for a completion action, else the action quoted."""
    name = CONSTANT_NAMES.get(action)
    return f"stop_action={name}" if name else f"stop_action={action!r}"


def misspelled_completion(stop_action: str) -> str | None:
    """Why ``stop_action`` is surely a typo of a completion action (within edit distance
    2 of one, and the action of no message class), else ``None``."""
    if stop_action in COMPLETION_ACTIONS or message_classes_for(stop_action):
        return None
    near = sorted(
        (distance(stop_action, action), action)
        for action in COMPLETION_ACTIONS
        if distance(stop_action, action) <= MAX_TYPO_DISTANCE
    )
    if not near:
        return None
    meant = near[0][1]
    return (
        f"stop_action={stop_action!r} is no completion action, and no message class has "
        f"that action, so it would never come: did you mean {spelled(meant)} ({meant!r})?"
    )


def completion_hint(stop_action: str, completions: Iterable[str]) -> str:
    """What the completion frames that arrived while waiting for ``stop_action`` say."""
    seen: dict[str, int] = {}
    for action in completions:
        seen[action] = seen.get(action, 0) + 1
    if not seen:
        return "no completion frame arrived"
    listed = ", ".join(f"{action} (x{count})" for action, count in seen.items())
    others = [action for action in seen if action != stop_action]
    if not others:
        return f"completion frames that arrived: {listed}"
    suggestion = " or ".join(spelled(action) for action in others)
    return f"received {listed}: did you mean {suggestion}?"


def distance(a: str, b: str) -> int:
    """Levenshtein distance between ``a`` and ``b``."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
