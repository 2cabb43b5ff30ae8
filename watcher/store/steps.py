"""What a migration step is, for the store modules that declare their own (see ``schema``)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]

# A step recorded under one of the component names used before the store package existed
# (core, watch, alerts, web) and its version there: ("core", 1). See ``schema.LEGACY``.
LegacyStep = tuple[str, int]


def sql(*statements: str) -> Migration:
    """A step made of SQL statements, run in order."""

    def run(db: sqlite_utils.Database) -> None:
        for s in statements:
            db.execute(s)

    return run
