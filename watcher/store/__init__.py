"""The store: every SQL statement of campus-watcher lives in this package.

``Store`` is the database of one installation, opened with its schema migrated forward
(:mod:`watcher.store.schema`). Each aggregate has one module that owns its tables, their
migrations and their queries: ``registry`` (approved accounts, filings), ``accounts``
(discovered accounts, crawl_seen, profile snapshots), ``posts`` (posts, versions, checks,
pending posts), ``rounds`` (crawl rounds, runs, platform state), ``findings`` (findings,
evidence, review actions), ``rules`` (name rules, rule proposals), ``deliveries`` (alert plans,
deliveries), ``scans`` (scan requests), ``periods`` (manual sensitive periods), ``users``
(users, login throttle, audit log), ``cases`` (takedown cases and their events). ``db`` is the
connection, ``schema`` the migration runner.
"""

from __future__ import annotations

from pathlib import Path

from watcher.store import schema
from watcher.store.db import Database, dumps, loads, private_dir, private_tree, utcnow, where

__all__ = ["Database", "Store", "dumps", "loads", "private_dir", "private_tree", "utcnow", "where"]


class Store(Database):
    """The database of one campus-watcher installation.

    Open one per thread (they are cheap); opening migrates the schema forward unless
    ``migrate=False`` (tests that build an old schema).
    """

    def __init__(self, path: Path | str, *, migrate: bool = True) -> None:
        super().__init__(path)
        if migrate:
            schema.migrate(self.db)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        return cls(path)
