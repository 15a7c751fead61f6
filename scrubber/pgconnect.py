"""How scrubber connects to PostgreSQL (psycopg 3, ``pip install '.[postgres]'``): the claim history, the ledger
and the data store alike.  Credentials come from the URL, the ``PG*`` environment variables or ``~/.pgpass``
(libpq's own rules); an error names the host, never the URL or its password."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def is_postgres(target: str) -> bool:
    """A ``postgresql://`` URL (else a SQLite path), for the claim history, the ledger and the data store alike."""
    return target.startswith(("postgresql://", "postgres://"))


#: How every connection is made: autocommit, a peer that is gone noticed by TCP keepalives within about a
#: minute, a transaction left idle (its node paused or cut off) ended by the server after a minute.
#: (The URL's own settings win: a ``keepalives_idle`` or ``options`` it gives is kept.)
CONNECT_OPTIONS: dict[str, Any] = {
    "autocommit": True, "connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
    "keepalives_count": 3}
IDLE_TRANSACTION_TIMEOUT = "-c idle_in_transaction_session_timeout=60000"


def check_url(url: str, what: str, error: type[Exception] = ValueError) -> dict[str, Any]:
    """The arguments of ``psycopg.connect`` beside ``url`` (:data:`CONNECT_OPTIONS` under the URL's own);
     ``error`` when libpq cannot parse ``url``, naming its host only (libpq's message quotes the URL,
    password and all)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(url)
    except psycopg.Error:
        raise error(f"the PostgreSQL URL of {what} cannot be parsed (host {url_host(url)})") from None
    options = " ".join(o for o in (IDLE_TRANSACTION_TIMEOUT, str(given.get("options") or "")) if o)
    return {**{k: v for k, v in CONNECT_OPTIONS.items() if k not in given}, "options": options}


def connect(url: str, what: str, error: type[Exception] = ConnectionError) -> Any:
    """A connection (:data:`CONNECT_OPTIONS`); ``error`` with one line that never quotes the URL."""
    import psycopg

    arguments = check_url(url, what, error)
    try:
        return psycopg.connect(url, **arguments)
    except psycopg.Error as exc:
        raise error(f"cannot connect to {what}: {where(exc)}") from None


def connection_lost(exc: Exception) -> bool:
    """A connection lost (no SQLSTATE, class 08, or the server shutting down), not an error of the data."""
    import psycopg

    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, psycopg.OperationalError) and (state is None or state.startswith(("08", "57P")))


def url_host(url: str) -> str:
    """The host a URL names, read without libpq (for a URL libpq cannot parse); never its password."""
    import re

    rest = url.split("://", 1)[-1]
    after = rest.rsplit("@", 1)[-1]  # past the credentials (a password may hold '/', '?' or '@' unencoded)
    host = after.split("/", 1)[0].split("?", 1)[0]
    if not host:
        return "not given"
    return host if re.fullmatch(r"[A-Za-z0-9._\-:\[\],%]{1,255}", host) else "unreadable"


def where(exc: Exception) -> str:
    """The error without the connection string (it may hold a password): libpq's first line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split("password=")[0]


def copy_rows(conn: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert the rows with ``COPY … FROM STDIN`` (in the caller's transaction): one stream, where ``executemany``
    sends a statement a row; how many were written."""
    count = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
