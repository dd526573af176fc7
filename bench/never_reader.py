"""A websocket client on a raw socket that stops reading (the slow member of the
``slow_member`` scenario, and of the end-to-end slow-reader tests): a small receive
buffer, the handshake, one round trip, then nothing read until told to."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from dataclasses import dataclass


@dataclass
class Frame:
    opcode: int
    payload: bytes

    @property
    def text(self) -> str:
        return self.payload.decode()

    @property
    def close_code(self) -> int | None:
        if self.opcode != 0x8 or len(self.payload) < 2:
            return None
        code: int = struct.unpack("!H", self.payload[:2])[0]
        return code


class NeverReader:
    """One websocket connection on a plain blocking socket (no extensions offered, so
    frames arrive uncompressed). ``receive_buffer`` is set before connecting, so the
    window the client advertises stays that small."""

    def __init__(self, port: int, path: str, receive_buffer: int = 4096) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self._buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise AssertionError(f"handshake refused: {head.decode(errors='replace')}")

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the socket")
        self._buffer += data

    def send_text(self, text: str) -> None:
        """One masked text frame."""
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self) -> Frame:
        """The next frame (blocking); ``ConnectionError`` when the socket ends first."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            self._fill()

    def _parse(self) -> Frame | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, offset = struct.unpack("!H", buffer[2:4])[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
        if len(buffer) < offset + length:
            return None
        self._buffer = buffer[offset + length :]
        return Frame(opcode, buffer[offset : offset + length])

    def receive_text_containing(self, marker: str) -> str:
        """Read frames until a text frame containing ``marker``."""
        while True:
            frame = self.receive()
            if frame.opcode == 0x1 and marker in frame.text:
                return frame.text

    def read_to_the_end(self, deadline: float = 20.0) -> tuple[list[Frame], int | None]:
        """Everything until the server's close frame (or the socket's end): the data
        frames, and the close code (``None`` when the socket ended without one)."""
        frames: list[Frame] = []
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                frame = self.receive()
            except (ConnectionError, OSError):
                return frames, None
            if frame.opcode == 0x8:
                return frames, frame.close_code
            if frame.opcode in (0x1, 0x2):
                frames.append(frame)
        raise AssertionError(f"no close within {deadline}s ({len(frames)} frames read)")

    def close(self) -> None:
        self.sock.close()
