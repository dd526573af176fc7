"""The example app under real uvicorn processes, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.fastapi.conftest import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
APP = "examples.fastapi_chat.main:app"


class UvicornServer:
    """``uvicorn examples.fastapi_chat.main:app`` on a free loopback port."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "CHANX_REDIS_URL": redis_url,
            "CHANX_PREFIX": prefix,
            "PYTHONUNBUFFERED": "1",
        }
        # Open for the life of the server object: the child writes to it, output() reads.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self.process

    def start(self) -> None:
        """Launch and return once it listens (uvicorn listens after its lifespan startup,
        so the layer is connected by then)."""
        process = self.launch()
        try:
            wait_for_port(self.port, timeout=20, process=process)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"uvicorn did not start: {exc}\n{self.output()}") from exc

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def post(self, path: str, json: object, **options: object) -> httpx.Response:
        return httpx.post(self.http + path, json=json, timeout=10, **options)  # type: ignore[arg-type]

    async def apost(self, path: str, json: object) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.http, timeout=10) as client:
            return await client.post(path, json=json)

    async def health(self) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=self.http, timeout=5) as client:
            data: dict[str, object] = (await client.get("/health")).json()
            return data
