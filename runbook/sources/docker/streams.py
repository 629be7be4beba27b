"""Closing Docker streams from another thread, so a read blocked on them returns at once.

Closing a requests response waits for the read in progress; shutting its socket
does not. The watchdog uses this to drop every stream when the engine stops
answering, and `RawStream.close` uses the same socket shutdown.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any


def shut(sock: socket.socket) -> None:
    """Shut a socket down both ways, then close it; a reader blocked on it wakes up."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def close_stream(stream: Any) -> None:
    """Close a Docker SDK stream by shutting its socket, so a blocked read returns now."""
    if isinstance(getattr(stream, "socket", None), socket.socket):
        stream.close()  # a RawStream
        return
    response = getattr(stream, "_response", stream)
    with contextlib.suppress(Exception):
        raw = response.raw
        fp = raw._fp.fp if raw._fp is not None else None
        sock: Any = None
        if fp is not None:
            inner = getattr(fp, "raw", None)
            sock = getattr(inner, "_sock", None) or getattr(inner, "sock", None)
            if sock is None:
                sock = getattr(fp, "_sock", None)
        if sock is not None:
            shut(sock)
    with contextlib.suppress(Exception):
        response.close()
