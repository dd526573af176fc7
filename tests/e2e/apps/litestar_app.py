"""The crowd consumer on Litestar (a route handler, groups over ChannelsPlugin's memory
backend)."""

from __future__ import annotations

from litestar import Litestar

from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin
from chanx.ext.litestar.testing import memory_channels
from tests.e2e.apps.behaviour import BURSTER_PATH, CROWD_PATH, BursterBehaviour, CrowdBehaviour


class Crowd(CrowdBehaviour, AsyncJsonWebsocketConsumer):
    pass


class Burster(BursterBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = Litestar(
    route_handlers=[Crowd.as_route_handler(CROWD_PATH), Burster.as_route_handler(BURSTER_PATH)],
    plugins=[memory_channels(), ChanxPlugin()],
)
