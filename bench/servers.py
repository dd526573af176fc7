"""Starting benchmark servers and reading their CPU time and memory from /proc."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_split() -> tuple[set[int], set[int]] | None:
    """``(server CPUs, load generator CPUs)``: the first CPU for the servers, the others
    for the client, so the two never take turns on one core (``BENCH_PIN=0``: no pinning)."""
    cpus = sorted(os.sched_getaffinity(0))
    if os.environ.get("BENCH_PIN", "1") == "0" or len(cpus) < 2:
        return None
    return {cpus[0]}, set(cpus[1:])


CPU_SPLIT = _cpu_split()


def _pin_server() -> None:
    assert CPU_SPLIT is not None
    os.sched_setaffinity(0, CPU_SPLIT[0])


def pin_client() -> None:
    """Run this (load generator) process on the client's CPUs."""
    if CPU_SPLIT is not None:
        os.sched_setaffinity(0, CPU_SPLIT[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(
    framework: str, variant: str, port: int, server: str = "uvicorn", keepalive: bool = True
) -> list[str]:
    """``keepalive=False``: no keepalive pings from uvicorn (every 20 s per connection by
    default: with thousands of connections, a wave of pings that lands in one variant's
    turn and not the other's is measured as that variant's cost)."""
    target = f"bench.apps.{framework}_{variant}:app"
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), target]
    pings = [] if keepalive else ["--ws-ping-interval", "86400"]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "auto",
        *pings,
    ]


@contextmanager
def serving(
    framework: str,
    variant: str,
    server: str = "uvicorn",
    env: Mapping[str, str] | None = None,
    fd_limit: int | None = None,
    keepalive: bool = True,
) -> Iterator[tuple[int, int]]:
    """Run one server process; yields ``(port, pid)``. ``fd_limit``: the open-file limit
    it gets (raising the hard limit needs root), for many connections."""
    port = free_port()

    def prepare() -> None:
        if CPU_SPLIT is not None:
            _pin_server()
        if fd_limit is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, max(hard, fd_limit)))

    logs = os.environ.get("BENCH_SERVER_LOGS")  # a folder: keep each server's output
    stderr = (
        open(Path(logs) / f"{framework}-{variant}-{port}.log", "w")  # noqa: SIM115
        if logs
        else subprocess.PIPE
    )
    process = subprocess.Popen(
        server_command(framework, variant, port, server, keepalive),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        preexec_fn=prepare,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else f"(see {logs})"
                raise RuntimeError(f"server exited: {output}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.05)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used: the scheduler's nanosecond count summed over its
    threads (``/proc/<pid>/task/*/sched``), else user + system time in clock ticks."""
    total, found = 0.0, False
    for sched in Path(f"/proc/{pid}/task").glob("*/sched"):
        try:
            text = sched.read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith("se.sum_exec_runtime"):
                total += float(line.rsplit(":", 1)[1]) / 1e3
                found = True
                break
    if found:
        return total
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of the process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
