"""Core's Redis group layer on a real Redis, below any adapter: two layers in one process
stand for two worker processes (each has its own connections, process id and pub/sub
connection). What adapters build on it is tested in this folder's other modules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from chanx.core.layer import Envelope, EventEnvelope, GroupMessage, LayerUnavailable
from chanx.core.redis import CLUSTER_UNSUPPORTED, RedisGroupLayer, RedisLayerError
from tests.servers import PrivateRedis, free_port

pytestmark = pytest.mark.redis

WAIT = 5.0


class Inbox:
    """A receiver that records what it gets."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.channel_name = ""
        self.got: asyncio.Queue[Envelope] = asyncio.Queue()

    async def deliver(self, envelope: Envelope) -> None:
        self.got.put_nowait(envelope)

    async def next(self) -> Envelope:
        return await asyncio.wait_for(self.got.get(), WAIT)

    def assert_empty(self) -> None:
        assert self.got.empty(), f"{self.label} got more: {self.got.get_nowait()!r}"


async def connect(layer: RedisGroupLayer, label: str, *groups: str) -> Inbox:
    inbox = Inbox(label)
    inbox.channel_name = await layer.add_receiver(inbox)
    for group in groups:
        await layer.join(group, inbox)
    return inbox


@pytest.fixture
async def pair(
    redis_url: str, prefix: str
) -> AsyncIterator[tuple[RedisGroupLayer, RedisGroupLayer]]:
    """Two started layers on the shared Redis, one prefix."""
    async with (
        RedisGroupLayer(redis_url, prefix=prefix) as a,
        RedisGroupLayer(redis_url, prefix=prefix) as b,
    ):
        yield a, b


async def numsub(url: str, channel: str) -> int:
    async with aioredis.Redis.from_url(url) as client:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)


async def test_broadcast_crosses_processes_once_per_member(
    pair: tuple[RedisGroupLayer, RedisGroupLayer],
) -> None:
    a, b = pair
    local = [await connect(a, f"a{i}", "room") for i in range(3)]
    remote = [await connect(b, f"b{i}", "room") for i in range(2)]
    await a.send_group("room", GroupMessage('{"action":"x","payload":1}'))
    for inbox in local + remote:
        envelope = await inbox.next()
        assert envelope == GroupMessage('{"action":"x","payload":1}')
    # A second broadcast is a fence: had anyone got the first twice, it would show here.
    await b.send_group("room", GroupMessage('{"action":"y","payload":2}'))
    for inbox in local + remote:
        assert (await inbox.next()).text == '{"action":"y","payload":2}'  # type: ignore[union-attr]
        inbox.assert_empty()


async def test_one_publish_per_broadcast_and_direct_local_delivery(
    pair: tuple[RedisGroupLayer, RedisGroupLayer], redis_url: str, prefix: str
) -> None:
    a, b = pair
    members = [await connect(a, f"a{i}", "hall") for i in range(5)]
    remote = await connect(b, "b", "hall")
    async with aioredis.Redis.from_url(redis_url) as spy_client, spy_client.pubsub() as spy:
        await spy.subscribe(f"{prefix}:g:hall")
        assert (await spy.get_message(timeout=WAIT))["type"] == "subscribe"  # type: ignore[index]
        await a.send_group("hall", EventEnvelope.of(_event("ring")))
        # Local members have it as soon as send_group returns: no round trip to Redis.
        for inbox in members:
            assert inbox.got.qsize() == 1
        assert (await remote.next()).action == "notice_event"  # type: ignore[union-attr]
        published = await spy.get_message(timeout=WAIT)
        assert published is not None
        assert published["type"] == "message"
        assert await spy.get_message(timeout=0.2) is None  # exactly one PUBLISH
        origin, _, body = published["data"].partition(b" ")
        assert origin == a.process_id.encode()
        assert json.loads(body)["kind"] == "event"


def _event(text: str) -> Any:
    from tests.conformance.behaviours import NoticeEvent, Text

    return NoticeEvent(payload=Text(text=text))


async def test_events_arrive_as_text_in_other_processes(
    pair: tuple[RedisGroupLayer, RedisGroupLayer],
) -> None:
    a, b = pair
    remote = await connect(b, "b", "news")
    await a.send_group("news", EventEnvelope.of(_event("hello")))
    envelope = await remote.next()
    assert isinstance(envelope, EventEnvelope)
    assert envelope.event is None  # validated by the receiving consumer, from the text
    assert json.loads(envelope.text) == {"action": "notice_event", "payload": {"text": "hello"}}


async def test_exclude_travels_with_the_message(
    pair: tuple[RedisGroupLayer, RedisGroupLayer],
) -> None:
    a, b = pair
    sender = await connect(a, "sender", "g")
    remote = await connect(b, "remote", "g")
    await a.send_group("g", GroupMessage("{}", exclude=sender.channel_name))
    assert (await remote.next()) == GroupMessage("{}", exclude=sender.channel_name)


async def test_subscribed_only_while_the_group_has_local_members(
    pair: tuple[RedisGroupLayer, RedisGroupLayer], redis_url: str, prefix: str
) -> None:
    a, b = pair
    channel = f"{prefix}:g:lounge"
    assert await numsub(redis_url, channel) == 0
    first = await connect(a, "first", "lounge")
    assert await numsub(redis_url, channel) == 1  # join returned after the confirmation
    second = await connect(a, "second", "lounge")
    other = await connect(b, "other", "lounge")
    assert await numsub(redis_url, channel) == 2  # one subscription per process
    await a.leave("lounge", first)
    assert a.members("lounge") == [second.channel_name]
    await a.leave("lounge", second)
    await b.leave("lounge", other)
    assert a.group_names() == []
    assert b.group_names() == []
    # Unsubscribing is not awaited; a later confirmed subscription on the same
    # connection shows Redis has processed it (commands on a connection run in order).
    for layer in (a, b):
        await connect(layer, "fence", "fence")
    assert await numsub(redis_url, channel) == 0


