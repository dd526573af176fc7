"""Database connection hygiene for long-lived websocket connections.

Django closes stale database connections (past ``CONN_MAX_AGE``, broken, or left in a
bad transaction state) when an HTTP request starts and ends. A websocket connection has
no such boundaries, so Channels calls ``close_old_connections()`` before every frame and
every channel-layer message it dispatches. Django connections belong to threads, so that
call is a hop to the thread where synchronous ORM code runs (the one ``sync_to_async``
and Django's async ORM use), and that hop is most of the per-frame cost of a Channels
consumer.

chanx keeps the same guarantee and pays for it only when there is something to clean.
Each consumer chooses with ``close_old_connections`` (``CHANX["CLOSE_OLD_CONNECTIONS"]``):

* ``"auto"`` (default): clean up before a frame or event only when a database
  connection may be open in some live thread, that is, one was opened (Django's
  ``connection_created`` signal) and no clean-up in its thread has seen it closed since.
  When nothing is open the clean-up would have nothing to do, so skipping it changes
  nothing. With ``CONN_MAX_AGE = 0`` (Django's default) a connection opened by a
  handler is closed before the next frame; with persistent connections the clean-up
  runs before every frame, exactly as in Channels.
* ``True``: clean up before every frame and event, whatever the state (Channels' rule).
* ``False``: never clean up around this consumer's frames. Right for consumers whose
  handlers never use the ORM, or use it only through ``database_sync_to_async`` (which
  cleans up around each call itself). Other consumers of the process still clean up.

The clean-up is Channels' own: ``channels.db.close_old_connections``, looked up when it
runs, so Channels' test communicators, which replace it for the duration of each call,
keep a ``django.test.TestCase``'s database connection open as they do for Channels'
consumers.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from asgiref.sync import sync_to_async
from channels import db as channels_db
from django import db
from django.db.backends.signals import connection_created

CleanupMode = Literal["auto"] | bool
"""``"auto"``, ``True`` or ``False``: see the module documentation."""


class ConnectionTracker:
    """Follows which threads may hold an open database connection.

    A thread is marked when it opens a connection and unmarked when a clean-up running
    in it leaves none open. Dead threads are forgotten (their connections go with them).
    """

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        # Connections opened before the signal receiver was connected are unknown: the
        # first clean-up runs unconditionally and looks.
        self._primed = False
        self.cleanups = 0
        """How many clean-ups ran (for tests and measurements)."""

    def connection_opened(self) -> None:
        """Mark the current thread (Django's ``connection_created`` signal calls it)."""
        with self._lock:
            self._threads.add(threading.current_thread())

    def may_have_open_connections(self) -> bool:
        """Whether a live thread may hold an open connection (so a clean-up may matter)."""
        if not self._threads:
            return not self._primed
        with self._lock:
            for thread in [t for t in self._threads if not t.is_alive()]:
                self._threads.discard(thread)
            return bool(self._threads)

    def clean(self) -> None:
        """Close this thread's stale connections, as Django does around a request."""
        channels_db.close_old_connections()
        self.cleanups += 1
        still_open = _open_here()
        with self._lock:
            self._primed = True
            if still_open:
                self._threads.add(threading.current_thread())
            else:
                self._threads.discard(threading.current_thread())


def _open_here() -> bool:
    return any(conn.connection is not None for conn in db.connections.all(initialized_only=True))


tracker = ConnectionTracker()
"""The process's tracker (a module global, so tests can swap in a fresh one)."""


def _connection_created(**kwargs: Any) -> None:
    tracker.connection_opened()


connection_created.connect(_connection_created, dispatch_uid="chanx.ext.channels.db")


def _clean() -> None:
    tracker.clean()


_clean_in_sync_thread = sync_to_async(_clean)


def needs_cleanup(mode: CleanupMode) -> bool:
    """Whether a frame handled under ``mode`` must first clean up old connections."""
    if mode is False:
        return False
    if mode is True:
        return True
    if mode == "auto":
        return tracker.may_have_open_connections()
    raise ValueError(f'close_old_connections must be "auto", True or False, not {mode!r}')


async def clean_old_connections() -> None:
    """Close stale connections in the thread where synchronous ORM code runs."""
    await _clean_in_sync_thread()
