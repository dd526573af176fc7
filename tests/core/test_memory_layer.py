"""The in-memory layer on its own: membership, cleanup, delivery, wire format."""

from __future__ import annotations

import pytest

from chanx.core.layer import (
    Envelope,
    EventEnvelope,
    GroupMessage,
    envelope_from_wire,
    envelope_to_wire,
)
from chanx.core.memory import InMemoryGroupLayer, default_layer
from chanx.messages.incoming import PingMessage


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.channel_name = ""
        self.got: list[Envelope] = []
        self.fail = fail

    async def deliver(self, envelope: Envelope) -> None:
        if self.fail:
            raise ConnectionError("gone")
        self.got.append(envelope)


async def registered(layer: InMemoryGroupLayer, receiver: Recorder) -> Recorder:
    receiver.channel_name = await layer.add_receiver(receiver)
    return receiver


async def test_channel_names_are_unique_per_layer() -> None:
    layer, other = InMemoryGroupLayer(), InMemoryGroupLayer()
    names = {await layer.add_receiver(Recorder()) for _ in range(3)}
    names.add(await other.add_receiver(Recorder()))
    assert len(names) == 4


async def test_group_send_reaches_members_only_and_empty_groups_disappear() -> None:
    layer = InMemoryGroupLayer()
    a, b, c = [await registered(layer, Recorder()) for _ in range(3)]
    await layer.join("g", a)
    await layer.join("g", b)
    await layer.join("h", c)
    message = GroupMessage('{"action":"x"}')
    await layer.send_group("g", message)
    assert (a.got, b.got, c.got) == ([message], [message], [])
    assert sorted(layer.group_names()) == ["g", "h"]
    await layer.leave("g", a)
    await layer.leave("g", b)
    await layer.leave("g", b)  # leaving twice is harmless
    await layer.leave("never", a)
    assert layer.group_names() == ["h"]


async def test_one_failing_member_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = InMemoryGroupLayer()
    broken = await registered(layer, Recorder(fail=True))
    healthy = await registered(layer, Recorder())
    await layer.join("g", broken)
    await layer.join("g", healthy)
    await layer.send_group("g", GroupMessage("{}"))
    assert len(healthy.got) == 1
    assert f"delivery to {broken.channel_name} failed" in caplog.text


async def test_send_to_reaches_one_registered_receiver() -> None:
    layer = InMemoryGroupLayer()
    a = await registered(layer, Recorder())
    b = await registered(layer, Recorder())
    envelope = EventEnvelope.of(PingMessage())
    await layer.send_to(a.channel_name, envelope)
    await layer.send_to("memory.unknown", envelope)
    assert (a.got, b.got) == ([envelope], [])
    await layer.remove_receiver(a)
    await layer.send_to(a.channel_name, envelope)
    assert len(a.got) == 1


async def test_member_leaving_during_delivery_is_safe() -> None:
    layer = InMemoryGroupLayer()

    class Leaver(Recorder):
        async def deliver(self, envelope: Envelope) -> None:
            await layer.leave("g", self)
            self.got.append(envelope)

    members = [await registered(layer, Leaver()) for _ in range(3)]
    for member in members:
        await layer.join("g", member)
    await layer.send_group("g", GroupMessage("{}"))
    assert all(len(m.got) == 1 for m in members)
    assert layer.group_names() == []


async def test_layer_remembers_its_loop_for_sync_senders() -> None:
    layer = InMemoryGroupLayer()
    assert layer.loop is None
    await layer.add_receiver(Recorder())
    assert layer.loop is not None


def test_default_layer_is_one_per_process() -> None:
    assert default_layer() is default_layer()


def test_wire_format_round_trips() -> None:
    message = GroupMessage('{"action":"a","payload":1}', exclude="memory.1")
    assert envelope_to_wire(message) == {
        "type": "chanx.envelope",
        "kind": "message",
        "text": '{"action":"a","payload":1}',
        "exclude": "memory.1",
    }
    assert envelope_from_wire(envelope_to_wire(message)) == message
    event = EventEnvelope.of(PingMessage())
    wired = envelope_to_wire(event)
    assert wired == {
        "type": "chanx.envelope",
        "kind": "event",
        "action": "ping",
        "text": '{"action":"ping","payload":null}',
    }
    back = envelope_from_wire(wired)
    assert isinstance(back, EventEnvelope)
    assert (back.action, back.event, back.text) == ("ping", None, event.text)
    with pytest.raises(ValueError, match="not a chanx envelope"):
        envelope_from_wire({"kind": "other"})
