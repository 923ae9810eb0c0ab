"""okra's own metric sources: an SQL query, an HTTP JSON endpoint, a CSV column.

Each is a :class:`okra_core.MetricSource` chosen by the scheme of the URL a key
result is bound to:

- ``sql+sqlite:///data.db?query=SELECT ...``: one number from an SQLite file
  (opened read only);
- ``sql+postgresql://user@host:5432/db?secret=PG&query=SELECT ...``: one number
  from PostgreSQL, in a read-only transaction;
- ``json+http://host:port/path#/json/pointer`` (and ``json+https``): the number
  at a JSON pointer in the answer to a GET;
- ``csv:///path/file.csv?column=NAME&row=last``: a cell of a CSV file.

``query=`` comes last: everything after it is the SQL, percent-decoded (``+``
stays a plus). ``timeout=SECONDS`` (default 10) bounds every read. ``secret=NAME``
names a secret read from ``$OKRA_SOURCE_SECRET_<NAME>``: the PostgreSQL password,
or a bearer token sent to the HTTP endpoint.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from okra_core import MetricSource, ValidationError

if TYPE_CHECKING:
    import urllib.request

# urllib.request (with http.client, ssl and email) is imported when a JSON source
# is read: every `okra` command loads this module's plugin, few of them sync.

__all__ = [
    "SOURCES",
    "json_pointer",
    "options",
    "read_csv",
    "read_json",
    "read_postgresql",
    "read_sqlite",
]

_DEFAULT_TIMEOUT = 10.0


def options(url: str) -> dict[str, str]:
    """The options in a source URL's query; ``query=`` takes the rest of it, raw."""
    raw = urlsplit(url).query
    found: dict[str, str] = {}
    while raw:
        if raw.startswith("query="):
            found["query"] = unquote(raw[len("query=") :])
            break
        item, _, raw = raw.partition("&")
        name, _, value = item.partition("=")
        found[unquote(name)] = unquote(value)
    return found


def _timeout(url: str) -> float:
    text = options(url).get("timeout")
    if text is None:
        return _DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 3600:
        raise ValidationError.single(
            "url", f"expected timeout=SECONDS (more than 0, at most 3600), got timeout={text!r}"
        )
    return value


def _number(value: Any, what: str) -> float:
    """``value`` as a finite float, or a ``ValueError`` that says what it was."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return number


# --- SQL -----------------------------------------------------------------------------------


def _query(url: str) -> str:
    query = options(url).get("query", "").strip()
    if not query:
        raise ValidationError.single(
            "url", "expected query=SELECT ... (last in the URL), a query returning one number"
        )
    if query.split(None, 1)[0].lower() not in ("select", "with", "values"):
        raise ValidationError.single(
            "url", f"expected a query that reads (SELECT, WITH or VALUES), got {query[:40]!r}"
        )
    return query


def _one_number(rows: list[Any], query: str) -> float:
    if len(rows) != 1 or len(rows[0]) != 1:
        shape = f"{len(rows)} row(s)" + (f" of {len(rows[0])} column(s)" if rows else "")
        raise ValueError(f"expected one row of one number, the query returned {shape}")
    return _number(rows[0][0], "the query's value")


def _sqlite_file(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc:
        raise ValidationError.single(
            "url", "expected sql+sqlite:///relative.db or sql+sqlite:////abs/path.db"
        )
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path:
        raise ValidationError.single("url", "expected a database file after sql+sqlite:///")
    return Path(unquote(path)).expanduser()


def check_sqlite(url: str) -> None:
    """Refuse an ``sql+sqlite://`` URL without a file or a reading query."""
    _sqlite_file(url)
    _query(url)
    _timeout(url)


def read_sqlite(url: str, secret: str | None) -> float:
    """Run the URL's query on an SQLite file, opened read only; one number."""
    path = _sqlite_file(url)
    query = _query(url)
    if not path.is_file():
        raise FileNotFoundError(f"no database file {path}")
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_timeout(url)
    )
    try:
        rows = connection.execute(query).fetchmany(2)
    finally:
        connection.close()
    return _one_number(rows, query)


def _postgres_target(url: str, secret: str | None) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(url)
    query = "&".join(
        f"{k}={v}" for k, v in options(url).items() if k not in ("query", "secret", "timeout")
    )
    target = urlunsplit(("postgresql", parts.netloc, parts.path, query, ""))
    settings: dict[str, Any] = {"connect_timeout": max(1, round(_timeout(url)))}
    if secret is not None:
        settings["password"] = secret
    return target, settings


def check_postgresql(url: str) -> None:
    """Refuse an ``sql+postgresql://`` URL without a host or a reading query."""
    if not urlsplit(url).hostname:
        raise ValidationError.single("url", "expected sql+postgresql://user@host:5432/db?query=")
    _query(url)
    _timeout(url)


def read_postgresql(url: str, secret: str | None) -> float:
    """Run the URL's query on PostgreSQL in a read-only transaction; one number."""
    import psycopg  # the postgresql extra: only this source needs it

    target, settings = _postgres_target(url, secret)
    query = _query(url)
    timeout_ms = int(_timeout(url) * 1000)
    with psycopg.connect(target, autocommit=False, **settings) as connection:
        connection.read_only = True
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            cursor.execute(query.encode())
            rows = cursor.fetchmany(2)
        connection.rollback()
    return _one_number(list(rows), query)


