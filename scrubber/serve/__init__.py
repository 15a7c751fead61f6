"""``scrubber serve``: the checks of ``scrubber check`` over HTTP, and an upload page for people.

``pip install 'scrubber-837p[server]'`` (Starlette on uvicorn, prometheus-client).  The routes are described
by ``openapi.json`` (:mod:`scrubber.serve.openapi` writes it); ``docs/serve.md`` shows them with curl.  The
HTTP side is :mod:`scrubber.serve.app`; the checks run in worker processes (:mod:`scrubber.serve.work`) with
the engine, formatters and acknowledgment writers ``check`` uses.
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import signal
import socket
import sys
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

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
    writer = BatchedLines(sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))
    LOG.addHandler(writer)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    # uvicorn stops gracefully on SIGINT or SIGTERM, then raises the signal again under the handlers it found:
    # these make that a normal end (exit status 0, no "Aborted!") instead of a death by the signal
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _serve(settings, sock, address, ssl_certfile, ssl_keyfile)
    except _Stopped:
        LOG.warning("scrubber serve: stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        LOG.removeHandler(writer)
        writer.close()  # what is waiting is written first


class _Stopped(BaseException):
    """SIGINT or SIGTERM, once uvicorn has stopped serving."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)


class BatchedLines(logging.Handler):
    """A handler that writes its lines to ``stream`` from a thread of its own, several at a time.

    The event loop only appends a formatted line to a deque: a write to stderr in the loop could hold it up
    behind a slow reader of the pipe, and ``logging.handlers.QueueListener`` wakes its thread for every record
    (a quarter of the server's CPU at 500 requests a second).  The thread writes what has gathered every
    ``interval`` seconds, and at once for a warning or worse.
    """

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.lines: collections.deque[str] = collections.deque()
        self.wake = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="scrubber-serve-log", daemon=True)
        self.thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001  # logging's own rule: a record that cannot be formatted is reported
            self.handleError(record)
        if record.levelno >= logging.WARNING:
            self.wake.set()

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait(self.interval)
            self.wake.clear()
            self._write()
        self._write()

    def _write(self) -> None:
        batch = []
        while self.lines:  # this thread is the only one taking lines
            batch.append(self.lines.popleft())
        if batch:
            try:
                self.stream.write("\n".join(batch) + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # stderr closed or gone: the server goes on without its log
                pass

    def close(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join()
        super().close()


def _serve(settings: ServerSettings, sock: socket.socket, address: str, ssl_certfile: str | None,
           ssl_keyfile: str | None) -> None:
    import uvicorn

    from scrubber.serve.app import create_app

    # proxy_headers off: the client's address and scheme are never used, so X-Forwarded-* need no parsing
    config = uvicorn.Config(create_app(replace(settings, address=address)), log_config=None, access_log=False,
                            lifespan="on", server_header=False, proxy_headers=False, timeout_keep_alive=5,
                            limit_concurrency=max(256, 4 * settings.max_pending), timeout_graceful_shutdown=10,
                            ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    uvicorn.Server(config).run(sockets=[sock])
