"""Scale scenarios: many idle connections, and fan-out across four processes.

``idle``: every variant's server runs at once; the variants take turns opening
connections, a batch each, until each server holds ``--connections`` (each connection
answers one ``ping``, so the server has fully set it up, then stays idle). Prints, per
variant, the server's RSS per connection, the connect rate (connections per second of
the variant's own batches), and the server's and the client's CPU time per connection.

``fanout4``: per variant, four server processes linked by Redis, ``--members`` receivers
on each (2,500: 10,000 in all) and a sender on the first; the variants take turns, one
broadcast each, the servers idle before each. Prints, per variant, p50/p99 of the
delivery time (the sender's send to each receiver's receipt, over every delivery), p50
of the time until the last receiver has it, and the servers' and the client's CPU per
delivery.

    python -m bench.scale idle <framework> [--variants raw,chanx] [--connections 10000]
    python -m bench.scale fanout4 <framework> [--variants raw,chanx] [--members 2500]
        [--broadcasts 10]

The load generator: one client process per variant (a process may hold 20,000 open
files here, fewer than all variants' connections), all on the client's core, driven in
turns by this process, with a lean client (``bench.lean_client``: a handshake and a few
frames on asyncio streams, no ``websockets`` machinery) so that it is faster than what
it measures; its CPU per connection or delivery is printed beside the servers'. The
servers send no keepalive pings (uvicorn's, every 20 s per connection: with thousands of
connections a wave of them lands in one variant's turn and is measured as its cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from bench.lean_client import LeanConnection
from bench.report import emit
from bench.servers import ROOT, cpu_seconds, pin_client, rss_bytes, serving

PING = '{"action":"ping","payload":null}'
BATCH = 250
FD_LIMIT = 20_000


def raise_fd_limit() -> None:
    """Allow as many open files as the hard limit does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def ready(port: int, deflate: bool) -> LeanConnection:
    """A connection that has answered a ping (the server has fully set it up)."""
    connection = await LeanConnection.open(port, deflate=deflate)
    connection.send_text(PING)
    opcode, _ = await connection.receive()
    if opcode != 0x1:
        raise ConnectionError(f"expected a pong, got opcode {opcode}")
    return connection


# ---------------------------------------------------------------------- client workers


class Worker:
    """A client process of one variant, answering one JSON line per command."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.scale", "--worker", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"client worker ended (exit {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"client worker: {answer['error']}")
        return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            self.ask(op="quit")
        self.process.wait(timeout=30)


@contextmanager
def workers(args: dict[str, list[str]]) -> Iterator[dict[str, Worker]]:
    started = {variant: Worker(a) for variant, a in args.items()}
    try:
        yield started
    finally:
        for worker in started.values():
            try:
                worker.stop()
            except Exception:
                worker.process.kill()


class TokenWatch(asyncio.Protocol):
    """A receiver that looks for the current broadcast's token in the bytes it gets."""

    def __init__(self, state: ClientState | None) -> None:
        self.state = state
        self.tail = b""

    def data_received(self, data: bytes) -> None:
        state = self.state
        if state is None or not state.token:
            return
        chunk = self.tail + data if self.tail else data
        token = state.token
        if token in chunk:
            state.received(token)
            chunk = b""  # one per broadcast and receiver
        # Enough to find a token cut between two reads, never a whole one again.
        self.tail = chunk[-(len(token) - 1) :]


