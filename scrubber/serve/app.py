"""The HTTP application of ``scrubber serve``: routes, limits, keys, metrics and the request log.

One process answers HTTP (Starlette on uvicorn); the checks run in a pool
of worker processes (:mod:`scrubber.serve.work`), so a large file checked
on one core never keeps ``/healthz`` or a small request waiting behind it.
A request that would make more than ``max_pending`` checks wait or run at
once is answered 503 with ``Retry-After``, before its body is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import math
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scrubber.clock import parse_now
from scrubber.config import Config, load_config
from scrubber.rules import REGISTRY
from scrubber.serve import work
from scrubber.textsafe import printable
from scrubber.version import __version__

LOG = logging.getLogger("scrubber.serve")

#: The media types ``/v1/check`` reads (parameters such as ``charset`` aside).
BODY_TYPES = frozenset({"application/edi-x12", "text/plain", "application/octet-stream"})
#: The query parameters ``/v1/check`` knows; any other is a 400 (a misspelt option is never silently ignored).
CHECK_PARAMETERS = frozenset({"profile", "now", "redact", "acks", "format", "control_start", "name"})
#: The routes metrics are labelled with (every other path is "other": a label never holds what a client sent).
ROUTES = ("/", "/v1/check", "/v1/rules", "/v1/rules/{code}", "/healthz", "/metrics", "/openapi.json")
#: Buckets of a request's seconds (a one-claim check in milliseconds, a large file in seconds).
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_ASGI = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                 Awaitable[None]]


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs (``scrubber serve``'s options)."""

    work: work.Settings = field(default_factory=work.Settings)
    #: Worker processes that run checks.
    workers: int = 1
    #: The largest request body read, in bytes; a larger one is answered 413.
    max_bytes: int = 8 << 20
    #: Checks running or waiting at most; one more is answered 503 with Retry-After.
    max_pending: int = 32
    #: The SHA-256 (hex) of each API key; empty: no key asked.
    api_keys: tuple[str, ...] = ()
    #: Said on stderr once the workers are ready (the address bound).
    address: str = ""


class BadRequest(Exception):
    """A request the server will not check: its status, and the error code and one-line reason of its body."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": self.message}, self.status, headers=self.headers)


def read_key_file(path: str) -> tuple[str, ...]:
    """The key hashes of an ``--api-keys`` file: one ``sha256:<64 hex digits>`` (or the bare hex) a line; blank
    lines and ``#`` comments are skipped.  Raises ValueError naming a line that is not a hash."""
    hashes = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            digest = text.removeprefix("sha256:").lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"{path}:{number}: not a key hash (sha256: and 64 hex digits; 'scrubber serve"
                                 " --hash-key' makes one)")
            hashes.append(digest)
    if not hashes:
        raise ValueError(f"{path}: holds no key hash")
    return tuple(hashes)


def hash_key(key: str) -> str:
    """The line an ``--api-keys`` file holds for ``key``."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(given: str, hashes: tuple[str, ...]) -> bool:
    """True when ``given``'s hash is one of ``hashes``, compared in constant time against every one."""
    digest = hashlib.sha256(given.encode("utf-8")).hexdigest().encode()
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored.encode())
    return found


def parse_query(params: dict[str, str], config: Config) -> work.Query:
    """A ``/v1/check`` query as the worker takes it; :class:`BadRequest` (400) for an unknown parameter or value."""
    unknown = sorted(set(params) - CHECK_PARAMETERS)
    if unknown:
        raise BadRequest(400, "bad-parameter", f"unknown query parameter {printable(unknown[0])!r}; known:"
                                               f" {', '.join(sorted(CHECK_PARAMETERS))}")
    fmt = params.get("format", "json")
    if fmt not in work.FORMATS:
        raise BadRequest(400, "bad-parameter", f"format must be one of {', '.join(work.FORMATS)}")
    acks = tuple(a.strip().lower() for a in params.get("acks", "").split(",") if a.strip())
    wrong = [a for a in acks if a not in work.ACK_KINDS]
    if wrong:
        raise BadRequest(400, "bad-parameter", f"acks takes {', '.join(work.ACK_KINDS)} (comma-separated), not"
                                               f" {printable(wrong[0])!r}")
    if acks and fmt != "json":
        raise BadRequest(400, "bad-parameter", "acks come in the JSON report: use format=json")
    profile = params.get("profile") or None
    if profile is not None and profile not in config.profiles:
        raise BadRequest(400, "bad-parameter", f"profile {printable(profile)!r} is not a profile (known:"
                                               f" {', '.join(sorted(config.profiles))})")
    try:
        now = parse_now(params["now"]) if params.get("now") else None
    except ValueError as exc:
        raise BadRequest(400, "bad-parameter", f"now: {printable(str(exc))}") from None
    return work.Query(name=_name(params.get("name", "upload")), profile=profile, now=now,
                      redact=_flag(params.get("redact", "false")), fmt=fmt, acks=acks,
                      control_start=_control_start(params.get("control_start")))


