"""An HTTP view that sends a server-side event to a room's websocket connections."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from chanx.ext.channels.layer import ChannelLayerUnavailable

from .consumers import RoomConsumer, room_group
from .messages import AnnouncementEvent, SayPayload


@csrf_exempt  # an API for the demo; protect it (login, token, CSRF) in a real project
@require_POST
def announce(request: HttpRequest, room: str) -> JsonResponse:
    """``POST /rooms/<room>/announce`` with ``{"text": "..."}``: every connection in the
    room, in every server process, gets an ``announcement``. 503 when the channel layer
    (Redis) is unreachable: nothing was sent."""
    try:
        payload = SayPayload.model_validate(json.loads(request.body or b"{}"))
    except (ValueError, ValidationError):
        return JsonResponse({"error": 'send {"text": "..."}'}, status=400)
    try:
        RoomConsumer.broadcast_event_sync(
            AnnouncementEvent(payload=payload), groups=[room_group(room)]
        )
    except ChannelLayerUnavailable:
        return JsonResponse({"error": "the channel layer is unreachable"}, status=503)
    return JsonResponse({"room": room, "sent": payload.text})
