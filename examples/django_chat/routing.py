"""Websocket routes: Channels' ``URLRouter`` patterns."""

from django.urls import path

from .chat.consumers import ChatConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/chat/", ChatConsumer.as_asgi()),
    path("ws/rooms/<str:room>/", RoomConsumer.as_asgi()),
]
