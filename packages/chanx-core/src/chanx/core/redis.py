"""A group layer over Redis pub/sub, for several worker processes (``pip install
"chanx-core[redis]"``), on any framework: plain ASGI, Starlette, FastAPI, Litestar.

Each process (each started layer) keeps one pub/sub connection. It subscribes to:

* ``<prefix>:p:<process id>``: its own channel, which carries ``send_to`` for any of its
  connections (a connection's channel name is ``<prefix>:p:<process id>!<n>``, so any
  process knows where to publish);
* ``<prefix>:g:<group>`` for each group that has members in this process, and only while
  it has some.

A broadcast is one ``PUBLISH`` per group, whatever the number of members and processes;
members in the sending process are delivered to directly, and that process skips its own
message when Redis echoes it back. Joining a group returns once Redis has confirmed the
subscription, so a connection that has finished connecting receives what is published
after.

Redis pub/sub delivers at most once. When the connection to Redis drops, the layer
reconnects (backoff from ``reconnect_min_delay`` doubling to ``reconnect_max_delay``)
and subscribes again to everything it needs. The loss window: whatever other processes
publish from the moment the connection drops until the resubscription is confirmed does
not reach this process; a broadcast attempted while Redis is unreachable still reaches
the members in the sending process, then raises :class:`RedisLayerError` (a
:class:`~chanx.core.layer.LayerUnavailable`: a handler that hits it gets an ``error`` of
type ``layer_unavailable``). Nothing is replayed.

Redis Cluster is not supported: the layer refuses to start on a server with
``cluster_enabled:1`` (see :data:`CLUSTER_UNSUPPORTED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError, ResponseError

from chanx.core.layer import (
    Envelope,
    LayerUnavailable,
    Receiver,
    deliver_all,
    envelope_from_wire,
    envelope_to_wire,
    unguessable_name_part,
)

logger = logging.getLogger("chanx.redis")

CLUSTER_UNSUPPORTED = (
    "chanx's Redis layer does not support Redis Cluster: it keeps one classic pub/sub "
    "connection per process, which a cluster relays to every node and which does not "
    "follow a failover, and it does not implement sharded pub/sub (SSUBSCRIBE). Point it "
    "at a standalone Redis server"
)
"""Why the layer refuses a cluster (a ``cluster`` URL scheme, or ``cluster_enabled:1``)."""


class RedisLayerError(LayerUnavailable):
    """Redis could not be reached: at start, or when publishing."""


class RedisGroupLayer:
    """Groups across processes through Redis pub/sub (``redis.asyncio``).

    ``url`` is a redis-py URL (``redis://[:password@]host:port/db``, ``rediss://``,
    ``unix://``); ``prefix`` namespaces every channel, so several apps (or test runs)
    can share one Redis. Extra keyword arguments go to ``redis.asyncio.Redis.from_url``.

    Start it before use and stop it after: an app's lifespan does both once the layer is
    bound to the app (``LayerMiddleware`` on plain ASGI, ``configure_layer`` on Starlette
    and FastAPI, ``ChanxPlugin(layer=...)`` on Litestar); ``async with layer:`` works
    too. A process that only sends (a script, a task worker) may use it unstarted: each
    send then uses a short-lived connection.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        prefix: str = "chanx",
        connect_timeout: float = 2.0,
        subscribe_timeout: float = 5.0,
        ping_interval: float = 15.0,
        reconnect_min_delay: float = 0.05,
        reconnect_max_delay: float = 2.0,
        **client_options: Any,
    ) -> None:
        if "cluster" in urlsplit(url).scheme:
            raise ValueError(f"{CLUSTER_UNSUPPORTED} (got the URL scheme of {url.split(':')[0]!r})")
        self.url = url
        self.prefix = prefix
        self.connect_timeout = connect_timeout
        self.subscribe_timeout = subscribe_timeout
        self.ping_interval = ping_interval
        self.reconnect_min_delay = reconnect_min_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.client_options = client_options

        self.process_id = uuid.uuid4().hex[:16]
        self._origin = self.process_id.encode()
        self._process_channel = f"{prefix}:p:{self.process_id}"
        self._process_channel_b = self._process_channel.encode()
        self._group_prefix = f"{prefix}:g:"
        self._group_prefix_b = self._group_prefix.encode()

        self._receivers: dict[str, Receiver] = {}
        self._groups: dict[str, dict[str, Receiver]] = {}
        self._waiting: dict[bytes, deque[asyncio.Future[None]]] = {}

        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Redis | None = None
        self._sub_client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ping_pending = False
        self._ready = asyncio.Event()
        self.reconnects = 0
        """How many times the pub/sub connection was re-established (for monitoring)."""

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisGroupLayer:
        """The layer for ``url`` (same as the constructor)."""
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"<RedisGroupLayer {self.safe_url} prefix={self.prefix!r} id={self.process_id}>"

    @property
    def safe_url(self) -> str:
        """``url`` with any password hidden."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:***@" if parts.username else ":***@"
        return urlunsplit(parts._replace(netloc=user + netloc))

    @property
    def started(self) -> bool:
        """Between :meth:`start` and :meth:`stop`: the reader runs (whether or not the
        connection is up right now; see :attr:`connected` and :attr:`ready`)."""
        return self._reader is not None

    @property
    def connected(self) -> bool:
        """Whether the pub/sub connection is up now."""
        return self._pubsub is not None

    @property
    def ready(self) -> bool:
        """Connected, with every subscription confirmed (what a health check wants)."""
        return self._ready.is_set()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the pub/sub connection is up and every subscription it needs is
        confirmed (after start, and again after a reconnection)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the layer was started on (``None`` when not started); the
        ``*_sync`` senders submit to it from other threads."""
        return self._loop if self.started else None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect, subscribe to this process's channel, start reading.

        Raises :class:`RedisLayerError` at once when Redis cannot be reached, and
        ``RuntimeError`` when the server is a Redis Cluster node."""
        if self.started:
            return
        client = self._new_client(retries=1)
        sub_client = self._new_client(retries=0)
        try:
            clustered = await _cluster_enabled(client)
        except (RedisError, OSError) as exc:
            await client.aclose()
            await sub_client.aclose()
            raise RedisLayerError(
                f"chanx cannot connect to Redis at {self.safe_url}: {str(exc).rstrip('.')}. "
                "Is the server running, and is the URL right?"
            ) from exc
        if clustered:
            await client.aclose()
            await sub_client.aclose()
            raise RuntimeError(f"{CLUSTER_UNSUPPORTED} ({self.safe_url} has cluster_enabled:1)")
        self._loop = asyncio.get_running_loop()
        self._client, self._sub_client = client, sub_client
        try:
            await self._open_pubsub()
        except (RedisError, OSError) as exc:
            await self._close_clients()
            raise RedisLayerError(f"chanx cannot subscribe on {self.safe_url}: {exc}") from exc
        self._reader = self._loop.create_task(self._read_forever(), name=f"chanx-redis-{self}")
        logger.debug("started %r", self)

    async def stop(self) -> None:
        """Stop reading and close the connections. The layer can be started again."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._drop_pubsub()
        await self._close_clients()
        self._receivers.clear()
        self._groups.clear()

    async def __aenter__(self) -> RedisGroupLayer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ GroupLayer

    async def add_receiver(self, receiver: Receiver) -> str:
        """Register a connection of this process; returns its channel name, which names
        this process's channel so that ``send_to`` from any process reaches it."""
        if not self.started:
            raise RuntimeError(
                f"{self!r} is not started: run the app's lifespan (servers do; in tests "
                "use chanx.testing.lifespan(app)), or `async with layer:`"
            )
        name = f"{self._process_channel}!{unguessable_name_part()}"
        self._receivers[name] = receiver
        return name

    async def remove_receiver(self, receiver: Receiver) -> None:
        """Forget a connection (after it left its groups)."""
        self._receivers.pop(receiver.channel_name, None)

    async def join(self, group: str, receiver: Receiver) -> None:
        """Add a member; the first member of a group in this process subscribes to the
        group's channel and waits for Redis to confirm it (while Redis is unreachable,
        the reconnection subscribes instead)."""
        channel = self._group_channel(group)
        members = self._groups.get(group)
        if members is None:
            self._groups[group] = {receiver.channel_name: receiver}
            await self._subscribe(channel)
            return
        members[receiver.channel_name] = receiver
        waiting = self._waiting.get(channel)
        if waiting:  # the first member's subscription is not confirmed yet
            await self._confirmation(waiting[-1])

    async def leave(self, group: str, receiver: Receiver) -> None:
        """Remove a member; the last one in this process unsubscribes from the group."""
        members = self._groups.get(group)
        if members is None:
            return
        members.pop(receiver.channel_name, None)
        if not members:
            del self._groups[group]
            pubsub = self._pubsub
            if pubsub is not None:
                try:
                    await pubsub.unsubscribe(self._group_channel(group))
                except (RedisError, OSError):
                    logger.debug("unsubscribe failed; the reader will reconnect", exc_info=True)

    async def send_group(self, group: str, envelope: Envelope) -> None:
        """Deliver to the group's members in this process and ``PUBLISH`` once for the
        others; raises :class:`RedisLayerError` (after the local delivery) when Redis
        cannot be reached."""
        channel, wire = self._group_channel(group), envelope_to_wire(envelope)
        members = self._groups.get(group)
        if not members:
            failure = await self._publish(channel, wire)
        else:
            # Local members do not wait for Redis. Deliveries rarely yield (a slow
            # client's send goes to its writer task), so the PUBLISH mostly starts just
            # after them; return only once it is done, so one sender's broadcasts stay
            # in order.
            publishing = asyncio.ensure_future(self._publish(channel, wire))
            await deliver_all(tuple(members.values()), envelope)
            failure = await publishing
        if failure is not None:
            raise failure

    async def send_to(self, channel_name: str, envelope: Envelope) -> None:
        """Deliver to one connection, directly when it is in this process, else through
        its process's channel."""
        process_channel, sep, _ = channel_name.rpartition("!")
        if process_channel == self._process_channel:
            receiver = self._receivers.get(channel_name)
            if receiver is not None:
                await deliver_all((receiver,), envelope)
            return
        if not sep or not process_channel.startswith(f"{self.prefix}:p:"):
            logger.warning("send_to %r: not a channel name of this layer's prefix", channel_name)
            return
        wire = envelope_to_wire(envelope)
        wire["to"] = channel_name
        failure = await self._publish(process_channel, wire)
        if failure is not None:
            raise failure

    # ------------------------------------------------------------------ introspection

    def group_names(self) -> list[str]:
        """Groups with members in this process."""
        return list(self._groups)

    def members(self, group: str) -> list[str]:
        """Channel names of a group's members in this process."""
        return list(self._groups.get(group, ()))

    # ------------------------------------------------------------------ internals

    def _new_client(self, retries: int) -> Redis:
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.01) if retries else NoBackoff(), retries)
        options: dict[str, Any] = {
            "socket_connect_timeout": self.connect_timeout,
            "retry": retry,
            **self.client_options,
        }
        return Redis.from_url(self.url, **options)

    async def _close_clients(self) -> None:
        client, self._client = self._client, None
        sub_client, self._sub_client = self._sub_client, None
        for each in (client, sub_client):
            if each is not None:
                await each.aclose()

    def _group_channel(self, group: str) -> bytes:
        return (self._group_prefix + group).encode()

    async def _publish(self, channel: bytes | str, wire: dict[str, Any]) -> RedisLayerError | None:
        """Publish once; returns (rather than raises) the error, so local delivery
        still happens before the caller raises it."""
        data = self._origin + b" " + json.dumps(wire, separators=(",", ":")).encode()
        client = self._client
        try:
            if client is not None and asyncio.get_running_loop() is self._loop:
                await client.publish(channel, data)
            else:  # not started here (a script, a worker) or another event loop
                async with self._new_client(retries=1) as once:
                    await once.publish(channel, data)
        except (RedisError, OSError) as exc:
            # The caller gets the error (the engine logs it); no log line per message here.
            logger.debug("publish to Redis failed: %s", exc)
            return RedisLayerError(f"chanx could not publish to Redis at {self.safe_url}: {exc}")
        return None

    async def _subscribe(self, channel: bytes) -> None:
        """Subscribe and wait for the confirmation; while disconnected, only remember it
        (the reconnection subscribes to every group with members)."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(channel, deque()).append(waiter)
        try:
            await pubsub.subscribe(channel)
        except (RedisError, OSError):
            logger.debug("subscribe failed; the reader will reconnect", exc_info=True)
            return
        await self._confirmation(waiter)

    async def _confirmation(self, waiter: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.subscribe_timeout)
        except asyncio.TimeoutError:
            logger.warning(
                "Redis did not confirm a subscription within %ss", self.subscribe_timeout
            )

    async def _open_pubsub(self) -> None:
        assert self._sub_client is not None
        pubsub = self._sub_client.pubsub()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        # From here, joins see the connection and subscribe themselves; the groups that
        # already have members are subscribed below (no await in between).
        self._pubsub = pubsub
        self._ping_pending = False
        channels = [self._process_channel_b, *(self._group_channel(g) for g in self._groups)]
        loop = asyncio.get_running_loop()
        for channel in channels:
            waiter = loop.create_future()
            self._waiting.setdefault(channel, deque()).append(waiter)
        # Redis confirms in order: the last confirmation means all are in place.

        def all_confirmed(_: object) -> None:
            if self._pubsub is pubsub:  # not a connection dropped meanwhile
                self._ready.set()

        waiter.add_done_callback(all_confirmed)
        await pubsub.subscribe(*channels)
        if self._reader is None:  # first start: read the confirmation here
            while not waiter.done():
                message = await pubsub.get_message(timeout=self.subscribe_timeout)
                if message is None:
                    raise RedisLayerError("Redis did not confirm the subscription")
                self._confirm(message)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._ready.clear()
        for waiters in self._waiting.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiting.clear()
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _read_forever(self) -> None:
        delay = self.reconnect_min_delay
        down_since: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self._pubsub is None:
                    await self._open_pubsub()
                    self.reconnects += 1
                    logger.warning(
                        "reconnected to Redis at %s after %.2fs; subscriptions restored",
                        self.safe_url,
                        loop.time() - (down_since or loop.time()),
                    )
                    down_since, delay = None, self.reconnect_min_delay
                pubsub = self._pubsub
                assert pubsub is not None
                message = await pubsub.get_message(timeout=self.ping_interval)
                if message is None:
                    await self._idle(pubsub)
                    continue
                self._ping_pending = False
                await self._dispatch(message)
            except Exception as exc:
                if down_since is None:
                    down_since = loop.time()
                    # One line: a dropped connection also surfaces as other errors
                    # (uvloop's RuntimeError on a closed transport); details at DEBUG.
                    logger.warning(
                        "lost the Redis connection at %s (%s: %s); reconnecting. Messages "
                        "published until the resubscription are lost for this process",
                        self.safe_url,
                        type(exc).__name__,
                        exc,
                    )
                    logger.debug("the Redis connection failed with", exc_info=True)
                await self._drop_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max_delay)

    async def _idle(self, pubsub: PubSub) -> None:
        """Nothing for a while: check the connection is alive with a PING."""
        if self._ping_pending:
            raise ConnectionError("no answer from Redis to a PING")
        self._ping_pending = True
        await pubsub.ping()

    def _confirm(self, message: dict[str, Any]) -> None:
        if message.get("type") == "subscribe":
            waiters = self._waiting.get(message["channel"])
            if waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                if not waiters:
                    del self._waiting[message["channel"]]

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            self._confirm(message)
            return
        data: bytes = message["data"]
        origin, _, body = data.partition(b" ")
        if origin == self._origin:
            return  # our own broadcast: its local members were delivered to directly
        channel: bytes = message["channel"]
        try:
            if channel == self._process_channel_b:
                wire = json.loads(body)
                receiver = self._receivers.get(wire.get("to"))
                if receiver is not None:
                    await deliver_all((receiver,), envelope_from_wire(wire))
                return
            group = channel[len(self._group_prefix_b) :].decode()
            members = self._groups.get(group)
            if members:
                envelope = envelope_from_wire(json.loads(body))
                await deliver_all(tuple(members.values()), envelope)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed message on %r", channel, exc_info=True)


async def _cluster_enabled(client: Redis) -> bool:
    """Whether the server is a Redis Cluster node (also proves it answers)."""
    try:
        info = await client.info("cluster")
    except ResponseError:  # INFO refused (renamed or not permitted): assume standalone
        await client.ping()
        return False
    return bool(info.get("cluster_enabled"))