def _name(text: str) -> str:
    name = printable(os.path.basename(text.replace("\\", "/")))[:255]
    if not name or name in (".", ".."):
        raise BadRequest(400, "bad-parameter", "name must be a file name")
    return name


def _flag(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(400, "bad-parameter", "redact must be true or false")


def _control_start(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 999_999_999:
        raise BadRequest(400, "bad-parameter", "control_start must be a number from 1 to 999999999")
    return int(text)


class Checks:
    """The worker pool, and how many checks are running or waiting for it."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.pending = 0
        self._seconds = 0.05  # a moving average of one check's seconds: what Retry-After is worked out from
        self._pool: ProcessPoolExecutor | None = None
        self._work = settings.work

    def start(self, spool: str) -> None:
        """Start the pool (in the event loop that will use it), its workers' spool files in ``spool``."""
        self._work = replace(self.settings.work, spool=spool)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.settings.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=work.start, initargs=(self._work,))

    async def warm(self) -> None:
        """Start every worker now (each loads the configuration), not on the first requests."""
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, work.ready) for _ in range(self.settings.workers)))

    def busy(self) -> bool:
        return self.pending >= self.settings.max_pending

    def retry_after(self) -> int:
        """Seconds until a check now would likely be taken: the queue ahead of it shared among the workers."""
        return max(1, math.ceil(self._seconds * self.pending / self.settings.workers))

    async def run(self, body: bytes, query: work.Query) -> work.Outcome:
        assert self._pool is not None
        started = time.monotonic()
        try:
            outcome: work.Outcome = await asyncio.get_running_loop().run_in_executor(
                self._pool, work.check, body, query)
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool for the requests after
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return work.Outcome("error", ("worker-died", "the worker process checking it died; the server"
                                          " started new workers"))
        self._seconds += (time.monotonic() - started - self._seconds) / 8
        return outcome

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class Metrics:
    """The server's Prometheus metrics, in a registry of their own; no label holds what a client sent."""

    def __init__(self, checks: Checks) -> None:
        try:
            from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        except ImportError:
            raise RuntimeError("scrubber serve needs prometheus-client: pip install 'scrubber-837p[server]'") from None
        self.registry = CollectorRegistry()
        self.requests = Counter("scrubber_serve_requests", "Requests answered, by route and status",
                                ["route", "status"], registry=self.registry)
        self.seconds = Histogram("scrubber_serve_request_seconds", "Seconds from a request's start to its"
                                 " response's end, by route", ["route"], buckets=SECONDS_BUCKETS,
                                 registry=self.registry)
        self.claims = Counter("scrubber_serve_claims", "Claims checked, by the status of their file",
                              ["file_status"], registry=self.registry)
        Gauge("scrubber_serve_pending_checks", "Checks running or waiting for a worker",
              registry=self.registry).set_function(lambda: checks.pending)
        Gauge("scrubber_serve_workers", "Worker processes", registry=self.registry).set(checks.settings.workers)


def route_of(path: str) -> str:
    """The route a path is counted under (:data:`ROUTES`, else "other")."""
    if path in ROUTES:
        return path
    if path.startswith("/v1/rules/") and "/" not in path[len("/v1/rules/"):]:
        return "/v1/rules/{code}"
    return "other"


class RequestLog:
    """ASGI middleware: one JSON line a request on the ``scrubber.serve`` logger, and the request metrics.  The
    line holds the method, the route, the status, the bytes in and out and the seconds: never a query, a header
    or a body, which may hold PHI or a key."""

    def __init__(self, app: _ASGI, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status, sent, received = 500, 0, 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def counting_send(message: Any) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            seconds = time.monotonic() - started
            route = route_of(scope["path"])
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.seconds.labels(route).observe(seconds)
            LOG.info(json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                                 "method": printable(scope["method"])[:16], "path": route, "status": status,
                                 "bytes_in": received, "bytes_out": sent, "seconds": round(seconds, 4)}))


