"""Django Channels over real sockets: the behaviours served by daphne in a process of its
own (one for the session, started by the first test that needs it), sharing a
channels_redis layer with the test process, so events sent from the test reach it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from django.test.utils import override_settings

from chanx.testing.daphne import DaphneLiveServer
from chanx.testing.live import LiveCommunicator
from tests.conformance.drivers.channels import ChannelsDriver
from tests.servers import SHARED_REDIS

LAYER = {
    "BACKEND": "channels_redis.core.RedisChannelLayer",
    "CONFIG": {
        "hosts": [SHARED_REDIS],
        "prefix": f"chanx-conformance-live-{uuid.uuid4().hex[:12]}:",
        "group_expiry": 300,
    },
}


class ChannelsLiveDriver(ChannelsDriver):
    live = True
    settles = False
    server_here = False  # daphne runs in a process of its own
    refused_handshake = 403

    def __init__(self) -> None:
        super().__init__("channels-live", LAYER, needs=("redis",), settles=False)
        self.server: DaphneLiveServer | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.server is None:
            server = DaphneLiveServer(
                "tests.conformance.live_channels_app:application",
                env={"CHANX_TEST_CHANNEL_LAYERS": json.dumps({"default": LAYER})},
            )
            server.start()
            self.server = server
        with override_settings(CHANNEL_LAYERS={"default": dict(LAYER)}):
            yield

    def stop(self) -> None:
        """Stop the session's daphne (at the end of the session)."""
        server, self.server = self.server, None
        if server is not None:
            server.stop()

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> LiveCommunicator:
        assert self.server is not None, "use the driver inside running()"
        return self.server.communicator(path, headers, **options)

    @property
    def own_origin(self) -> str:
        assert self.server is not None, "use the driver inside running()"
        return self.server.url.replace("ws://", "http://", 1)


DRIVER = ChannelsLiveDriver()
