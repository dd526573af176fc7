"""The in-memory group layer: the embedded default (one process, zero configuration)."""

from __future__ import annotations

import asyncio
import os

from chanx.core.groups import ANY_STRING, GroupNameRule
from chanx.core.layer import Envelope, Receiver, deliver_all, unguessable_name_part


class InMemoryGroupLayer:
    """Groups held in this process; members are delivered to directly, no queue in between.

    Suitable for development, tests and single-process servers. For several worker
    processes, use an adapter's scale-out layer (Redis, Channels layers, Litestar
    channels backends). Group names: any string.
    """

    group_name_rule: GroupNameRule = ANY_STRING
    """Any string is a group name here."""

    in_process = True
    """Every message stays in this process and is delivered before its send returns (the
    test communicators' ``settle()`` relies on it)."""

    def __init__(self) -> None:
        self._groups: dict[str, dict[str, Receiver]] = {}
        self._receivers: dict[str, Receiver] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._prefix = f"memory.{os.getpid()}.{id(self):x}."

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    async def add_receiver(self, receiver: Receiver) -> str:
        self._loop = asyncio.get_running_loop()
        name = f"{self._prefix}{unguessable_name_part()}"
        self._receivers[name] = receiver
        return name

    async def remove_receiver(self, receiver: Receiver) -> None:
        self._receivers.pop(receiver.channel_name, None)

    async def join(self, group: str, receiver: Receiver) -> None:
        members = self._groups.get(group)
        if members is None:
            members = self._groups[group] = {}
        members[receiver.channel_name] = receiver

    async def leave(self, group: str, receiver: Receiver) -> None:
        members = self._groups.get(group)
        if members is None:
            return
        members.pop(receiver.channel_name, None)
        if not members:
            del self._groups[group]

    async def send_group(self, group: str, envelope: Envelope) -> None:
        members = self._groups.get(group)
        if members:
            # A snapshot: delivery may make members leave while we iterate.
            await deliver_all(tuple(members.values()), envelope)

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        receiver = self._receivers.get(channel_name)
        if receiver is not None:
            await deliver_all((receiver,), envelope)

    def group_names(self) -> list[str]:
        """The groups that currently have members (for tests and introspection)."""
        return list(self._groups)

    def members(self, group: str) -> list[str]:
        """Channel names of a group's members."""
        return list(self._groups.get(group, ()))


_default: InMemoryGroupLayer | None = None


def default_layer() -> InMemoryGroupLayer:
    """The process-wide in-memory layer used by consumers that configure none."""
    global _default
    if _default is None:
        _default = InMemoryGroupLayer()
    return _default
