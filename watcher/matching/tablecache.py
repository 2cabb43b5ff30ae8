"""Derived tables the matcher rebuilds in every crawl process, kept between processes.

Each discovery round runs in a fresh process (watcher.rounds.process) and builds a matcher: the
common-word list read from jieba's 350,000-line dictionary, the characters read with each of the
school's syllables (pypinyin's 41,000 readings) and the perceptual hashes of 15 variants of each
logo take about 1.5 s of CPU together, every round, for tables that only change when a library
or a logo file does. They are written once as JSON under the user's cache directory (JSON, not
pickle: a file in a shared directory must not be able to run code) and read back in milliseconds.

The key names every input (library versions, the syllables asked for, the logo file's bytes), so a
new version or a new logo makes a new entry. Anything wrong with the cache — no writable home
under systemd's sandbox, a cut file, another process writing at the same moment — only means the
table is built again; the cache never decides an answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when a cached table's shape changes


def cache_dir() -> Path:
    """``CAMPUS_WATCHER_CACHE``, else systemd's ``CACHE_DIRECTORY``, else the XDG cache directory."""
    if os.environ.get("CAMPUS_WATCHER_CACHE"):
        return Path(os.environ["CAMPUS_WATCHER_CACHE"])
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0]) / "tables"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "campus-watcher" / "tables"


def cached(name: str, key: str, build: Callable[[], Any]) -> Any:
    """``build()``'s JSON-serialisable value, read from the cache when an entry for ``key`` exists."""
    digest = hashlib.sha256(f"{FORMAT}\0{name}\0{key}".encode()).hexdigest()[:24]
    path = cache_dir() / f"{name}-{digest}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass  # absent, cut short or unreadable: build it
    value = build()
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed over: a reader never sees half a file.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp",
                                         delete=False) as fh:
            tmp = fh.name
            json.dump(value, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
    return value


def file_key(path: str | Path) -> str:
    """A file's content digest (its name may stay while its picture changes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_key(*modules: Any) -> str:
    """Digests of the modules whose code builds a table: a change to how it is built is a new key."""
    return " ".join(file_key(m.__file__)[:16] for m in modules)


def version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return v(package)
    except PackageNotFoundError:
        return "?"
