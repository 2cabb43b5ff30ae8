"""School-wide name rules (白名单 / 他校名单) and unit reviewers' proposals for them.

A rule changes how every future account with that name is judged, on every platform, for the
whole school; so only the central department (central/admin) writes ``name_rules``. A unit
reviewer's "误报 + 加入名单" becomes a row in ``rule_proposals`` that central approves (the rule
is written then) or rejects. Each step is audit-logged by the caller.
"""

from __future__ import annotations

from watcher.store import Store
from watcher.store import rules as stored
from watcher.store.rules import NameRule, RuleProposal

RULE_LABELS = {"allow": "白名单", "other": "他校/他机构名单"}


class ProposalError(ValueError):
    pass


def add_rule(store: Store, kind: str, name: str, note: str | None, actor: str) -> None:
    stored.add_rule(store, kind, name, note, actor)


def remove_rule(store: Store, rule_id: int) -> NameRule | None:
    """Delete one rule (accounts with that name are judged normally again); the removed row, or
    None when there was none."""
    return stored.remove_rule(store, rule_id)


def propose(store: Store, kind: str, name: str, finding_id: int | None, note: str | None, actor: str) -> int:
    """A pending proposal (the same pending one again is not duplicated); returns its id."""
    with store.transaction():
        existing = stored.pending_proposal(store, kind, name)
        if existing is not None:
            return int(existing)
        return stored.add_proposal(store, kind, name, finding_id, note, actor)


def decide(store: Store, proposal_id: int, approve: bool, actor: str, note: str | None = None) -> RuleProposal:
    """Approve (writes the rule) or reject a pending proposal; returns it as it was."""
    with store.transaction():
        p = stored.proposal(store, proposal_id)
        if p is None:
            raise ProposalError("没有这条名单提议")
        if p.status != "pending":
            raise ProposalError(f"该提议已处理（{'已批准' if p.status == 'approved' else '已驳回'}）")
        stored.set_decision(store, proposal_id, "approved" if approve else "rejected", actor, note)
        if approve:
            add_rule(store, p.kind, p.name, f"{p.note or ''}（{p.proposed_by} 提议，{actor} 批准）", actor)
    return p


def pending(store: Store) -> list[RuleProposal]:
    return stored.pending_proposals(store)


def decided(store: Store, limit: int = 100) -> list[RuleProposal]:
    return stored.decided_proposals(store, limit)


def current_rules(store: Store) -> list[NameRule]:
    return stored.name_rules(store)
