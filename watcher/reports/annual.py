"""年度报告 (``watcher report annual --year Y``): every registered account's year, per unit.

Figures (see :mod:`watcher.reports.figures`): posts published in the year, their reposts,
comments and likes as last seen (未观测 when not seen, never 0), followers at the first and the
last snapshot inside the year, each with its date, filings and findings recorded in the year, and
days since the last post counted to 31 December (or today, for the current year); dormancy by
:mod:`watcher.dormancy`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from watcher import xlsx
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import KIND_LABELS
from watcher.reports import charts, render
from watcher.reports.figures import (
    METRICS,
    UNOBSERVED,
    AccountFigures,
    Period,
    account_figures,
    unexposed_notes,
)
from watcher.reports.sheets import add_sheet, sheet_title
from watcher.store import Store
from watcher.store.reviews import REVIEW_STATUSES
from watcher.takedown import cases as takedown_cases
from watcher.timefmt import zone, zone_label

TIERS = {1: "一级", 2: "二级", 3: "三级"}
# Kinds a registered account's findings can have (impersonation and crawl blocks are about others).
ACCOUNT_KINDS = ("deletion", "edit", "profile_change", "unfiled_change", "account_gone", "dormant", "sentiment",
                 "sentiment_spike")
NO_REVIEW = "未提交"
CLOSED_NO_REVIEW = "不适用（已注销）"


@dataclass
class UnitSummary:
    unit: str
    accounts: int = 0
    active: int = 0
    closed: int = 0
    reviews: Counter[str] = field(default_factory=Counter)  # Chinese label → accounts
    posts: int = 0
    # Sums of what was observed; None while no account of the unit had the figure observed.
    followers_end: int | None = None
    growth: int | None = None
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    findings: int = 0
    unfiled: int = 0
    dormant: int = 0

    @property
    def submitted(self) -> bool:
        """Every active account's material is in (any status but 未提交)."""
        return self.reviews.get(NO_REVIEW, 0) == 0

    @property
    def failing(self) -> int:
        return self.reviews.get("不合格", 0) + self.reviews.get("限期整改", 0)


@dataclass
class AnnualReport:
    year: int
    school: str
    generated: datetime
    dormant_days: int
    accounts: list[AccountFigures]
    units: list[UnitSummary]
    # 仿冒账号举报与下架, per platform and month (watcher.takedown.cases.figures)
    takedown: list[takedown_cases.Row] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return Period.year(self.year)

    @property
    def not_submitted(self) -> list[UnitSummary]:
        return [u for u in self.units if u.active and not u.submitted]

    @property
    def failing_units(self) -> list[UnitSummary]:
        return [u for u in self.units if u.failing]

    @property
    def dormant(self) -> list[AccountFigures]:
        return sorted((a for a in self.accounts if a.account.status == "active" and a.dormant(self.dormant_days)),
                      key=lambda a: -(a.days_since_post or 0))

    @property
    def total(self) -> UnitSummary:
        t = UnitSummary(unit="全校合计")
        for u in self.units:
            for name in ("accounts", "active", "closed", "posts", "followers_end", "growth", "reposts", "comments",
                         "likes", "findings", "unfiled", "dormant"):
                setattr(t, name, _add(getattr(t, name), getattr(u, name)))
            t.reviews.update(u.reviews)
        return t

    @property
    def notes(self) -> list[str]:
        return [f"僵尸账号：超过 {self.dormant_days} 天未发帖（正好 {self.dormant_days} 天不算），天数按{zone_label()}的日期计",
                "粉丝：年内第一次与最后一次观测（采集）的粉丝数，各注明观测日期；粉丝增长 = 末次 − 首次，"
                "年内只观测到一次或从未观测的记为“未观测”",
                "“未观测”表示没有看到该数值（平台不显示、未采集到），与 0 不同；合计只加已观测的数值",
                "最不活跃的账号：正常账号按年内发帖数从少到多的后四分之一（向上取整，至多 10 个），"
                "与最活跃的账号（前四分之一）不重叠",
                *unexposed_notes(self.accounts, scored=False)]


def _add(a: int | None, b: int | None) -> int | None:
    return a if b is None else (b if a is None else a + b)


