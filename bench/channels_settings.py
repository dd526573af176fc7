"""What the ``CHANX`` setting costs per message: in-process chat on chanx's Channels consumer
with no ``CHANX`` setting, with ``CHANX = {}``, and with the docs' example.

    hatch run python -m bench.channels_settings [--rounds 5] [--seconds 1.0]
        [--variants chanx_empty,chanx_none,chanx_docs]

Settings are per process, so each variant runs in a process of its own; the variants take
turns, round after round, so a slow spell of the machine falls on all of them. The
consumer sets none of the attributes ``CHANX`` provides (as most projects' consumers), so
every one of them comes from the setting. One connection, driven through the ASGI
interface; a ``chat`` frame goes in once the previous ``chat_ack`` is out. The figure is
the CPU time of the process's thread per message (the machine may be shared: wall time
would count other programs' turns); prints each variant's median and its ratio to
``CHANX = {}``, and a JSON line per variant for the harness (scenario ``settings``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.report import emit

VARIANTS: dict[str, dict[str, Any] | None] = {
    "chanx_none": None,
    "chanx_empty": {},
    "chanx_docs": {
        "SEND_COMPLETION": False,
        "LOG_WEBSOCKET_MESSAGE": True,
        "LOG_IGNORED_ACTIONS": ["ping", "pong"],
    },
}
LABELS = {"chanx_none": "no CHANX", "chanx_empty": "CHANX = {}", "chanx_docs": "docs' CHANX"}
BASELINE = "chanx_empty"


def configure(chanx: dict[str, Any] | None) -> None:
    import django
    from django.conf import settings

    values: dict[str, Any] = {
        "DEBUG": False,
        "INSTALLED_APPS": ["channels"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        "LOGGING_CONFIG": None,
        "USE_TZ": True,
    }
    if chanx is not None:
        values["CHANX"] = chanx
    settings.configure(**values)
    django.setup()


async def seconds_per_message(seconds: float) -> float:
    from bench.apps.chanx_consumer import ChatAck, ChatMessage
    from bench.inproc import FRAMES, SCOPE
    from chanx.core.decorators import ws_handler
    from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer

    class Chat(AsyncJsonWebsocketConsumer):
        groups = ["bench"]

        @ws_handler
        async def handle_chat(self, message: ChatMessage) -> ChatAck:
            return ChatAck(payload=message.payload)

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.ensure_future(Chat.as_asgi()(dict(SCOPE), inbox.get, outbox.put))
    inbox.put_nowait({"type": "websocket.connect"})
    assert (await outbox.get())["type"] == "websocket.accept"
    frame = {"type": "websocket.receive", "text": FRAMES["chat"]}

    async def run(count: int) -> None:
        for _ in range(count):
            inbox.put_nowait(frame)
            reply = await outbox.get()
        assert '"chat_ack"' in reply["text"], reply

    await run(2000)  # warm-up
    gc.collect()
    done, elapsed, deadline = 0, 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.thread_time()
        await run(500)
        elapsed += time.thread_time() - started
        done += 500
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await task
    return elapsed / done


def child(variant: str, seconds: float) -> None:
    configure(VARIANTS[variant])
    print(json.dumps({"variant": variant, "us": asyncio.run(seconds_per_message(seconds)) * 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="in the order they go")
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seconds)
        return
    chosen = args.variants.split(",")
    results: dict[str, list[float]] = {variant: [] for variant in chosen}
    for round_ in range(args.rounds):
        order = chosen if round_ % 2 == 0 else list(reversed(chosen))
        for variant in order:
            command = [sys.executable, "-m", "bench.channels_settings", "--child", variant]
            out = subprocess.run(
                [*command, "--seconds", str(args.seconds)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[variant].append(json.loads(out.splitlines()[-1])["us"])
    for variant, values in results.items():
        emit("settings", "channels", variant, "chat_cpu", statistics.median(values), "us/msg")
    base = statistics.median(results[BASELINE]) if BASELINE in results else None
    print(f"in-process chat, median of {args.rounds} rounds, CPU microseconds per message")
    for variant, values in results.items():
        median = statistics.median(values)
        spread = f"{min(values):.1f}-{max(values):.1f}"
        versus = f"  {median / base:5.2f}x {LABELS[BASELINE]}" if base else ""
        print(f"  {LABELS[variant]:<14} {median:7.1f} us  ({spread}){versus}")


if __name__ == "__main__":
    main()
