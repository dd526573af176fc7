"""The example app under real uvicorn processes, for end-to-end tests."""

from __future__ import annotations

import httpx

from tests.servers import Server, free_port, python

APP = "examples.fastapi_chat.main:app"


class UvicornServer:
    """``uvicorn examples.fastapi_chat.main:app`` on a free loopback port."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.port = free_port()
        self.env = {"CHANX_REDIS_URL": redis_url, "CHANX_PREFIX": prefix, "PYTHONUNBUFFERED": "1"}
        self.server: Server | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def launch(self) -> Server:
        command = python("-m", "uvicorn", APP, "--host", "127.0.0.1")
        command += ["--port", str(self.port), "--log-level", "warning"]
        self.server = Server(command, self.env)
        return self.server

    def start(self) -> None:
        """Launch and return once it listens (uvicorn listens after its lifespan startup,
        so the layer is connected by then)."""
        server = self.launch()
        try:
            server.wait_for_port(self.port)
        except AssertionError:
            server.stop()
            raise

    def output(self) -> str:
        return self.server.output if self.server is not None else ""

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def post(self, path: str, json: object, **options: object) -> httpx.Response:
        return httpx.post(self.http + path, json=json, timeout=10, **options)  # type: ignore[arg-type]

    async def apost(
        self, path: str, json: object, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.http, timeout=10) as client:
            return await client.post(path, json=json, headers=headers)

    async def health(self) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=self.http, timeout=5) as client:
            data: dict[str, object] = (await client.get("/health")).json()
            return data
