"""The findings list as a reviewer works through it: filters (including a date range of local
days), sorting, pages, and the same selection exported to XLSX."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

from watcher import xlsx
from watcher.config import PLATFORM_LABELS
from watcher.findings import KIND_LABELS, STATUS_LABELS
from watcher.store.findings import Finding
from watcher.timefmt import local_time, zone, zone_label

PER_PAGE = 50
SORTS = {"updated": "更新时间", "created": "发现时间", "kind": "类型", "severity": "严重程度", "unit": "单位"}
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass
class Listing:
    """What the reviewer asked for, read from the query string; bad values fall back quietly
    to the defaults (a filter form, not an API) and are reported in ``problems``."""

    kind: str = ""
    status: str = ""
    unit: str = ""
    platform: str = ""
    q: str = ""
    since: date | None = None
    until: date | None = None
    sort: str = "updated"
    desc: bool = True
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Listing:
        out = cls(kind=params.get("kind", ""), status=params.get("status", ""), unit=params.get("unit", ""),
                  platform=params.get("platform", ""), q=params.get("q", "").strip())
        for key in ("since", "until"):
            raw = params.get(key, "").strip()
            if raw:
                try:
                    setattr(out, key, date.fromisoformat(raw))
                except ValueError:
                    out.problems.append(f"日期 {raw!r} 无效，应为 YYYY-MM-DD，已忽略")
        out.sort = params.get("sort", "updated") if params.get("sort") in SORTS else "updated"
        out.desc = params.get("order", "desc") != "asc"
        try:
            out.page = max(1, int(params.get("page", "1")))
        except ValueError:
            out.page = 1
        return out

    def query(self, **change: Any) -> dict[str, str]:
        """The query string of this listing with ``change`` applied (for links to pages, sorts)."""
        values = {"kind": self.kind, "status": self.status, "unit": self.unit, "platform": self.platform, "q": self.q,
                  "since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until else "",
                  "sort": self.sort, "order": "desc" if self.desc else "asc", "page": str(self.page)}
        values.update({k: str(v) for k, v in change.items()})
        return {k: v for k, v in values.items() if v}


def _local_day(iso: str | None) -> date | None:
    try:
        return datetime.fromisoformat(iso or "").astimezone(zone()).date()
    except ValueError:
        return None


def select(rows: list[Finding], listing: Listing) -> list[Finding]:
    """The rows in the date range (local days of discovery), sorted as asked."""
    def in_range(r: Finding) -> bool:
        day = _local_day(r.created_at)
        return day is not None and (listing.since is None or day >= listing.since) and (
            listing.until is None or day <= listing.until)

    chosen = [r for r in rows if in_range(r)] if (listing.since or listing.until) else list(rows)
    key = {
        "updated": lambda r: r.updated_at,
        "created": lambda r: r.created_at,
        "kind": lambda r: KIND_LABELS.get(r.kind, r.kind),
        "severity": lambda r: -_SEVERITY_RANK.get(r.severity or "", 3),
        "unit": lambda r: r.unit or "",
    }[listing.sort]
    # Ties (findings of one round share a second) keep the order they were found in.
    return sorted(chosen, key=lambda r: (key(r), r.id), reverse=listing.desc)


def page(rows: list[Finding], listing: Listing) -> tuple[list[Finding], int]:
    pages = max(1, -(-len(rows) // PER_PAGE))
    listing.page = min(listing.page, pages)
    start = (listing.page - 1) * PER_PAGE
    return rows[start:start + PER_PAGE], pages


COLUMNS = [("id", "编号"), ("kind", "类型"), ("severity", "严重程度"), ("title", "标题"), ("platform", "平台"),
           ("account_name", "账号名称"), ("account_id", "账号ID"), ("unit", "单位"), ("status", "状态"),
           ("created_at", "发现时间"), ("updated_at", "更新时间"), ("url", "链接"), ("reasons", "理由")]


def to_xlsx(rows: list[Finding]) -> bytes:
    """The rows as a workbook people read: Chinese headers, labels, local times."""
    wb = Workbook()
    ws = wb.active
    ws.title = "监测发现"
    ws.append([h if k not in ("created_at", "updated_at") else f"{h}（{zone_label()}）" for k, h in COLUMNS])
    for r in rows:
        d = r.details
        ws.append(xlsx.cells([r.id, KIND_LABELS.get(r.kind, r.kind),
                   {"critical": "紧急", "warning": "一般", "info": "提示"}.get(r.severity or "", r.severity),
                   r.title, PLATFORM_LABELS.get(r.platform or "", r.platform or ""),
                   r.account_name or "", r.account_id or "", r.unit or "",
                   STATUS_LABELS.get(r.status, r.status), local_time(r.created_at),
                   local_time(r.updated_at), d.get("url") or d.get("profile_url") or "",
                   "；".join(str(x) for x in d.get("reasons") or [])]))
    ws.freeze_panes = "A2"
    for col, w in zip("ABCDEFGHIJKLM", (8, 14, 8, 48, 10, 22, 20, 14, 10, 18, 18, 40, 60), strict=True):
        ws.column_dimensions[col].width = w
    return xlsx.to_bytes(wb)
