"""The crowd consumer on FastAPI (``as_endpoint()``, the app's in-memory layer)."""

from __future__ import annotations

from fastapi import FastAPI

from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, configure_layer
from tests.e2e.apps.behaviour import BURSTER_PATH, CROWD_PATH, BursterBehaviour, CrowdBehaviour


class Crowd(CrowdBehaviour, AsyncJsonWebsocketConsumer):
    pass


class Burster(BursterBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = FastAPI()
configure_layer(app)
app.add_api_websocket_route(CROWD_PATH, Crowd.as_endpoint())
app.add_api_websocket_route(BURSTER_PATH, Burster.as_endpoint())
