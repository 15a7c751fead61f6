"""``ingest --metrics HOST:PORT``: Prometheus ``/metrics`` and ``/healthz`` for a node.

Through ``prometheus-client`` (``pip install 'scrubber-837p[metrics]'``), on a WSGI server of the standard
library in a thread of the node.  The metrics count files by outcome and claims by status, show the inbox
(files waiting, the oldest one's age), the seconds each file took and the node's heartbeat age; no label or
value holds a name, a member ID or any other PHI.  ``/healthz`` answers 200 while the node's heartbeat is fresh
and its ledger answers, 503 otherwise.  It binds where it is told: give a loopback address unless a scraper on
another machine needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

#: Buckets of the seconds one file takes (a small file in well under a second, a big batch in minutes).
FILE_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


class Metrics:
    """A node's metrics, in a registry of their own (never the process-wide default)."""

    def __init__(self, heartbeat_age: Callable[[], float]) -> None:
        try:
            from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        except ImportError:
            raise RuntimeError("--metrics needs prometheus-client: pip install 'scrubber-837p[metrics]'") from None
        self.registry = CollectorRegistry()
        self.files = Counter("scrubber_ingest_files", "Inbound files finished, by outcome", ["outcome"],
                             registry=self.registry)
        self.claims = Counter("scrubber_ingest_claims", "Claims judged, by status", ["status"],
                              registry=self.registry)
        self.inbox_files = Gauge("scrubber_ingest_inbox_files", "Files waiting in the inbox",
                                 registry=self.registry)
        self.inbox_oldest = Gauge("scrubber_ingest_inbox_oldest_seconds", "Age of the oldest file waiting in the"
                                  " inbox (0 when none)", registry=self.registry)
        self.file_seconds = Histogram("scrubber_ingest_file_seconds", "Seconds one file took, scrub to archive",
                                      buckets=FILE_SECONDS_BUCKETS, registry=self.registry)
        heartbeat = Gauge("scrubber_ingest_heartbeat_age_seconds", "Seconds since the node's last heartbeat",
                          registry=self.registry)
        heartbeat.set_function(heartbeat_age)

    def file_done(self, outcome: str, accepted: int, rejected: int, seconds: float) -> None:
        self.files.labels(outcome).inc()
        self.claims.labels("accepted").inc(accepted)
        self.claims.labels("rejected").inc(rejected)
        self.file_seconds.observe(seconds)

    def inbox(self, files: int, oldest_seconds: float) -> None:
        self.inbox_files.set(files)
        self.inbox_oldest.set(oldest_seconds)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """No access log on stderr (the node's own events go to ingest.log)."""


class Server:
    """``/metrics`` and ``/healthz`` on ``host:port``, served by a daemon thread until :meth:`close`."""

    def __init__(self, metrics: Metrics, host: str, port: int, healthy: Callable[[], bool]) -> None:
        from prometheus_client import make_wsgi_app

        metrics_app = make_wsgi_app(metrics.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/metrics":
                return metrics_app(environ, start_response)
            if path == "/healthz":
                ok = healthy()
                start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"ok\n" if ok else b"unhealthy\n"]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: /metrics or /healthz\n"]

        self._server: WSGIServer = make_server(host, port, app, handler_class=_Quiet)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="ingest-metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv4 address or a host name); :class:`ValueError` naming what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)