class ClientState:
    """What a client worker holds: its connections and, for fan-out, what it measured."""

    def __init__(self) -> None:
        self.connections: list[LeanConnection] = []
        self.sender: LeanConnection | None = None
        self.token = b""
        self.sent_at = 0.0
        self.pending = 0
        self.timed = False
        self.done = asyncio.Event()
        self.latencies: list[float] = []
        self.last: list[float] = []
        self.client_cpu = 0.0

    def received(self, payload: bytes) -> None:
        if self.token and self.token in payload:
            elapsed = time.perf_counter() - self.sent_at
            if self.timed:
                self.latencies.append(elapsed)
            self.pending -= 1
            if self.pending == 0:
                if self.timed:
                    self.last.append(elapsed)
                self.done.set()

    async def open(self, port: int, count: int, deflate: bool) -> dict[str, Any]:
        cpu, start = time.process_time(), time.perf_counter()
        opened: list[LeanConnection] = []
        while len(opened) < count:
            batch = min(BATCH, count - len(opened))
            opened += await asyncio.gather(*(ready(port, deflate) for _ in range(batch)))
        self.connections += opened
        return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}

    async def listen(self, sender_port: int) -> dict[str, Any]:
        """From now on, the receivers' bytes go to a :class:`TokenWatch` each (no frame
        parsing: the cheapest receiver there is), the sender's are dropped."""
        self.sender = await ready(sender_port, deflate=False)
        for connection in self.connections:
            connection.writer.transport.set_protocol(TokenWatch(self))
        self.sender.writer.transport.set_protocol(TokenWatch(None))
        return {}

    async def broadcast(self, timed: bool, timeout: float) -> dict[str, Any]:
        assert self.sender is not None
        self.token = uuid.uuid4().hex.encode()
        self.timed, self.pending = timed, len(self.connections)
        self.done.clear()
        cpu = time.process_time()
        self.sent_at = time.perf_counter()
        self.sender.send_text(json.dumps({"action": "shout", "payload": self.token.decode()}))
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
        except asyncio.TimeoutError:
            return {"reached": False}
        if timed:
            self.client_cpu += time.process_time() - cpu
        return {"reached": True}

    def results(self) -> dict[str, Any]:
        quantiles = statistics.quantiles(self.latencies, n=100)
        return {
            "p50": statistics.median(self.latencies),
            "p99": quantiles[98],
            "last_p50": statistics.median(self.last),
            "deliveries": len(self.latencies),
            "client_cpu": self.client_cpu,
        }


async def serve_commands() -> None:
    state = ClientState()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        op = command.pop("op")
        try:
            if op == "quit":
                answer: dict[str, Any] = {}
            elif op == "open":
                answer = await state.open(**command)
            elif op == "listen":
                answer = await state.listen(**command)
            elif op == "broadcast":
                answer = await state.broadcast(**command)
            elif op == "results":
                answer = state.results()
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as exc:
            answer = {"error": repr(exc)}
        print(json.dumps(answer), flush=True)
        if op == "quit":
            for connection in state.connections:
                connection.close()
            return


# ---------------------------------------------------------------------- idle


def idle(framework: str, variants: list[str], connections: int) -> None:
    with ExitStack() as stack:
        servers = {
            variant: stack.enter_context(
                serving(framework, variant, fd_limit=FD_LIMIT, keepalive=False)
            )
            for variant in variants
        }
        clients = stack.enter_context(workers({variant: [] for variant in variants}))
        for variant, (port, _) in servers.items():  # one first, to load what is lazy
            clients[variant].ask(op="open", port=port, count=1, deflate=True)
        time.sleep(0.5)
        before = {variant: rss_bytes(pid) for variant, (_, pid) in servers.items()}
        opened = dict.fromkeys(variants, 0)
        totals = {variant: {"seconds": 0.0, "cpu": 0.0, "server": 0.0} for variant in variants}
        while min(opened.values()) < connections:
            for variant, (port, pid) in servers.items():
                count = min(BATCH * 2, connections - opened[variant])
                if count <= 0:
                    continue
                server_cpu = cpu_seconds(pid)
                answer = clients[variant].ask(op="open", port=port, count=count, deflate=True)
                totals[variant]["server"] += cpu_seconds(pid) - server_cpu
                totals[variant]["seconds"] += answer["seconds"]
                totals[variant]["cpu"] += answer["cpu"]
                opened[variant] += count
        time.sleep(1.0)
        for variant, (_, pid) in servers.items():
            total = totals[variant]
            report = [
                ("rss_per_conn", (rss_bytes(pid) - before[variant]) / connections / 1024, "KiB"),
                ("connect_rate", connections / total["seconds"], "conn/s"),
                ("connect_server_cpu", total["server"] / connections * 1e6, "us/conn"),
                ("connect_client_cpu", total["cpu"] / connections * 1e6, "us/conn"),
            ]
            for metric, value, unit in report:
                emit("idle", framework, variant, f"n{connections}_{metric}", value, unit)