async def test_send_to_reaches_one_connection_in_another_process(
    pair: tuple[RedisGroupLayer, RedisGroupLayer],
) -> None:
    a, b = pair
    target = await connect(b, "target", "g")
    bystander = await connect(b, "bystander", "g")
    assert target.channel_name.startswith(f"{b.prefix}:p:{b.process_id}!")
    await a.send_to(target.channel_name, EventEnvelope.of(_event("psst")))
    assert (await target.next()).action == "notice_event"  # type: ignore[union-attr]
    await a.send_to(bystander.channel_name.replace(b.process_id, "0" * 16), GroupMessage("{}"))
    await a.send_to("not-a-channel-name", GroupMessage("{}"))
    await b.send_to(bystander.channel_name, GroupMessage('"fence"'))
    assert (await bystander.next()) == GroupMessage('"fence"')
    target.assert_empty()


async def test_prefixes_keep_apps_apart(redis_url: str, prefix: str) -> None:
    async with (
        RedisGroupLayer(redis_url, prefix=prefix + "-one") as one,
        RedisGroupLayer(redis_url, prefix=prefix + "-two") as two,
    ):
        theirs = await connect(two, "theirs", "room")
        ours = await connect(one, "ours", "room")
        await one.send_group("room", GroupMessage('"one"'))
        await two.send_group("room", GroupMessage('"two"'))
        assert await ours.next() == GroupMessage('"one"')
        assert await theirs.next() == GroupMessage('"two"')
        ours.assert_empty()
        theirs.assert_empty()


async def test_an_unstarted_layer_can_send_like_a_script(
    pair: tuple[RedisGroupLayer, RedisGroupLayer], redis_url: str, prefix: str
) -> None:
    a, _ = pair
    member = await connect(a, "member", "jobs")
    sender = RedisGroupLayer(redis_url, prefix=prefix)
    assert sender.loop is None
    assert not sender.started
    await sender.send_group("jobs", EventEnvelope.of(_event("done")))
    assert (await member.next()).action == "notice_event"  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match="not started") as refused:
        await sender.add_receiver(Inbox("x"))
    assert not isinstance(refused.value, LayerUnavailable)  # a mistake, not an outage


async def test_start_fails_clearly_when_redis_is_down() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    layer = RedisGroupLayer(url, connect_timeout=0.5)
    with pytest.raises(RedisLayerError, match=rf"cannot connect to Redis at {url}") as failed:
        await layer.start()
    assert isinstance(failed.value, LayerUnavailable)
    assert not layer.started


async def test_a_redis_cluster_is_refused_at_start(tmp_path: Any) -> None:
    """A cluster-enabled server (one node is enough to say so) is refused with the
    reason, before anything subscribes; so is a cluster URL scheme."""
    config = str(tmp_path / "nodes.conf")
    bus = str(free_port())  # the default, port + 10000, may not exist
    node = PrivateRedis(
        "--cluster-enabled", "yes", "--cluster-port", bus, "--cluster-config-file", config
    )
    node.start()
    try:
        layer = RedisGroupLayer(node.url)
        with pytest.raises(RuntimeError, match="does not support Redis Cluster") as refused:
            await layer.start()
        assert "cluster_enabled:1" in str(refused.value)
        assert not isinstance(refused.value, LayerUnavailable)
        assert not layer.started
    finally:
        node.stop()
    with pytest.raises(ValueError, match="does not support Redis Cluster"):
        RedisGroupLayer("redis+cluster://127.0.0.1:7000/0")
    assert "SSUBSCRIBE" in CLUSTER_UNSUPPORTED


def test_password_is_hidden_in_messages() -> None:
    layer = RedisGroupLayer("redis://user:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in layer.safe_url
    assert "hunter2" not in repr(layer)
    assert layer.safe_url == "redis://user:***@127.0.0.1:1/0"
    assert RedisGroupLayer("redis://:pw@h:1").safe_url == "redis://:***@h:1"


async def test_reconnects_and_resubscribes_after_a_redis_restart(
    private_redis: PrivateRedis, prefix: str
) -> None:
    options = {"prefix": prefix, "reconnect_max_delay": 0.2}
    async with (
        RedisGroupLayer(private_redis.url, **options) as a,
        RedisGroupLayer(private_redis.url, **options) as b,
    ):
        a_member = await connect(a, "a", "room")
        b_member = await connect(b, "b", "room")
        await a.send_group("room", GroupMessage('"before"'))
        assert await b_member.next() == GroupMessage('"before"')
        await a_member.next()

        private_redis.stop()
        # During the outage: local members still get it, the sender learns the rest failed.
        with pytest.raises(RedisLayerError, match="could not publish") as failed:
            await a.send_group("room", GroupMessage('"during"'))
        assert isinstance(failed.value, LayerUnavailable)
        assert await a_member.next() == GroupMessage('"during"')
        # Joining while Redis is away does not block the connection.
        late = await asyncio.wait_for(connect(b, "late", "late-room"), 1.0)

        private_redis.start()
        await asyncio.gather(a.wait_ready(WAIT), b.wait_ready(WAIT))
        assert a.reconnects >= 1
        assert b.reconnects >= 1
        await a.send_group("room", GroupMessage('"after"'))
        assert await b_member.next() == GroupMessage('"after"')  # "during" was lost
        await a.send_group("late-room", GroupMessage('"late"'))
        assert await late.next() == GroupMessage('"late"')
        await a_member.next()
        b_member.assert_empty()
