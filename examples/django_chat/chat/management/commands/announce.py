"""``python -m examples.django_chat.manage announce <room> <text>``: an announcement from
a management command (the same as ``notify.py``, the Django way)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...consumers import RoomConsumer, room_group
from ...messages import AnnouncementEvent, SayPayload


class Command(BaseCommand):
    help = "Send an announcement to every connection in a room, in every server process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("room")
        parser.add_argument("text")

    def handle(self, *args: Any, room: str, text: str, **options: Any) -> None:
        RoomConsumer.broadcast_event_sync(
            AnnouncementEvent(payload=SayPayload(text=text)), groups=[room_group(room)]
        )
        self.stdout.write(f"announced to room {room!r}")