# --- HTTP JSON -------------------------------------------------------------------------------


def json_pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON pointer (``""`` is the whole document)."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/', got {pointer!r}")
    value = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            if token not in value:
                raise ValueError(f"the document has nothing at {pointer!r} (no {token!r})")
            value = value[token]
        elif isinstance(value, list):
            if not token.isdigit() or int(token) >= len(value):
                raise ValueError(f"the document has nothing at {pointer!r} (index {token!r})")
            value = value[int(token)]
        else:
            raise ValueError(f"the document has nothing at {pointer!r}")
    return value


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """An opener that does not follow redirects, built on first use."""
    import urllib.request

    class _NoRedirects(urllib.request.HTTPRedirectHandler):
        """A redirect would send the bearer token elsewhere: it is an answer, not followed."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(_NoRedirects)


def _http_target(url: str) -> tuple[str, str]:
    rest = url.partition("+")[2]
    parts = urlsplit(rest)
    kept = "&".join(
        item
        for item in parts.query.split("&")
        if item and item.partition("=")[0] not in ("secret", "timeout")
    )
    return urlunsplit(parts._replace(query=kept, fragment="")), unquote(parts.fragment)


def check_json(url: str) -> None:
    """Refuse a ``json+http(s)://`` URL without a host."""
    target, pointer = _http_target(url)
    if not urlsplit(target).hostname:
        raise ValidationError.single("url", "expected json+https://host/path#/json/pointer")
    if pointer and not pointer.startswith("/"):
        raise ValidationError.single(
            "url", f"expected a JSON pointer after '#', starting with '/', got {pointer!r}"
        )
    _timeout(url)


def read_json(url: str, secret: str | None) -> float:
    """GET the URL and read the number at its fragment, a JSON pointer."""
    target, pointer = _http_target(url)
    headers = {"Accept": "application/json", "User-Agent": "okra-sync"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    import urllib.error
    import urllib.request

    request = urllib.request.Request(target, headers=headers)
    try:
        with _opener().open(request, timeout=_timeout(url)) as response:
            body = response.read(10_000_000)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection
        raise ValueError(f"the endpoint answered {exc.code} {exc.reason}") from None
    try:
        document = json.loads(body)
    except ValueError:
        raise ValueError("the endpoint's answer is not JSON") from None
    return _number(json_pointer(document, pointer), f"the value at {pointer or '/'!r}")


# --- CSV ------------------------------------------------------------------------------------


def _csv_parts(url: str) -> tuple[Path, str, str]:
    parts = urlsplit(url)
    if parts.netloc:
        raise ValidationError.single("url", "expected csv:///relative.csv or csv:////abs/file.csv")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    found = options(url)
    column = found.get("column", "")
    row = found.get("row", "last")
    if not path:
        raise ValidationError.single("url", "expected a file path after csv:///")
    if not column:
        raise ValidationError.single("url", "expected column=NAME, the column to read")
    if row not in ("first", "last") and not row.isdigit():
        raise ValidationError.single(
            "url", f"expected row=last, row=first or a row number from 1, got row={row!r}"
        )
    return Path(unquote(path)).expanduser(), column, row


def check_csv(url: str) -> None:
    """Refuse a ``csv://`` URL without a file or a column."""
    _csv_parts(url)


def read_csv(url: str, secret: str | None) -> float:
    """The number in one column of a CSV file with a header row (the last row by default)."""
    path, column, row = _csv_parts(url)
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ValueError(f"{path.name} has no column {column!r}")
        rows = [r for r in reader if any((v or "").strip() for v in r.values())]
    if not rows:
        raise ValueError(f"{path.name} has no rows")
    if row == "first":
        chosen = rows[0]
    elif row == "last":
        chosen = rows[-1]
    elif not 1 <= int(row) <= len(rows):
        raise ValueError(f"{path.name} has {len(rows)} rows, not {row}")
    else:
        chosen = rows[int(row) - 1]
    text = (chosen[column] or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column!r} holds {text!r}, not a number") from None
    return _number(value, f"{column!r}")


SOURCES: tuple[MetricSource, ...] = (
    MetricSource(
        scheme="sql+sqlite",
        description="one number from a query on an SQLite file (read only)",
        read=read_sqlite,
        check=check_sqlite,
        example="sql+sqlite:///data.db?query=SELECT count(*) FROM signups",
    ),
    MetricSource(
        scheme="sql+postgresql",
        description="one number from a query on PostgreSQL (a read-only transaction)",
        read=read_postgresql,
        check=check_postgresql,
        example="sql+postgresql://okra@db:5432/app?secret=APPDB&query=SELECT count(*) FROM users",
    ),
    *(
        MetricSource(
            scheme=f"json+{protocol}",
            description=f"the number at a JSON pointer in a GET over {protocol.upper()}",
            read=read_json,
            check=check_json,
            example=f"json+{protocol}://stats.example.com/api#/signups/total",
        )
        for protocol in ("https", "http")
    ),
    MetricSource(
        scheme="csv",
        description="a number in a column of a CSV file (the last row by default)",
        read=read_csv,
        check=check_csv,
        example="csv:///reports/weekly.csv?column=mrr",
    ),
)
"""The built-in sources, as :mod:`okra_adapters.sync.plugin` registers them."""
