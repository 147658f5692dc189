"""The emulator's listening socket: loopback only unless asked, bound before anything starts.

The ``/_emulator`` surface has no authentication (it can point a connection at
any database and read any table), so the emulator listens only on a loopback
address unless its settings say ``allow_remote``. The socket is bound before
the data dir is locked or any state is read: a busy port or a refused address
is a :class:`ListenError` with one clear message, and nothing else happened.
"""

from __future__ import annotations

import errno
import ipaddress
import socket

__all__ = ["ListenError", "bind", "is_loopback"]


class ListenError(RuntimeError):
    """The emulator cannot or may not listen where asked (the message says why)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, *, allow_remote: bool) -> socket.socket:
    """A bound socket on ``host:port`` (``port=0``: one the OS picks), ready for uvicorn."""
    if not allow_remote and not is_loopback(host):
        raise ListenError(
            f"refusing to listen on {host!r}: the emulator listens only on loopback (127.0.0.1, ::1), since its "
            "/_emulator surface has no authentication; give --allow-remote to listen beyond it"
        )
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    if address.lower() == "localhost":
        address, family = "127.0.0.1", socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto says
    # TCP, and the connections accepted here inherit it. With Nagle on, a response written in two parts
    # (headers, then body) waits for the client's delayed ACK: about 40 ms per request on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        reason = "it is in use (another emulator?)" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock
