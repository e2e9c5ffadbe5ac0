"""PostgreSQL URLs: recognising them, hiding their password, and connecting (pg8000).

A URL ``postgresql://user:password@host:port/database?schema=plan`` names a database and the
schema geocheck reads from or writes to (default ``public``). The password may be in the URL,
in ``PGPASSWORD``, or in a password file (``PGPASSFILE``, default ``~/.pgpass``, lines
``host:port:database:user:password`` with ``*`` for any). It never leaves this module: every
URL geocheck shows (messages, the manifest, the report ...) is :func:`redact`-ed, and the
site's source is a :class:`DatabaseSource`, a text that shows the redacted URL.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import InputError

SCHEMES = ("postgresql", "postgres")
QUERY_KEYS = ("schema", "sslmode")
SSL_MODES = ("disable", "prefer", "require", "verify-full")
CONNECT_TIMEOUT_S = 30.0
"""Seconds to wait for a server before giving up."""
_IDENTIFIER = re.compile(r"^[^\x00\"]{1,63}$")


def is_database_url(text: object) -> bool:
    """Whether ``text`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(text, str) and text.split("://", 1)[0].lower() in SCHEMES \
        and "://" in text


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (``postgresql://u:***@host/db``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min([i for i in (rest.find(c) for c in "/?#") if i >= 0] or [len(rest)])
    userinfo, at, host = rest[:end].rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{rest[end:]}"


class DatabaseSource(str):
    """The site's source when it is a database: text showing the redacted URL, with ``name``
    (``database.schema``) where a file would have its file name."""

    name: str

    def __new__(cls, url: str) -> DatabaseSource:
        db = DatabaseURL.parse(url)
        self = super().__new__(cls, db.shown)
        self.name = f"{db.database}.{db.schema}"
        return self

    @property
    def stem(self) -> str:
        """The same as ``name`` (a file's stem)."""
        return self.name


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``postgresql://`` URL.

    Attributes
    ----------
    user, password, host, port, database : connection settings (password None: look it up
        in ``PGPASSWORD`` or the password file when connecting).
    schema : the schema to read from or write to (``?schema=``, default ``public``).
    sslmode : ``disable`` (default), ``prefer``, ``require`` (encrypted, certificate not
        checked) or ``verify-full``.
    shown : the URL as geocheck shows it, without the password.
    """

    user: str
    password: str | None
    host: str
    port: int
    database: str
    schema: str
    sslmode: str
    shown: str

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        """Parse ``url``; raise :class:`InputError` naming the part that is wrong (the
        message shows the URL without its password)."""
        shown = redact(url)
        if not is_database_url(url):
            raise InputError(f"{shown}: not a postgresql:// URL")
        try:
            parts = urlsplit(url)
            port = parts.port or 5432
        except ValueError as exc:
            raise InputError(f"{shown}: not a valid database URL ({exc})") from None
        query = parse_qs(parts.query, keep_blank_values=True)
        bad = sorted(set(query) - set(QUERY_KEYS))
        if bad:
            raise InputError(f"{shown}: unknown URL option(s) {', '.join(bad)}; geocheck "
                             f"reads {', '.join(QUERY_KEYS)}")
        schema = query.get("schema", ["public"])[-1]
        sslmode = query.get("sslmode", ["disable"])[-1]
        if sslmode not in SSL_MODES:
            raise InputError(f"{shown}: sslmode={sslmode!r} is not one of {', '.join(SSL_MODES)}")
        if not _IDENTIFIER.match(schema):
            raise InputError(f"{shown}: schema {schema!r} is not a valid schema name")
        database = unquote(parts.path.lstrip("/"))
        user = unquote(parts.username or "") or os.environ.get("PGUSER") or _login()
        password = unquote(parts.password) if parts.password is not None else None
        return cls(user, password, parts.hostname or "localhost", port,
                   database or user, schema, sslmode, shown)

    def find_password(self) -> str | None:
        """The password: the URL's, else ``PGPASSWORD``, else the password file's entry."""
        if self.password is not None:
            return self.password
        if os.environ.get("PGPASSWORD"):
            return os.environ["PGPASSWORD"]
        return _pgpass(Path(os.environ.get("PGPASSFILE", Path.home() / ".pgpass")),
                       self.host, self.port, self.database, self.user)

    def hide(self, text: str) -> str:
        """``text`` with the password (if it appears) replaced by ``***``."""
        pw = self.find_password()
        return text.replace(pw, "***") if pw else text


def _login() -> str:
    try:
        return os.getlogin()
    except OSError:
        return os.environ.get("USER", "postgres")


def _pgpass(path: Path, host: str, port: int, database: str, user: str) -> str | None:
    """The password of the first matching line of a libpq password file, or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    want = (host, str(port), database, user)
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.replace("\\:", ":").replace("\\\\", "\\")
                  for f in re.split(r"(?<!\\):", line, maxsplit=4)]
        if len(fields) == 5 and all(f in ("*", w) for f, w in zip(fields, want, strict=False)):
            return fields[4]
    return None


def _ssl_context(mode: str) -> ssl.SSLContext | None:
    if mode == "disable":
        return None
    context = ssl.create_default_context()
    if mode != "verify-full":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def connect(url: str | DatabaseURL) -> Iterator[Any]:
    """A pg8000 DB-API connection to ``url``, closed on leaving (not committed: the caller
    commits).

    Raises
    ------
    InputError
        One line naming the redacted URL and why the connection failed (server down, wrong
        password, no such database); the password never appears in it.
    """
    import pg8000.dbapi  # only a database run needs it

    db = url if isinstance(url, DatabaseURL) else DatabaseURL.parse(url)
    try:
        # reach the server first with a time limit; the connection itself has none, so a
        # long write is never cut off
        socket.create_connection((db.host, db.port), timeout=CONNECT_TIMEOUT_S).close()
        password = db.find_password()
        conn = pg8000.dbapi.connect(user=db.user, password=password, host=db.host,
                                    port=db.port, database=db.database,
                                    ssl_context=_ssl_context(db.sslmode),
                                    application_name="geocheck")
    except Exception as exc:  # pg8000 raises InterfaceError, DatabaseError, OSError ...
        why = db.hide(error_text(exc))
        if db.find_password() is None and (isinstance(exc, AttributeError)
                                           or "password" in why.lower()):
            # pg8000 meets a SCRAM request without a password as an AttributeError
            why = ("the server asks for a password and none was given: put it in the URL, "
                   "in PGPASSWORD or in ~/.pgpass (PGPASSFILE)")
        raise InputError(f"{db.shown}: cannot connect ({why})") from None
    try:
        yield conn
    finally:
        with suppress(Exception):  # closing a broken connection: nothing more to do
            conn.close()


def error_text(exc: BaseException) -> str:
    """One line from a pg8000 error: the server's message (``M``) when it sent one."""
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, dict) and "M" in arg:
        return f"{arg['M']}" + (f" [{arg['C']}]" if "C" in arg else "")
    text = str(arg) or type(exc).__name__
    return " ".join(text.split())


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"plan"``, ``"a""b"``)."""
    if "\x00" in name:
        raise InputError(f"{name!r} is not a valid SQL name")
    return '"' + name.replace('"', '""') + '"'


_RELATIONS = "('r', 'v', 'm', 'f', 'p')"
"""Relation kinds read as tables: tables, views, materialised views, foreign and partitioned
tables."""


def relations(cur: Any, schema: str) -> dict[str, int]:
    """The tables and views of ``schema``, name -> OID, from ``pg_catalog``.

    Only the schema's own rows are read: unlike ``information_schema`` and PostGIS's
    ``geometry_columns`` views, which evaluate functions over every relation of the database,
    this query cannot fail because a table in another schema is dropped while it runs.
    """
    cur.execute("SELECT c.relname, c.oid FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE n.nspname = %s AND c.relkind IN {_RELATIONS} ORDER BY c.relname",
                (schema,))
    return {str(name): int(oid) for name, oid in cur.fetchall()}


@dataclass(frozen=True)
class Column:
    """A column of a table, as ``pg_catalog`` describes it."""

    name: str
    type: str
    """``format_type`` without modifier: ``integer``, ``text``, ``geometry`` ..."""
    builtin: bool
    """Whether the type is PostgreSQL's own (in ``pg_catalog``), not an extension's."""
    srid: int
    """For a ``geometry`` column, the SRID its type declares (0 when none); else 0."""


def table_columns(cur: Any, oid: int) -> list[Column]:
    """The columns of the relation ``oid`` in their order (dropped columns left out)."""
    cur.execute("SELECT a.attname, t.typname, format_type(a.atttypid, NULL), "
                "t.typnamespace = 'pg_catalog'::regnamespace, a.atttypmod "
                "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum", (oid,))
    return [Column(str(name), "geometry" if typname == "geometry" else str(kind), bool(builtin),
                   _typmod_srid(int(typmod)) if typname == "geometry" else 0)
            for name, typname, kind, builtin, typmod in cur.fetchall()]


def _typmod_srid(typmod: int) -> int:
    """The SRID in a PostGIS geometry type modifier (``geometry(Point, 4490)``); 0 for none.

    PostGIS keeps the SRID in bits 8-27 of the modifier, bit 28 its sign (liblwgeom's
    ``TYPMOD_GET_SRID``); -1 means no modifier.
    """
    if typmod < 0:
        return 0
    return ((typmod & 0x0FFFFF00) - (typmod & 0x10000000)) >> 8