def review_label(fig: AccountFigures) -> str:
    if fig.review:
        return fig.review.label
    # A closed account owes no review: saying 未提交 would put its unit on the list for nothing.
    return NO_REVIEW if fig.account.status == "active" else CLOSED_NO_REVIEW


def build(cfg: Config, store: Store, year: int, *, today: date | None = None) -> AnnualReport:
    figs = account_figures(store, Period.year(year), review_year=year, today=today)
    units: dict[str, UnitSummary] = {}
    for f in figs:
        u = units.setdefault(f.account.unit, UnitSummary(unit=f.account.unit))
        u.accounts += 1
        if f.account.status == "active":
            u.active += 1
            u.reviews[review_label(f)] += 1
        else:
            u.closed += 1
        u.posts += f.posts
        u.followers_end = _add(u.followers_end, f.followers_end)
        u.growth = _add(u.growth, f.growth)
        for name in METRICS:
            setattr(u, name, _add(getattr(u, name), f.metric(name)))
        u.findings += sum(f.findings.values())
        u.unfiled += f.unfiled
        u.dormant += f.account.status == "active" and f.dormant(cfg.watch.dormant_days)
    return AnnualReport(year=year, school=cfg.school.name, generated=datetime.now(zone()),
                        dormant_days=cfg.watch.dormant_days, accounts=figs,
                        units=sorted(units.values(), key=lambda u: u.unit),
                        takedown=takedown_cases.figures(store, year=year))


# -- rows as the spreadsheet and the HTML show them ------------------------------------------------

ACCOUNT_COLUMNS = ["平台", "账号名称", "账号ID", "级别", "开设单位", "状态", "年审状态", "年审日期", "年审备注",
                   "年内备案次数", "未按时备案的变更", "距最近发帖天数",
                   *[f"发现：{KIND_LABELS[k]}" for k in ACCOUNT_KINDS],
                   "发帖数", "首次观测粉丝", "首次观测日期", "末次观测粉丝", "末次观测日期", "粉丝增长", "粉丝增长率",
                   "转发", "评论", "点赞", "篇均转发", "篇均评论", "篇均点赞"]


def _round(v: float | None, digits: int = 2) -> float | str:
    return UNOBSERVED if v is None else round(v, digits)


def seen(v: Any) -> Any:
    """A figure for the spreadsheet: 未观测 instead of an empty cell people would read as 0."""
    return UNOBSERVED if v is None else v


def account_row(f: AccountFigures) -> list[Any]:
    a = f.account
    return [PLATFORM_LABELS.get(a.platform, a.platform), a.account_name, a.account_id, TIERS.get(a.tier, a.tier),
            a.unit, "正常" if a.status == "active" else "已注销", review_label(f),
            f.review.reviewed_date if f.review else None, f.review.note if f.review else None,
            f.filings, f.unfiled, seen(f.days_since_post),
            *[f.findings.get(k, 0) for k in ACCOUNT_KINDS],
            f.posts, seen(f.followers_start), seen(f.followers_start_on and f.followers_start_on.isoformat()),
            seen(f.followers_end), seen(f.followers_end_on and f.followers_end_on.isoformat()),
            seen(f.growth), _round(f.growth_rate, 4),
            *[seen(f.metric(m)) for m in METRICS], *[_round(f.per_post(f.metric(m))) for m in METRICS]]


SUMMARY_COLUMNS = ["开设单位", "账号数", "正常", "已注销", *[f"年审：{v}" for v in REVIEW_STATUSES.values()],
                   "发帖数", "年末粉丝合计", "粉丝增长合计", "转发", "评论", "点赞", "问题发现", "未按时备案的变更",
                   "僵尸账号"]


def summary_row(u: UnitSummary) -> list[Any]:
    return [u.unit, u.accounts, u.active, u.closed, *[u.reviews.get(v, 0) for v in REVIEW_STATUSES.values()],
            u.posts, seen(u.followers_end), seen(u.growth), seen(u.reposts), seen(u.comments), seen(u.likes),
            u.findings, u.unfiled, u.dormant]


# -- charts -------------------------------------------------------------------------------------------


