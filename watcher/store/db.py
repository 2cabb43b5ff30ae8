"""The database connection: one SQLite file, WAL, explicit transactions.

Several processes write at once (the daemon, crawl subprocesses, the web app), so every
connection waits on a busy database instead of failing, and every multi-row write happens inside
``Database.transaction()``: a kill -9 leaves either all of it or none of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import sqlite_utils


def utcnow() -> str:
    """Timestamps are stored as ISO-8601 UTC strings: sortable and readable in the sqlite shell."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class _Connection(sqlite3.Connection):
    """A connection whose ``with`` blocks nest.

    sqlite-utils wraps its own writes in ``with conn:``; the stock connection would commit our
    outer transaction at the end of such an inner block. Here the outermost block is a real
    ``BEGIN IMMEDIATE`` (taking the write lock up front avoids deadlocking upgrades), and inner
    blocks are savepoints.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._depth = 0

    def __enter__(self) -> _Connection:  # type: ignore[override]
        if self._depth == 0:
            self.execute("BEGIN IMMEDIATE")
        else:
            self.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:  # type: ignore[override]
        self._depth -= 1
        if self._depth == 0:
            self.execute("COMMIT" if exc_type is None else "ROLLBACK")
        elif exc_type is None:
            self.execute(f"RELEASE sp{self._depth}")
        else:
            self.execute(f"ROLLBACK TO sp{self._depth}")
            self.execute(f"RELEASE sp{self._depth}")
        return False


def private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) a directory only its owner can enter: the data dir
    holds phone numbers, e-mail addresses, password hashes and the session signing key.
    A directory we own that was created looser by an older version is tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    # A shared sticky directory such as /tmp is never ours to close, even when running as root.
    if st.st_uid == os.getuid() and st.st_mode & 0o077 and not st.st_mode & stat.S_ISVTX:
        path.chmod(0o700)


def private_tree(root: Path) -> int:
    """Tighten what older versions (or a process run with a loose umask) left inside the data
    dir: every directory we own becomes 0700, every file 0600 (sessions, avatars, evidence,
    briefs, browser profiles). Symbolic links are neither followed nor changed. The data dir
    itself is already 0700, so nothing that works today can depend on these being looser.
    Returns how many entries were changed."""
    changed = 0
    uid = os.getuid()

    def tighten(path: str, mode: int) -> None:
        nonlocal changed
        try:
            st = os.lstat(path)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode) or st.st_uid != uid or not st.st_mode & 0o077:
            return
        try:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)  # lstat said: not a link
            changed += 1
        except OSError:  # a file another process just removed
            pass

    if not root.is_dir():
        return 0
    for top, dirs, files in os.walk(root, followlinks=False):
        for name in dirs:
            tighten(os.path.join(top, name), 0o700)
        for name in files:
            tighten(os.path.join(top, name), 0o700)
    return changed


def _private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the database file's mode), or tighten one we own that an older version made 0644."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(0o600)


class Database:
    """A connection to the database of one campus-watcher installation, schema as found.

    The store modules (``watcher.store.findings`` …) take one of these; everyone else opens a
    :class:`watcher.store.Store`, which is this with the schema migrated forward.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            _private_file(self.path)
        conn = sqlite3.connect(
            str(path),
            factory=_Connection,
            isolation_level=None,
            timeout=60,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn: _Connection = conn  # type: ignore[assignment]
        self.db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
        self._lock = threading.RLock()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """All writes inside commit together or not at all."""
        with self._lock, self.conn:
            yield self.db

    # -- small conveniences used across modules ------------------------------------------

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def schema_versions(self) -> dict[str, int]:
        return {r["component"]: r["version"] for r in self.query("SELECT component, version FROM schema_version")}


def where(equals: dict[str, Any], *, search: str | None = None, search_columns: tuple[str, ...] = (),
          extra: list[tuple[str, list[Any]]] | None = None) -> tuple[str, list[Any]]:
    """A WHERE clause (or "") and its parameters from optional filters: ``equals`` columns with
    a value must match it, ``search`` must appear in one of ``search_columns``. Column names
    come from code, never from users; values are always bound parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    for sql, values in extra or []:
        clauses.append(sql)
        params += values
    for col, val in equals.items():
        if val:
            clauses.append(f"{col} = ?")
            params.append(val)
    if search and search_columns:
        clauses.append("(" + " OR ".join(f"{c} LIKE ?" for c in search_columns) + ")")
        params += [f"%{search}%"] * len(search_columns)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def dumps(value: Any) -> str:
    """JSON for TEXT columns; Chinese stays readable in the sqlite shell."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def loads(value: str | None, default: Any = None) -> Any:
    if value in (None, ""):
        return default
    try:
        return json.loads(value)  # type: ignore[arg-type]
    except ValueError:
        return default


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()