def create_app(settings: ServerSettings) -> Starlette:
    """The application: the routes of ``openapi.json``, the request log and metrics around them."""
    config = load_config(settings.work.config_path)
    checks = Checks(settings)  # its pool is started by the lifespan, in the server's event loop
    metrics = Metrics(checks)
    openapi = resources.files("scrubber.serve").joinpath("openapi.json").read_bytes()
    page = resources.files("scrubber.serve").joinpath("page.html").read_bytes()

    def authorised(request: Request) -> None:
        if not settings.api_keys:
            return
        given = request.headers.get("x-api-key")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if given is None and scheme.lower() == "bearer":
            given = credentials.strip()
        if not given or not key_matches(given, settings.api_keys):
            raise BadRequest(401, "unauthorized", "a valid API key is needed (Authorization: Bearer KEY or"
                                                  " X-API-Key: KEY)", {"WWW-Authenticate": "Bearer"})

    async def check(request: Request) -> Response:
        try:
            authorised(request)
            media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media not in BODY_TYPES:
                raise BadRequest(415, "unsupported-media-type", "send the X12 as application/edi-x12, text/plain"
                                                                " or application/octet-stream")
            query = parse_query(dict(request.query_params), config)
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > settings.max_bytes:
                raise _too_large(settings.max_bytes)
            if checks.busy():
                raise BadRequest(503, "busy", f"{checks.pending} checks are running or waiting; try again later",
                                 {"Retry-After": str(checks.retry_after())})
        except BadRequest as exc:
            return exc.response()
        checks.pending += 1
        try:
            body = await _body(request)
            outcome = await checks.run(body, query)
            del body
            if outcome.error is not None:
                status = 503 if outcome.unavailable else 500 if outcome.error[0] in ("internal-error", "worker-died") \
                    else 400
                raise BadRequest(status, outcome.error[0], outcome.error[1])
        except BadRequest as exc:
            return exc.response()
        finally:
            checks.pending -= 1
        metrics.claims.labels(outcome.status).inc(outcome.claims)
        return Response(outcome.report, media_type=work.FORMATS[query.fmt],
                        headers={"X-Scrubber-Status": outcome.status})

    async def _body(request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_bytes:
                raise _too_large(settings.max_bytes)
        return bytes(body)

    async def rules(request: Request) -> Response:
        from scrubber.ruledocs import rules_json

        try:
            authorised(request)
        except BadRequest as exc:
            return exc.response()
        return JSONResponse(rules_json(config, None))

    async def rule(request: Request) -> Response:
        from scrubber.ruledocs import rules_json

        try:
            authorised(request)
            code = request.path_params["code"].upper()
            if code not in REGISTRY:
                raise BadRequest(404, "unknown-rule", "no rule has that code; GET /v1/rules lists them")
        except BadRequest as exc:
            return exc.response()
        return JSONResponse(rules_json(config, [code])[0])

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "workers": settings.workers,
                             "pending": checks.pending, "max_pending": settings.max_pending})

    async def prometheus(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi_json(request: Request) -> Response:
        return Response(openapi, media_type="application/json")

    async def upload_page(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": PAGE_CSP})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        spool = tempfile.mkdtemp(prefix="scrubber-serve-", dir=_memory_folder())
        checks.start(spool)
        try:
            await checks.warm()
            if settings.address:
                LOG.warning(f"scrubber serve: listening on {settings.address} ({settings.workers} worker"
                            f"{'s' if settings.workers != 1 else ''}; Ctrl-C to stop)")
            yield
        finally:
            checks.close()
            shutil.rmtree(spool, ignore_errors=True)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not-found", "message": "no such path; GET /openapi.json lists them"}, 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "method-not-allowed", "message": "that method is not allowed here"}, 405)

    app = Starlette(routes=[
        Route("/", upload_page, methods=["GET"]),
        Route("/v1/check", check, methods=["POST"]),
        Route("/v1/rules", rules, methods=["GET"]),
        Route("/v1/rules/{code}", rule, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ], lifespan=lifespan, exception_handlers={404: not_found, 405: not_allowed})
    app.add_middleware(RequestLog, metrics=metrics)
    return app


#: The upload page's policy: its own inline script and style, requests to this server only, and the report drawn
#: in a sandboxed frame (its scripts run without this page's origin).
PAGE_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:;"
            " connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _memory_folder() -> str | None:
    """Where the workers' spool files go: ``/dev/shm`` (memory: a body never reaches a disk, and emptying a file
    there costs nothing) when it can be written, else the temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _too_large(limit: int) -> BadRequest:
    return BadRequest(413, "too-large", f"the body is larger than this server's limit of {limit} bytes")
