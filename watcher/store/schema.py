"""The migration runner: forward-only schema steps, each owned by the store module of its tables.

Each store module declares its steps beside its queries: ``MIGRATIONS``, its own ordered list,
recorded in ``schema_version`` under the module's component name (``COMPONENTS``); and
``LEGACY``, its share of the steps recorded before the store package existed.

Those older steps were recorded under four component names (core, watch, alerts, web), one step
touching several aggregates. Existing databases keep exactly what they recorded: legacy step
("core", 2) is still one transaction that bumps ``core`` to 2, now made of the ``("core", 2)``
parts of every store module, in the order of ``AGGREGATES`` (the parts touch different tables).
A database made by any earlier version therefore runs exactly the legacy steps it lacks, in the
order it would have run them, then each component's own steps. Never edit a released step;
append a new one to the owning module's ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite_utils

from watcher.store import (
    accounts,
    cases,
    compliance,
    deliveries,
    findings,
    mentions,
    periods,
    posts,
    registry,
    reviews,
    rounds,
    rules,
    scans,
    users,
)
from watcher.store.steps import LegacyStep, Migration

AGGREGATES = (registry, accounts, posts, rounds, findings, rules, deliveries, scans, periods, users)

# The components of the schema before the store package, their last step, in the order they ran.
# Frozen: nothing is ever added here.
LEGACY: tuple[tuple[str, int], ...] = (("core", 4), ("watch", 3), ("alerts", 2), ("web", 2))

# Each store module's own steps, recorded under its name. A new store module adds one line.
COMPONENTS: dict[str, list[Migration]] = {
    "registry": registry.MIGRATIONS,
    "accounts": accounts.MIGRATIONS,
    "posts": posts.MIGRATIONS,
    "rounds": rounds.MIGRATIONS,
    "findings": findings.MIGRATIONS,
    "rules": rules.MIGRATIONS,
    "deliveries": deliveries.MIGRATIONS,
    "scans": scans.MIGRATIONS,
    "periods": periods.MIGRATIONS,
    "users": users.MIGRATIONS,
    "reviews": reviews.MIGRATIONS,
    "sentiment": mentions.MIGRATIONS,
    "compliance": compliance.MIGRATIONS,
    "takedown": cases.MIGRATIONS,
}


def legacy_step(step: LegacyStep) -> list[Migration]:
    """The parts of one legacy step, in the order they run."""
    return [m.LEGACY[step] for m in AGGREGATES if step in m.LEGACY]


def _check_legacy() -> None:
    known = {(c, v) for c, last in LEGACY for v in range(1, last + 1)}
    for m in AGGREGATES:
        stray = set(m.LEGACY) - known
        if stray:
            raise RuntimeError(f"{m.__name__}: legacy steps {sorted(stray)} were never released")
    empty = [s for s in sorted(known) if not legacy_step(s)]
    if empty:
        raise RuntimeError(f"legacy steps without any part: {empty}")


_check_legacy()


def _version(db: sqlite_utils.Database, component: str) -> int:
    row = db.execute("SELECT version FROM schema_version WHERE component = ?", [component]).fetchone()
    return row[0] if row else 0


def _run(db: sqlite_utils.Database, component: str, version: int, parts: list[Migration]) -> None:
    """One step and its version bump in one transaction.

    Foreign keys are off while it runs (SQLite's procedure for rebuilding a table): dropping a
    table that others reference, e.g. crawl_runs in ("core", 4), otherwise counts every
    referencing row as a violation that the rebuilt table does not undo, and the upgrade of any
    database with profile snapshots failed. The references are checked before the commit instead.

    Another process (or thread) may have run the step since the version was read: the version is
    read again under the write lock, and a step already recorded is not run twice.
    """
    db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set before it
    try:
        with db.conn:
            if _version(db, component) >= version:
                return
            for part in parts:
                part(db)
            broken = db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"架构升级 {component} {version} 会破坏外键引用：{broken[:5]}")
            db.execute(
                "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                [component, version],
            )
    finally:
        db.execute("PRAGMA foreign_keys = ON")


def _advance(db: sqlite_utils.Database, component: str, steps: list[list[Migration]], target: int) -> int:
    current = _version(db, component)
    if current > len(steps):
        raise RuntimeError(
            f"数据库的 {component} 架构版本 {current} 比本程序支持的 {len(steps)} 新；请升级 campus-watcher"
        )
    for version in range(current + 1, target + 1):
        _run(db, component, version, steps[version - 1])
    return max(current, target)


def migrate(db: sqlite_utils.Database, *, upto: dict[str, int] | None = None) -> dict[str, int]:
    """Bring every component forward (legacy ones first); ``upto`` limits versions by
    component name, legacy or not (tests build old schemas)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    limits = upto or {}
    applied: dict[str, int] = {}
    for component, last in LEGACY:
        steps = [legacy_step((component, v)) for v in range(1, last + 1)]
        applied[component] = _advance(db, component, steps, min(last, limits.get(component, last)))
    for component, own in COMPONENTS.items():
        steps = [[step] for step in own]
        applied[component] = _advance(db, component, steps, min(len(own), limits.get(component, len(own))))
    return applied