def months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def chart_monthly_posts(r: AnnualReport) -> Any:
    series: dict[str, Counter[str]] = {}
    for f in r.accounts:
        series.setdefault(f.account.unit, Counter()).update(f.monthly_posts)
    ms = months(r.year)
    return charts.lines("各单位每月发帖数", [m[5:] + "月" for m in ms],
                        [(unit, [float(c.get(m, 0)) for m in ms]) for unit, c in sorted(series.items())])


def chart_label(f: AccountFigures) -> str:
    """An account as a chart names it: with its platform, since a school's accounts on several
    platforms often share one name (北京理工大学 on Weibo, Bilibili, Douyin …)."""
    return f"{PLATFORM_LABELS.get(f.account.platform, f.account.platform)}·{f.account.account_name}"


def chart_growth(r: AnnualReport, n: int = 15) -> Any:
    known = [f for f in r.accounts if f.growth is not None]
    known.sort(key=lambda f: (-(f.growth or 0), chart_label(f)))
    return charts.hbar("粉丝增长（增长最多的账号）", [(chart_label(f), float(f.growth or 0)) for f in known[:n]])


def most_and_least_active(r: AnnualReport, n: int = 10) -> tuple[list[AccountFigures], list[AccountFigures]]:
    """The top and the bottom quarter of the accounts in use by posts in the year (rounded up, at
    most ``n`` each), least active first in the second list. A quarter, not a fixed ten: in a
    school of 11 accounts "the 10 least active" would be nearly all of them, the second most
    active among them. The two lists never share an account (with one account, it is only the
    most active)."""
    active = sorted((f for f in r.accounts if f.account.status == "active"),
                    key=lambda f: (-f.posts, f.account.account_name))
    k = min(n, math.ceil(len(active) / 4))
    most = active[:k]
    least = [f for f in reversed(active[len(active) - k:]) if f not in most]
    return most, least


def chart_active(r: AnnualReport) -> tuple[Any, Any]:
    most, least = most_and_least_active(r)
    return (charts.hbar("最活跃的账号（年内发帖数）", [(chart_label(f), float(f.posts)) for f in most]),
            charts.hbar("最不活跃的账号（年内发帖数）", [(chart_label(f), float(f.posts)) for f in least],
                        color=charts.PALETTE[3]))


TAKEDOWN_COLUMNS = ["月份", "平台", "举报", "下架", "下架用时中位数（小时）", "下架用时 P90（小时）", "仍未下架"]


def takedown_row(x: takedown_cases.Row) -> list[Any]:
    return [x.month, x.label, x.reported, x.removed, x.median, x.p90, x.still_open]


def write_xlsx(r: AnnualReport, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([f"{r.school} {r.year} 年度新媒体账号年审报告"])
    ws.append([f"统计期间：{r.period.label()}（{zone_label()}）；生成于 {r.generated:%Y-%m-%d %H:%M}"])
    for line in r.notes:
        ws.append(xlsx.cells([line]))
    ws.append([])
    add_sheet(ws, SUMMARY_COLUMNS, [*[summary_row(u) for u in r.units], summary_row(r.total)],
              start_row=4 + len(r.notes))
    used: set[str] = {"汇总"}
    if r.takedown:
        add_sheet(wb.create_sheet(sheet_title("举报与下架", used)), TAKEDOWN_COLUMNS,
                  [takedown_row(x) for x in r.takedown])
    for u in r.units:
        rows = [account_row(f) for f in r.accounts if f.account.unit == u.unit]
        add_sheet(wb.create_sheet(sheet_title(u.unit, used)), ACCOUNT_COLUMNS, rows)
    xlsx.save(wb, path)


def render_html(r: AnnualReport, *, css_href: str = "report.css") -> str:
    most, least = chart_active(r)
    return render.render("annual.html", css_href=css_href, r=r, tiers=TIERS, review_label=review_label,
                         summary_columns=SUMMARY_COLUMNS,
                         summary_rows=[*[summary_row(u) for u in r.units], summary_row(r.total)],
                         chart_monthly=chart_monthly_posts(r), chart_growth=chart_growth(r),
                         chart_most=most, chart_least=least, duration=takedown_cases.duration)