# ---------------------------------------------------------------------- fan-out


def settle(pids: list[int]) -> None:
    """Until the servers are idle (under 5% of a core over 20 ms), as ``bench.fanout``."""
    for _ in range(500):
        before = sum(map(cpu_seconds, pids))
        time.sleep(0.02)
        if sum(map(cpu_seconds, pids)) - before < 0.001:
            return


def fanout4(framework: str, variants: list[str], members: int, broadcasts: int) -> None:
    with ExitStack() as stack:
        servers: dict[str, list[tuple[int, int]]] = {}
        for variant in variants:
            # A prefix per variant and measurement: the Redis server is shared.
            env = {"BENCH_LAYER": "redis", "BENCH_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"}
            servers[variant] = [
                stack.enter_context(
                    serving(framework, variant, env=env, fd_limit=FD_LIMIT, keepalive=False)
                )
                for _ in range(4)
            ]
        clients = stack.enter_context(workers({variant: [] for variant in variants}))
        for variant, started in servers.items():
            for port, _ in started:
                clients[variant].ask(op="open", port=port, count=members, deflate=False)
            clients[variant].ask(op="listen", sender_port=started[0][0])
        pids = [pid for started in servers.values() for _, pid in started]
        for variant in variants:  # two broadcasts that reach everyone
            reached = 0
            for _ in range(20):
                settle(pids)
                if clients[variant].ask(op="broadcast", timed=False, timeout=10.0)["reached"]:
                    reached += 1
                if reached == 2:
                    break
            else:
                raise RuntimeError(f"{variant}: broadcasts never reached every receiver")
        settle(pids)
        cpu_before = {v: sum(cpu_seconds(pid) for _, pid in servers[v]) for v in variants}
        for _ in range(broadcasts):
            for variant in variants:
                settle(pids)
                if not clients[variant].ask(op="broadcast", timed=True, timeout=60.0)["reached"]:
                    raise RuntimeError(f"{variant}: a broadcast did not reach every receiver")
        server_cpu = {
            v: sum(cpu_seconds(pid) for _, pid in servers[v]) - cpu_before[v] for v in variants
        }
        receivers = 4 * members
        deliveries = receivers * broadcasts
        for variant in variants:
            result = clients[variant].ask(op="results")
            report = [
                ("p50", result["p50"] * 1e3, "ms"),
                ("p99", result["p99"] * 1e3, "ms"),
                ("last_p50", result["last_p50"] * 1e3, "ms"),
                ("server_cpu", server_cpu[variant] / deliveries * 1e6, "us/delivery"),
                ("client_cpu", result["client_cpu"] / deliveries * 1e6, "us/delivery"),
            ]
            for metric, value, unit in report:
                emit("fanout4", framework, variant, f"n{receivers}_{metric}", value, unit)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("scenario", nargs="?", choices=["idle", "fanout4"])
    parser.add_argument("framework", nargs="?")
    parser.add_argument("--variants", default="raw,chanx", help="in the order they take turns")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=2_500)
    parser.add_argument("--broadcasts", type=int, default=10)
    args = parser.parse_args()
    raise_fd_limit()
    pin_client()
    if args.worker:
        import uvloop  # the servers' loop too (uvicorn's default): cheaper per read

        uvloop.run(serve_commands())
        return
    if args.scenario is None or args.framework is None:
        parser.error("a scenario and a framework are required")
    variants = args.variants.split(",")
    if args.scenario == "idle":
        idle(args.framework, variants, args.connections)
    else:
        fanout4(args.framework, variants, args.members, args.broadcasts)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
