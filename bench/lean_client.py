"""A lean WebSocket client on asyncio streams, for the scale scenarios: thousands of
connections from one process without the ``websockets`` client's cost per connection,
so the load generator is not what the measurement sees.

It speaks only what the scenarios need: the opening handshake (offering
permessage-deflate like a browser, or not), masked text frames out, unmasked frames in
(a compressed one is read whole, not decompressed: the scenarios that look inside frames
do not negotiate compression).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct

DEFLATE = "permessage-deflate; client_max_window_bits"


class LeanConnection:
    """One client connection."""

    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str = "/ws", deflate: bool = False) -> LeanConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        extensions = f"Sec-WebSocket-Extensions: {DEFLATE}\r\n" if deflate else ""
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{extensions}\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(f"handshake refused: {head.splitlines()[0]!r}")
        return cls(reader, writer)

    def send_text(self, text: str) -> None:
        """Queue one masked text frame (written as the loop gets to it)."""
        self.writer.write(frame(text.encode()))

    async def receive(self) -> tuple[int, bytes]:
        """The next frame: ``(opcode, payload)``."""
        head = await self.reader.readexactly(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return opcode, await self.reader.readexactly(length)

    def close(self) -> None:
        """Drop the connection (no closing handshake: the scenarios end with the server)."""
        self.writer.close()


def frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A final, masked client frame (the mask is zero: XOR leaves the payload as is)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return head + b"\x00\x00\x00\x00" + payload
