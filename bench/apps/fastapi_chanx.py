"""chanx-fastapi as documented: ``as_endpoint()`` on the app, ``configure_layer`` (in
memory, or the adapter's Redis layer with ``BENCH_LAYER=redis``)."""

from __future__ import annotations

from fastapi import FastAPI

from bench.apps.chanx_consumer import BenchBehaviour
from bench.apps.config import LAYER, PREFIX, REDIS_URL
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, configure_layer


class BenchConsumer(BenchBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = FastAPI()
if LAYER == "redis":
    configure_layer(app, REDIS_URL, prefix=PREFIX)
else:
    configure_layer(app)
app.add_api_websocket_route("/ws", BenchConsumer.as_endpoint())
