"""SQL lives only under watcher/store/: no other module of the project writes a statement or
touches the connection. A store module's function is the only way to the tables."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("watcher", "alerts", "spiders")
STORE = ROOT / "watcher" / "store"
DB_CALLS = {"execute", "executemany", "executescript", "query", "one", "scalar"}
# A statement's shape, not a lone word: "select" and "update" are also English and Chinese
# docs mention them; SQL in this project is written in capitals.
STATEMENT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP)\s+(?:TABLE|INDEX|VIEW|TRIGGER)\b|\bALTER\s+TABLE\b|\bPRAGMA\s+\w+|\bON\s+CONFLICT\b"
)
SQL_START = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|WITH|REPLACE)\b", re.I)


def _strings(node: ast.AST) -> list[str]:
    """The literal text in an expression: constants, f-string parts, concatenations."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def sql_outside_the_store(path: Path) -> list[str]:
    """Where ``path`` holds SQL or reaches for the connection: "line: what"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DB_CALLS:
            args = [*node.args, *(k.value for k in node.keywords)]
            texts = [s for a in args for s in _strings(a)]
            if any(SQL_START.match(t) or STATEMENT.search(t) for t in texts):
                found.append(f"{node.lineno}: .{node.func.attr}() with SQL")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if STATEMENT.search(node.value):
                found.append(f"{node.lineno}: SQL in a string: {node.value.strip()[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr == "conn" and isinstance(node.ctx, ast.Load):
            found.append(f"{node.lineno}: .conn (the database connection)")
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
              and node.value.attr == "db"):
            found.append(f"{node.lineno}: .db[...] (a table through sqlite-utils)")
    return sorted(set(found), key=lambda s: int(s.split(":")[0]))


def _project_files() -> list[Path]:
    return sorted(p for d in PACKAGES for p in (ROOT / d).rglob("*.py") if STORE not in p.parents)


def test_no_sql_outside_the_store_package():
    offenders = {str(p.relative_to(ROOT)): hits for p in _project_files() if (hits := sql_outside_the_store(p))}
    assert not offenders, "\n".join(f"{f}\n  " + "\n  ".join(h) for f, h in offenders.items())


@pytest.mark.parametrize("source", [
    'store.conn.execute("UPDATE findings SET status = ? WHERE id = ?", [s, i])',
    'store.query(f"SELECT * FROM posts WHERE {clause}", params)',
    'rows = store.one("select id from users where username = ?", [u])',
    'SQL = "INSERT OR IGNORE INTO deliveries (a) VALUES (?)"',
    'db.execute("PRAGMA foreign_keys = OFF")',
    'store.db["name_rules"].insert({"kind": "allow"})',
    'store.scalar("SELECT COUNT(*) " + "FROM findings")',
])
def test_the_scan_sees_sql(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert sql_outside_the_store(path)


@pytest.mark.parametrize("source", [
    '"""Select the accounts to update from the registry."""',
    'click.echo("已更新 3 条：select 与 update 均完成")',
    'result = scans.one_round(cfg)',
    'parser.execute(plan)',
])
def test_the_scan_leaves_prose_and_other_calls_alone(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert not sql_outside_the_store(path)
