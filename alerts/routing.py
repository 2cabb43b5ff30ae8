"""Who must hear about a finding.

The unit that owns the registered account; else the unit whose name an impersonator used
(北理工计算机学院 → 计算机学院); else the central department. The central department is copied
on what it must always see: tier-1 accounts, deletions confirmed in a sensitive period, posts
the platform removed (not the author), and suspects posing as an office (官方, 招生办, 教务处 …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watcher.config import Config, UnitConfig
from watcher.matching.normalize import normalize
from watcher.periods import active_periods
from watcher.store import registry as stored_registry
from watcher.store.findings import Finding

OFFICE_HINTS = ("官方", "招生", "教务", "办公室", "校友会", "研究生院", "官微")


@dataclass
class Route:
    primary: UnitConfig
    copy_central: bool = False
    why: list[str] = field(default_factory=list)

    def copy(self, why: str) -> None:
        self.copy_central = True
        self.why.append(why)

    def units(self, central: UnitConfig | None) -> list[tuple[UnitConfig, str]]:
        out = [(self.primary, "责任单位")]
        if self.copy_central and central is not None and central.id != self.primary.id:
            out.append((central, "抄送"))
        return out


def _unit_in_name(cfg: Config, name: str | None) -> UnitConfig | None:
    compact = normalize(name or "").compact
    best: tuple[int, UnitConfig] | None = None
    for u in cfg.units:
        if u.central:
            continue
        for form in (u.name, *u.aliases):
            f = normalize(form).compact
            if len(f) >= 2 and f in compact and (best is None or len(f) > best[0]):
                best = (len(f), u)
    return best[1] if best else None


def route(cfg: Config, store: Any, finding: Finding, now: datetime | None = None) -> Route | None:
    central = cfg.central_unit()
    unit = cfg.unit(finding.unit) or _unit_in_name(cfg, finding.account_name)
    why = []
    if unit is not None:
        why.append(f"归属单位：{unit.name}")
    else:
        unit = central
        if unit is None:
            return None
        why.append("无法确定归属单位，发送宣传部")
    r = Route(unit, why=why)
    details = finding.details
    if finding.platform and finding.account_id:
        row = stored_registry.find(store, finding.platform, finding.account_id)
        if row and row.tier == 1:
            r.copy("一级账号，抄送宣传部")
    if finding.kind == "deletion" and any(p.covers(finding.platform) for p in active_periods(cfg, store, now)):
        r.copy("敏感期内删帖，抄送宣传部")
    if finding.kind == "deletion" and details.get("cause") == "platform_removed":
        # The platform removing an official account's post is a content incident, not routine.
        r.copy("帖子被平台删除或屏蔽，抄送宣传部")
    if finding.kind == "impersonation":
        text = f"{finding.title}{finding.account_name or ''}"
        if details.get("office") or any(h in text for h in OFFICE_HINTS):
            r.copy("疑似冒充机构/官方，抄送宣传部")
    if finding.kind == "takedown_overdue":
        r.copy("举报超期未下架，抄送宣传部")
    if finding.kind in ("crawl_blocked", "sentiment_spike"):
        r.primary = central or unit
    if finding.kind in ("sentiment", "sentiment_spike") and finding.severity == "critical":
        # An incident is the central publicity unit's business whichever rule group's unit owns it.
        r.copy("紧急舆情，抄送宣传部")
    return r
