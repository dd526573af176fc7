"""Websocket routes: Channels' ``URLRouter`` patterns."""

from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from .chat.consumers import ChatConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/chat/", ChatConsumer.as_asgi()),
    path("ws/rooms/<str:room>/", RoomConsumer.as_asgi()),
    # Any other path: refused (HTTP 403). Without it, URLRouter raises for a path no
    # route takes: an HTTP 500 and a logged traceback per handshake.
    re_path(r"", WebsocketDenier.as_asgi()),
]
