"""Send a room announcement from a separate process (a script, a cron job, a worker).

    python -m examples.fastapi_chat.notify --redis redis://localhost:6379/0 lobby "Hello"

The process does not serve anything: it binds a Redis layer with the app's prefix and
uses the consumer's sync sender, which publishes once and returns.
"""

from __future__ import annotations

import argparse

from chanx.core.redis import RedisGroupLayer
from chanx.ext.fastapi import bind_layer
from examples.fastapi_chat.consumers import RoomChatConsumer, room_group
from examples.fastapi_chat.messages import AnnouncementEvent, AnnouncementPayload


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room")
    parser.add_argument("text")
    parser.add_argument("--redis", default="redis://localhost:6379/0")
    parser.add_argument("--prefix", default="chanx-example")
    args = parser.parse_args(argv)
    event = AnnouncementEvent(payload=AnnouncementPayload(text=args.text))
    with bind_layer(RedisGroupLayer(args.redis, prefix=args.prefix)):
        RoomChatConsumer.broadcast_event_sync(event, room_group(args.room))


if __name__ == "__main__":
    main()
