"""School-wide name rules (白名单 / 他校名单) and unit reviewers' proposals for them: tables
name_rules, rule_proposals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from watcher.store.db import Database, utcnow
from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 2): sql(
        """CREATE TABLE name_rules (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('allow', 'other')),
            name TEXT NOT NULL,
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (kind, name)
        )""",
    ),
    # name-rule proposals from unit reviewers, which only the central department turns into rules.
    ("web", 2): sql(
        """CREATE TABLE rule_proposals (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('allow', 'other')),
            name TEXT NOT NULL,
            finding_id INTEGER REFERENCES findings(id),
            note TEXT,
            proposed_by TEXT NOT NULL,
            proposed_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by TEXT,
            decided_at TEXT,
            decision_note TEXT
        )""",
        "CREATE INDEX rule_proposals_status ON rule_proposals(status, id)",
    ),
}
# This module's own steps, recorded as component "rules".
MIGRATIONS: list[Migration] = []


@dataclass(frozen=True)
class NameRule:
    """A school-wide name rule: ``kind`` 'allow' (白名单: never a suspect) or 'other' (他校名单:
    another institution's name)."""

    id: int
    kind: str
    name: str
    note: str | None
    actor: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> NameRule:
        return cls(**{f: row[f] for f in _RULE_FIELDS})


@dataclass(frozen=True)
class RuleProposal:
    """A unit reviewer's proposal for a name rule, waiting for (or given) central's decision."""

    id: int
    kind: str
    name: str
    finding_id: int | None
    note: str | None
    proposed_by: str
    proposed_at: str
    status: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RuleProposal:
        return cls(**{f: row[f] for f in _PROPOSAL_FIELDS})


_RULE_FIELDS = tuple(f.name for f in fields(NameRule))
_PROPOSAL_FIELDS = tuple(f.name for f in fields(RuleProposal))


def name_rules(store: Database) -> list[NameRule]:
    """Every rule, newest first."""
    return [NameRule.from_row(r) for r in store.query("SELECT * FROM name_rules ORDER BY id DESC")]


def add_rule(store: Database, kind: str, name: str, note: str | None, actor: str) -> None:
    with store.transaction():
        store.conn.execute("INSERT OR IGNORE INTO name_rules (kind, name, note, actor, created_at) VALUES (?, ?, ?, ?, ?)",
                           [kind, name, note, actor, utcnow()])


def pending_proposal(store: Database, kind: str, name: str) -> int | None:
    return store.scalar("SELECT id FROM rule_proposals WHERE kind = ? AND name = ? AND status = 'pending'", [kind, name])


def add_proposal(store: Database, kind: str, name: str, finding_id: int | None, note: str | None, actor: str) -> int:
    cur = store.conn.execute(
        "INSERT INTO rule_proposals (kind, name, finding_id, note, proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?)",
        [kind, name, finding_id, note, actor, utcnow()])
    return int(cur.lastrowid or 0)


def proposal(store: Database, proposal_id: int) -> RuleProposal | None:
    row = store.one("SELECT * FROM rule_proposals WHERE id = ?", [proposal_id])
    return RuleProposal.from_row(row) if row else None


def set_decision(store: Database, proposal_id: int, status: str, actor: str, note: str | None) -> None:
    store.conn.execute("UPDATE rule_proposals SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
                       "WHERE id = ?", [status, actor, utcnow(), note, proposal_id])


def pending_proposals(store: Database) -> list[RuleProposal]:
    return [RuleProposal.from_row(r) for r in
            store.query("SELECT * FROM rule_proposals WHERE status = 'pending' ORDER BY id")]


def decided_proposals(store: Database, limit: int = 100) -> list[RuleProposal]:
    return [RuleProposal.from_row(r) for r in
            store.query("SELECT * FROM rule_proposals WHERE status != 'pending' ORDER BY id DESC LIMIT ?", [limit])]


def proposals_for(store: Database, finding_id: int) -> list[RuleProposal]:
    return [RuleProposal.from_row(r) for r in
            store.query("SELECT * FROM rule_proposals WHERE finding_id = ? ORDER BY id DESC", [finding_id])]


def remove_rule(store: Database, rule_id: int) -> NameRule | None:
    """Delete one rule; the removed row, or None when there was none."""
    with store.transaction():
        row = store.one("SELECT * FROM name_rules WHERE id = ?", [rule_id])
        if row is not None:
            store.conn.execute("DELETE FROM name_rules WHERE id = ?", [rule_id])
    return NameRule.from_row(row) if row else None
