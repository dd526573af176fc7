"""Contract checking: every frame a test sends or receives, against what the consumer
declares.

With checking on, a communicator checks

* each frame the test sends against the consumer's handlers: a chanx message whose
  action some ``@ws_handler`` accepts, with a payload that validates;
* each frame the server sends against the consumer's outgoing messages: its handlers'
  return annotations and ``output_type``, its event handlers' outputs, its
  ``outgoing_messages`` and the built-ins (``pong``, ``error``, ``authentication``,
  completions);

and fails the test at the first frame that breaks them, with a
:class:`ContractViolation` naming the frame (truncated) and the declaration it broke.

Checking is off unless turned on: for one communicator with ``comm.check_contract =
True``, or for every communicator created afterwards with :func:`set_default` (a
project's ``conftest.py`` can do it for the whole suite). A test that sends bad input on
purpose says so: ``with comm.off_contract("the server must ignore non-JSON frames"):``
leaves the frames it sends in the block unchecked (the server's answers still are).
Checking needs the consumer class: in-process communicators find it on connect; others
take it as ``consumer=``. Without it nothing is checked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chanx.testing.base import CommunicatorError

if TYPE_CHECKING:
    from chanx.core.websocket import AsyncJsonWebsocketConsumer
    from chanx.messages.base import BaseMessage

SHOWN = 200
"""Characters of a frame shown in a violation."""

_default = False


def default_enabled() -> bool:
    """Whether communicators created now check the contract."""
    return _default


def set_default(enabled: bool) -> bool:
    """Turn checking on or off for communicators created from now on; returns the
    previous setting."""
    global _default
    previous, _default = _default, enabled
    return previous


class ContractViolation(CommunicatorError):
    """A frame does not match what the consumer declares."""


def check_sent(consumer: type[AsyncJsonWebsocketConsumer], text: str) -> None:
    """Fail unless ``text`` is a message one of ``consumer``'s handlers accepts."""
    name = consumer.__name__
    action = _action(text, "the test sent")
    handler = consumer.message_handlers.by_action.get(action)
    if handler is None:
        known = ", ".join(sorted(consumer.message_handlers.by_action))
        raise ContractViolation(
            f"the test sent {_show(text)}: {name} has no handler for action {action!r} "
            f"(it handles: {known}); if the test sends it on purpose, wrap the send in "
            "`with comm.off_contract(reason):`"
        )
    try:
        consumer.message_handlers.validate_json(text)
    except ValidationError as exc:
        declared = " | ".join(t.__name__ for t in handler.message_types)
        raise ContractViolation(
            f"the test sent {_show(text)}, which does not match {declared} (handled by "
            f"{name}.{handler.name}): {_errors(exc, skip=1)}; if the test sends it on purpose, "
            "wrap the send in `with comm.off_contract(reason):`"
        ) from None


def check_received(consumer: type[AsyncJsonWebsocketConsumer], text: str) -> None:
    """Fail unless ``text`` is one of the messages ``consumer`` declares it sends."""
    name = consumer.__name__
    action = _action(text, f"{name} sent")
    candidates = _outgoing(consumer).get(action)
    if candidates is None:
        known = ", ".join(sorted(_outgoing(consumer)))
        raise ContractViolation(
            f"{name} sent {_show(text)}: action {action!r} is not among its declared "
            f"outgoing messages ({known}); declare it with output_type= on the handler "
            "that sends it, or in outgoing_messages"
        )
    errors: list[str] = []
    for model in candidates:
        try:
            model.model_validate_json(text)
            return
        except ValidationError as exc:
            errors.append(f"{model.__name__}: {_errors(exc)}")
    raise ContractViolation(
        f"{name} sent {_show(text)}, which does not match its declaration ({'; '.join(errors)})"
    )


def _outgoing(
    consumer: type[AsyncJsonWebsocketConsumer],
) -> dict[str, tuple[type[BaseMessage], ...]]:
    found: dict[str, tuple[type[BaseMessage], ...]] = {}
    for model in consumer.outgoing_message_types():
        action = model.message_action or ""
        found[action] = (*found.get(action, ()), model)
    return found


def _action(text: str, who: str) -> str:
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise ContractViolation(f"{who} {_show(text)}: not JSON") from None
    action = data.get("action") if isinstance(data, dict) else None
    if not isinstance(action, str):
        raise ContractViolation(
            f"{who} {_show(text)}: not a chanx message (a JSON object with a string 'action')"
        )
    return action


def _show(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "...")


def _errors(exc: ValidationError, skip: int = 0) -> str:
    """The validation errors, without input; ``skip`` drops the union tag from ``loc``."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"][skip:]) or "(frame)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts[:5]) + (f" (+{len(parts) - 5} more)" if len(parts) > 5 else "")
