"""Send an announcement to a room from a plain Python process (a worker, a cron job).

    python -m examples.django_chat.notify <room> <text>

It uses the synchronous API and the project's channel layer: with Redis configured, the
announcement reaches the room's connections on every server process.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_chat.settings")
    import django

    django.setup()
    from .chat.consumers import RoomConsumer, room_group
    from .chat.messages import AnnouncementEvent, SayPayload

    room, text = argv
    RoomConsumer.broadcast_event_sync(
        AnnouncementEvent(payload=SayPayload(text=text)), groups=[room_group(room)]
    )
    print(f"announced to room {room!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
