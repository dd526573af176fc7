"""The example FastAPI app: websocket consumers on a router, HTTP endpoints that send events.

``CHANX_REDIS_URL`` (e.g. ``redis://localhost:6379/0``) switches the group layer to Redis
so several uvicorn workers share rooms; ``CHANX_PREFIX`` namespaces its channels.
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, status

from chanx.core.escape import for_log
from chanx.core.layer import LayerUnavailable
from chanx.ext.fastapi import app_layer, asyncapi_docs, configure_layer
from examples.fastapi_chat.auth import User, get_current_user
from examples.fastapi_chat.consumers import (
    AIConsumer,
    ChatConsumer,
    MembersConsumer,
    RoomChatConsumer,
    room_group,
    user_group,
)
from examples.fastapi_chat.messages import (
    AnnouncementEvent,
    AnnouncementPayload,
    NotificationEvent,
)

websockets = APIRouter(prefix="/ws")
websockets.add_api_websocket_route("/chat", ChatConsumer.as_endpoint())
websockets.add_api_websocket_route("/room/{room}", RoomChatConsumer.as_endpoint())
websockets.add_api_websocket_route("/ai-chat", AIConsumer.as_endpoint())
websockets.add_api_websocket_route("/members/{room}", MembersConsumer.as_endpoint())

api = APIRouter()


logger = logging.getLogger("examples.fastapi_chat")


def unavailable(exc: LayerUnavailable) -> HTTPException:
    """503 for the client; what failed (the layer's server) only in the log."""
    logger.warning("delivery failed: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "the group layer is unreachable: connections in other processes did not get it",
    )


@api.post("/rooms/{room}/announce")
async def announce(room: str, body: AnnouncementPayload) -> dict[str, str]:
    """Send an announcement to everyone in a room (every worker)."""
    try:
        await RoomChatConsumer.broadcast_event(AnnouncementEvent(payload=body), room_group(room))
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc
    return {"sent": room}


@api.post("/rooms/{room}/announce-sync")
def announce_sync(room: str, body: AnnouncementPayload) -> dict[str, str]:
    """The same from a sync endpoint (FastAPI runs it in its threadpool)."""
    try:
        RoomChatConsumer.broadcast_event_sync(AnnouncementEvent(payload=body), room_group(room))
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc
    return {"sent": room}


def announce_in_background(room: str, text: str) -> None:
    try:
        RoomChatConsumer.broadcast_event_sync(
            AnnouncementEvent(payload=AnnouncementPayload(text=text)), room_group(room)
        )
    except LayerUnavailable as exc:  # the response has gone: the log is all there is
        logger.warning("announcement to room %s not delivered: %s", for_log(room), exc)


async def announce_in_background_async(room: str, text: str) -> None:
    try:
        await RoomChatConsumer.broadcast_event(
            AnnouncementEvent(payload=AnnouncementPayload(text=text)), room_group(room)
        )
    except LayerUnavailable as exc:
        logger.warning("announcement to room %s not delivered: %s", for_log(room), exc)


@api.post("/rooms/{room}/announce-later", status_code=status.HTTP_202_ACCEPTED)
async def announce_later(
    room: str, body: AnnouncementPayload, tasks: BackgroundTasks, sync: bool = False
) -> dict[str, str]:
    """Queue the announcement as a background task (async, or sync with ``?sync=true``)."""
    task = announce_in_background if sync else announce_in_background_async
    tasks.add_task(task, room, body.text)
    return {"queued": room}


@api.post("/users/{username}/notify")
async def notify_user(
    username: str, body: AnnouncementPayload, sender: Annotated[User, Depends(get_current_user)]
) -> dict[str, str]:
    """A private notice to every connection of one user (authenticated)."""
    event = NotificationEvent(payload=AnnouncementPayload(text=f"{sender.username}: {body.text}"))
    try:
        await MembersConsumer.broadcast_event(event, user_group(username))
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc
    return {"sent": username}


@api.post("/connections/{channel_name}/notify")
async def notify_connection(
    channel_name: str, body: AnnouncementPayload, sender: Annotated[User, Depends(get_current_user)]
) -> dict[str, str]:
    """A notice to one connection, by the channel name it learnt from ``whoami``
    (authenticated: a channel name is an address, not a credential)."""
    event = NotificationEvent(payload=AnnouncementPayload(text=f"{sender.username}: {body.text}"))
    try:
        await MembersConsumer.send_event(event, channel_name)
    except LayerUnavailable as exc:
        raise unavailable(exc) from exc
    return {"sent": channel_name}


@api.get("/me")
async def me(user: Annotated[User, Depends(get_current_user)]) -> dict[str, object]:
    """The same dependency as the websocket consumers', over HTTP."""
    return {"username": user.username, "moderator": user.moderator}


def create_app(redis_url: str | None = None, prefix: str = "chanx-example") -> FastAPI:
    """The app, with an in-memory layer, or Redis when ``redis_url`` is given."""
    app = FastAPI(title="chanx FastAPI example")
    if redis_url:
        configure_layer(app, redis_url, prefix=prefix)
    else:
        configure_layer(app)
    app.include_router(websockets)
    app.include_router(api)
    # The websocket API's AsyncAPI document: /asyncapi (page), /asyncapi/asyncapi.json
    app.include_router(asyncapi_docs(title="chanx FastAPI example", version="1.0.0"))

    @app.get("/health")
    async def health() -> dict[str, object]:
        layer = app_layer(app)
        # An in-memory layer is always ready; a Redis one once (re)subscribed.
        return {"layer": type(layer).__name__, "ready": getattr(layer, "ready", True)}

    return app


app = create_app(os.environ.get("CHANX_REDIS_URL"), os.environ.get("CHANX_PREFIX", "chanx-example"))
