"""``scrubber serve``: the checks of ``scrubber check`` over HTTP, and an upload page for people.

``pip install 'scrubber-837p[server]'`` (Starlette on uvicorn, prometheus-client).  The routes are described
by ``openapi.json`` (:mod:`scrubber.serve.openapi` writes it); ``docs/serve.md`` shows them with curl.  The
HTTP side is :mod:`scrubber.serve.app`; the checks run in worker processes (:mod:`scrubber.serve.work`) with
the engine, formatters and acknowledgment writers ``check`` uses.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.handlers
import queue
import socket
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrubber.serve.app import ServerSettings

#: Where ``scrubber serve`` listens unless told: loopback only.
DEFAULT_BIND = "127.0.0.1:8837"


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8837`` for IPv6) as a host and a port; ValueError saying the form."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (127.0.0.1:8837, [::1]:8837, 0.0.0.0:8837)")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(settings: ServerSettings, host: str, port: int, ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None) -> None:
    """Bind ``host:port`` (port 0: any free port, said on stderr), start the workers and serve until SIGINT or
    SIGTERM.  Raises OSError when the address cannot be bound."""
    from scrubber.serve.app import LOG

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    address = f"{'https' if ssl_certfile else 'http'}://{shown}:{sock.getsockname()[1]}"
    # the request log is written by a thread of its own: a line's write to stderr never holds up the event loop
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(message)s"))
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.handlers.QueueListener(lines, stderr)
    LOG.addHandler(logging.handlers.QueueHandler(lines))
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    writer.start()
    try:
        _serve(settings, sock, address, ssl_certfile, ssl_keyfile)
    finally:
        writer.stop()  # what is queued is written first


def _serve(settings: ServerSettings, sock: socket.socket, address: str, ssl_certfile: str | None,
           ssl_keyfile: str | None) -> None:
    import uvicorn

    from scrubber.serve.app import create_app

    config = uvicorn.Config(create_app(replace(settings, address=address)), log_config=None, access_log=False,
                            lifespan="on", server_header=False, timeout_keep_alive=5,
                            limit_concurrency=max(256, 4 * settings.max_pending), timeout_graceful_shutdown=10,
                            ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    uvicorn.Server(config).run(sockets=[sock])
