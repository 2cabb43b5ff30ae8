"""The schema's steps moved beside their store modules without changing what a database recorded.

``tests/fixtures/db/main-4041250.db`` was made by main 4041250 with the example config and
``tests/fixtures/db/make_main_4041250.py`` (registry import, discovered accounts, a timeline,
findings, deliveries, users, a period, a scan request): opening it must run exactly the steps it
lacked and keep every row.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from watcher.findings import STATUS_LABELS
from watcher.store import Store, schema
from watcher.store.findings import STATUSES
from watcher.store.fingerprint import fingerprint_of
from watcher.store.steps import sql

FIXTURE = Path(__file__).parent / "fixtures" / "db" / "main-4041250.db"
LATEST_LEGACY = dict(schema.LEGACY)


def _tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _shape(path: Path) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, key) and every index's columns."""
    con = sqlite3.connect(path)
    shape: dict[str, object] = {}
    for t in _tables(con):
        shape[t] = [tuple(r[1:]) for r in con.execute(f"PRAGMA table_info({t})")]
    for (name, table) in con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' "
                                     "AND name NOT LIKE 'sqlite_%'"):
        shape[f"index {name}"] = (table, [r[2] for r in con.execute(f"PRAGMA index_info({name})")])
    con.close()
    return shape


def _rows(path: Path) -> dict[str, list[dict[str, object]]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = {t: [dict(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY rowid")] for t in _tables(con)}
    con.close()
    return rows


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "watcher.db"
    shutil.copy(FIXTURE, path)
    return path


def test_the_fixture_is_what_main_4041250_recorded(old_db):
    con = sqlite3.connect(old_db)
    assert dict(con.execute("SELECT component, version FROM schema_version")) == {
        "core": 3, "watch": 1, "alerts": 1, "web": 1}
    con.close()


def test_a_database_of_main_4041250_migrates_and_keeps_every_row(old_db, tmp_path):
    before = _rows(old_db)
    assert all(before[t] for t in ("registry_accounts", "filings", "accounts", "posts", "findings", "deliveries",
                                   "users", "review_actions", "evidence", "manual_periods", "scan_requests"))
    with Store.open(old_db) as s:
        assert s.schema_versions() == {**LATEST_LEGACY, **{c: len(m) for c, m in schema.COMPONENTS.items() if m}}
        assert s.scalar("PRAGMA foreign_keys") == 1  # off only while a step runs
    after = _rows(old_db)
    for table, rows in before.items():
        if table == "schema_version":
            continue
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            # every old column keeps its value; the fingerprint was recomputed on purpose (watch 3)
            kept = {k: v for k, v in old.items() if not (table == "findings" and k == "fingerprint")}
            assert {k: new[k] for k in kept} == kept, table
    for f in after["findings"]:
        from_details = schema.findings.loads(f["details"], {})
        assert f["fingerprint"] == fingerprint_of(f["kind"], f["title"], f["severity"], f["account_name"], f["unit"],
                                                  from_details)
    # and the result is the schema a new installation gets
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    assert _shape(old_db) == _shape(fresh)


def test_opening_again_runs_nothing(old_db):
    Store.open(old_db).close()
    before = _rows(old_db)
    with Store.open(old_db) as s:
        versions = s.schema_versions()
    assert _rows(old_db) == before
    assert versions == {**LATEST_LEGACY, **{c: len(m) for c, m in schema.COMPONENTS.items() if m}}


@pytest.mark.parametrize("upto", [
    {"core": 1, "watch": 0, "alerts": 0, "web": 0},
    {"core": 3, "watch": 1, "alerts": 1, "web": 1},
    {"core": 4, "watch": 2, "alerts": 2, "web": 1},
])
def test_any_earlier_legacy_point_reaches_the_same_schema(tmp_path, upto):
    partial = tmp_path / "partial.db"
    old = Store(partial, migrate=False)
    held = {**upto, **{c: 0 for c in schema.COMPONENTS}}  # the modules' own steps come after the legacy ones
    assert schema.migrate(old.db, upto=held) == held
    old.close()
    Store.open(partial).close()
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    assert _shape(partial) == _shape(fresh)


def test_every_legacy_step_is_made_of_the_store_modules_parts():
    for component, last in schema.LEGACY:
        for version in range(1, last + 1):
            assert schema.legacy_step((component, version)), (component, version)
    owners = {m.__name__.rsplit(".", 1)[1] for m in schema.AGGREGATES if ("core", 1) in m.LEGACY}
    assert owners == {"registry", "accounts", "posts", "rounds", "findings", "deliveries", "scans"}


def test_a_modules_own_step_is_recorded_under_its_name_and_leaves_legacy_alone(old_db, monkeypatch):
    Store.open(old_db).close()
    step = sql("ALTER TABLE posts ADD COLUMN lang TEXT")
    monkeypatch.setitem(schema.COMPONENTS, "posts", [*schema.COMPONENTS["posts"], step])
    with Store.open(old_db) as s:
        versions = s.schema_versions()
        assert "lang" in {c.name for c in s.db["posts"].columns}
        assert s.scalar("SELECT COUNT(*) FROM posts") == 2
    assert versions["posts"] == len(schema.COMPONENTS["posts"])
    assert {k: versions[k] for k in LATEST_LEGACY} == LATEST_LEGACY


def test_finding_statuses_have_labels():
    assert tuple(STATUS_LABELS) == STATUSES


def test_two_openers_of_a_new_database_migrate_it_once(tmp_path):
    """Two rounds (threads or processes) opening a fresh database at once: each step runs once."""
    import threading

    path = tmp_path / "fresh.db"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        start.wait()
        try:
            Store.open(path).close()
        except BaseException as e:  # noqa: BLE001 - collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with Store.open(path) as s:
        assert s.schema_versions() == {**LATEST_LEGACY, **{c: len(m) for c, m in schema.COMPONENTS.items() if m}}
