"""What a client's refused frames leave in the log.

Frames the engine refuses (unknown actions, frames that are not chanx messages, binary
or oversized frames) are the client's doing, one log line each would let a client
write to the server's log as fast as it sends. Per connection, the first refusal of
each kind is a warning; the rest are counted (and logged at DEBUG), and one warning
sums them up when the connection ends.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["RefusalLog"]


class RefusalLog:
    """One connection's refusals, by kind (``"unknown action"``, ...)."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def note(self, logger: logging.Logger, kind: str, message: str, *args: Any) -> None:
        """One refusal of ``kind``: ``message % args`` is a warning the first time, a
        debug line after that."""
        seen = self._counts.get(kind, 0)
        self._counts[kind] = seen + 1
        if not seen:
            logger.warning(message, *args)
        elif logger.isEnabledFor(logging.DEBUG):
            logger.debug(message, *args)

    def unlogged(self) -> dict[str, int]:
        """The refusals not logged as warnings, by kind."""
        return {kind: count - 1 for kind, count in self._counts.items() if count > 1}

    def summary(self, who: str) -> str | None:
        """The closing line for connection ``who``, or ``None`` when every refusal was
        logged already."""
        unlogged = self.unlogged()
        if not unlogged:
            return None
        counts = ", ".join(f"{kind}: {count}" for kind, count in sorted(unlogged.items()))
        return (
            f"{who} refused {sum(unlogged.values())} more frames from its client than were "
            f"logged ({counts})"
        )
