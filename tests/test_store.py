import sqlite3

import pytest

from watcher.store import Store, schema


def test_wal_and_versions(tmp_path):
    with Store.open(tmp_path / "w.db") as s:
        assert s.scalar("PRAGMA journal_mode") == "wal"
        assert s.schema_versions()["core"] == dict(schema.LEGACY)["core"]


def test_migration_from_older_schema_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    old = Store(path, migrate=False)
    # every other component held back, whichever components exist by now
    schema.migrate(old.db, upto={**{name: 0 for name in [*dict(schema.LEGACY), *schema.COMPONENTS]}, "core": 1})
    assert old.schema_versions() == {"core": 1}
    old.conn.execute(
        "INSERT INTO accounts (platform, account_id, name, first_seen, last_seen) VALUES ('weibo', '1', '北理工', 'x', 'x')"
    )
    cols = {c.name for c in old.db["accounts"].columns}
    assert "match_algo" not in cols
    old.close()

    with Store.open(path) as s:
        assert s.schema_versions()["core"] == dict(schema.LEGACY)["core"]
        assert "match_algo" in {c.name for c in s.db["accounts"].columns}
        assert s.one("SELECT name FROM accounts WHERE account_id = '1'")["name"] == "北理工"
        assert "name_rules" in s.db.table_names()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store.open(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 999 WHERE component = 'core'")
    con.commit()
    con.close()
    with pytest.raises(RuntimeError, match="升级"):
        Store.open(path)


def test_transaction_is_all_or_nothing_even_nested(tmp_path):
    s = Store.open(tmp_path / "t.db")
    with pytest.raises(RuntimeError), s.transaction():
        s.conn.execute("INSERT INTO name_rules (kind, name, created_at) VALUES ('allow', 'a', 'now')")
        # sqlite-utils wraps its own writes in `with conn:`; that must not commit our outer work
        s.db["name_rules"].insert({"kind": "allow", "name": "b", "created_at": "now"})
        raise RuntimeError("boom")
    assert s.scalar("SELECT COUNT(*) FROM name_rules") == 0
    with s.transaction():
        s.db["name_rules"].insert({"kind": "other", "name": "c", "created_at": "now"})
    assert s.scalar("SELECT COUNT(*) FROM name_rules") == 1
