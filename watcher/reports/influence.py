"""传播指数 and the 周榜/月榜: the accounts of each platform ranked the way Chinese universities
already rank them with the public 清博 indexes, from what we can observe.

Source. 清博指数 (gsdata.cn) publishes its formulas; WCI V14.2 for WeChat is
    WCI = {0.6·O + 0.2·A + 0.1·H + 0.1·P}² × 1.2 × 10,
    O = 0.70·ln(R/d+1) + 0.09·ln(10·Z/d+1) + 0.06·ln(10·L/d+1) + 0.15·ln(10·RE/d+1)   (整体传播力)
    A = the same per article (R/n …)                                                 (篇均传播力)
    H = the same for headline articles per day (Rt/d …), P = for the best article (Rmax …)
with R reads, Z 在看, L likes, RE shares, d days, n articles (reprinted e.g. at
https://stevekatra.com/site/usage-1). BCI for Weibo likewise puts posts (活跃度) and reposts,
comments and likes (传播度) on a log scale.

What we observe. No platform shows reads to an outsider (WeChat reads and 在看 are in the
account's own back office only), and there is no "headline" outside WeChat. So the index keeps
WCI's structure — whole period per day, per post, best post, each a log of the counts — with the
counts every platform shows in some form (reposts RE, comments C, likes L), and adds activity
and followers, which the school's assessment rules name:
    e(re, c, l) = 0.30·ln(re+1) + 0.30·ln(c+1) + 0.40·ln(l+1)
    O = e(RE/d, C/d, L/d)      整体传播力, 50%
    A = e(RE/n, C/n, L/n)      篇均传播力, 20%   (0 without posts)
    P = e(REmax, Cmax, Lmax)   峰值传播力, 10%   (each the best single post's count)
    V = ln(10·n/d + 1)         活跃度, 10%
    F = 0.5·ln(F_end+1) + 0.5·ln(max(ΔF, 0)+1)   粉丝, 10%
    CWI = (0.5·O + 0.2·A + 0.1·P + 0.1·V + 0.1·F)² × 10
A count a platform does not show counts as 0 for all its accounts alike, so the ranking within a
platform stays fair; the tables print it as 未观测, and which counts were never seen is printed
with each platform's board. Indices of different platforms are not comparable (their counts
differ in kind), hence one board per platform; the unit board, which must span platforms, first
puts each account's index on its own platform's scale, relative = 100 × index ÷ the best index
of that platform's board, and averages those. Weekly boards run Monday to Sunday, monthly boards a calendar month,
China time; the last complete one before the given day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from spiders import catalog
from watcher import xlsx
from watcher.config import Config
from watcher.reports import charts, render
from watcher.reports.figures import METRICS, UNOBSERVED, AccountFigures, Period, account_figures
from watcher.reports.sheets import add_sheet, sheet_title
from watcher.store import Store
from watcher.timefmt import zone

KINDS = {"week": "周榜", "month": "月榜"}
SOURCE = "清博指数 WCI V14.2 / BCI（gsdata.cn），转载见 https://stevekatra.com/site/usage-1"
METRIC_LABELS = {"reposts": "转发", "comments": "评论", "likes": "点赞", "followers": "粉丝数"}
WEIGHTS = {"O": 0.5, "A": 0.2, "P": 0.1, "V": 0.1, "F": 0.1}


def period_for(kind: str, day: date) -> Period:
    """The last complete week (Monday–Sunday) or calendar month before ``day``."""
    if kind == "week":
        last = day - timedelta(days=day.weekday() + 1)
        return Period(last - timedelta(days=6), last)
    if kind == "month":
        last = day.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    raise ValueError(f"榜单类型 {kind!r} 无效，应为 week 或 month")


def engagement(re: float, c: float, lk: float) -> float:
    return 0.30 * math.log1p(re) + 0.30 * math.log1p(c) + 0.40 * math.log1p(lk)


def components(f: AccountFigures, days: int) -> dict[str, float]:
    n = f.posts
    return {
        "O": engagement(f.reposts / days, f.comments / days, f.likes / days),
        "A": engagement(f.reposts / n, f.comments / n, f.likes / n) if n else 0.0,
        "P": engagement(f.peak["reposts"], f.peak["comments"], f.peak["likes"]),
        "V": math.log1p(10 * n / days),
        "F": 0.5 * math.log1p(f.followers_end or 0) + 0.5 * math.log1p(max(f.growth or 0, 0)),
    }


def index_of(parts: dict[str, float]) -> float:
    return sum(WEIGHTS[k] * v for k, v in parts.items()) ** 2 * 10


def relative(index: float, best: float) -> float:
    """An index on its platform's scale (the platform's best = 100): what the unit board averages."""
    return 100 * index / best if best > 0 else 0.0


@dataclass
class Entry:
    figures: AccountFigures
    parts: dict[str, float]
    index: float
    rank: int = 0


@dataclass
class Board:
    kind: str
    period: Period
    school: str
    generated: datetime
    platforms: dict[str, list[Entry]]   # platform → ranked entries
    missing: dict[str, list[str]]       # platform → counts never observed in the period
    # (unit, mean of the accounts' per-platform relative indices, accounts), ranked
    units: list[tuple[str, float, int]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.school}新媒体账号{KINDS[self.kind]}（{self.period.label()}）"


def build(cfg: Config, store: Store, kind: str, day: date, *, today: date | None = None) -> Board:
    period = period_for(kind, day)
    figs = [f for f in account_figures(store, period, today=today) if f.account.status == "active"]
    platforms: dict[str, list[Entry]] = {}
    for f in figs:
        parts = components(f, period.days)
        platforms.setdefault(f.account.platform, []).append(Entry(figures=f, parts=parts, index=index_of(parts)))
    missing: dict[str, list[str]] = {}
    for p, entries in platforms.items():
        entries.sort(key=lambda e: (-e.index, e.figures.account.account_name))
        for i, e in enumerate(entries, start=1):
            e.rank = i
        seen = set().union(*(e.figures.observed for e in entries))
        gaps = [METRIC_LABELS[m] for m in METRICS if m not in seen]
        if all(e.figures.followers_end is None for e in entries):
            gaps.append(METRIC_LABELS["followers"])
        missing[p] = gaps
    by_unit: dict[str, list[float]] = {}
    for entries in platforms.values():
        best = entries[0].index if entries else 0.0
        for e in entries:
            by_unit.setdefault(e.figures.account.unit, []).append(relative(e.index, best))
    units = sorted(((u, sum(v) / len(v), len(v)) for u, v in by_unit.items()), key=lambda x: (-x[1], x[0]))
    ordered = dict(sorted(platforms.items(), key=lambda kv: catalog.get(kv[0]).order))
    return Board(kind=kind, period=period, school=cfg.school.name, generated=datetime.now(zone()),
                 platforms=ordered, missing=missing, units=units)


COLUMNS = ["排名", "账号名称", "开设单位", "发帖", "转发", "评论", "点赞", "期末粉丝", "粉丝增长",
           "整体传播力O", "篇均传播力A", "峰值传播力P", "活跃度V", "粉丝F", "传播指数"]


def entry_row(e: Entry) -> list[Any]:
    f = e.figures
    return [e.rank, f.account.account_name, f.account.unit, f.posts,
            *[UNOBSERVED if f.metric(m) is None else f.metric(m) for m in METRICS],
            UNOBSERVED if f.followers_end is None else f.followers_end, UNOBSERVED if f.growth is None else f.growth,
            *[round(e.parts[k], 3) for k in WEIGHTS], round(e.index, 2)]


FORMULA = [
    "e(re, c, l) = 0.30·ln(re+1) + 0.30·ln(c+1) + 0.40·ln(l+1)（re 转发、c 评论、l 点赞）",
    "O 整体传播力 = e(转发/天数, 评论/天数, 点赞/天数)，权重 50%",
    "A 篇均传播力 = e(转发/帖数, 评论/帖数, 点赞/帖数)，权重 20%",
    "P 峰值传播力 = e(单帖最高转发, 单帖最高评论, 单帖最高点赞)，权重 10%",
    "V 活跃度 = ln(10 × 帖数/天数 + 1)，权重 10%",
    "F 粉丝 = 0.5·ln(期末粉丝+1) + 0.5·ln(粉丝增长+1)（负增长按 0），权重 10%",
    "传播指数 = (0.5·O + 0.2·A + 0.1·P + 0.1·V + 0.1·F)² × 10",
    f"仿照 {SOURCE} 的结构：各平台均不公开阅读数（微信阅读数、在看数只在公众号后台可见），故以转发、评论、点赞代替；"
    "平台未显示的数值表中记为“未观测”、计算时按 0 计，同一平台内仍可比较；不同平台的指数不可相互比较。",
    "单位榜：每个账号的传播指数先换算为本平台榜内的相对值（相对值 = 100 × 指数 ÷ 本平台第一名的指数），"
    "单位得分为其账号相对值的平均，因此跨平台汇总的是各平台内的相对位置，而不是原始指数。",
]


def write_xlsx(b: Board, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "单位榜"
    add_sheet(ws, ["排名", "开设单位", "账号数", "平均相对传播指数（各平台第一名 = 100）"],
              [[i, u, n, round(v, 2)] for i, (u, v, n) in enumerate(b.units, start=1)])
    used = {"单位榜"}
    for p, entries in b.platforms.items():
        add_sheet(wb.create_sheet(sheet_title(catalog.label(p), used)), COLUMNS, [entry_row(e) for e in entries])
    notes = [[f"{b.title}；生成于 {b.generated:%Y-%m-%d %H:%M}"], *[[line] for line in FORMULA]]
    notes += [[f"{catalog.label(p)}：本期未观测到 {'、'.join(m)}"] for p, m in b.missing.items() if m]
    add_sheet(wb.create_sheet(sheet_title("计算方法", used)), ["说明"], notes)
    xlsx.save(wb, path)


def render_html(b: Board, *, css_href: str = "report.css") -> str:
    chart = charts.hbar("单位平均相对传播指数（各平台第一名 = 100）", [(u, round(v, 1)) for u, v, _ in b.units])
    return render.render("leaderboard.html", css_href=css_href, b=b, columns=COLUMNS, entry_row=entry_row,
                         label=catalog.label, formula=FORMULA, chart=chart)


def summary_text(b: Board, base_url: str, top: int = 5) -> str:
    """The board as a short mail for the central unit."""
    lines = [b.title, ""]
    for p, entries in b.platforms.items():
        lines.append(f"【{catalog.label(p)}】" + (f"（未观测到 {'、'.join(b.missing[p])}）" if b.missing[p] else ""))
        lines += [f"  {e.rank}. {e.figures.account.account_name}（{e.figures.account.unit}）{e.index:.1f}"
                  for e in entries[:top]]
    lines += ["", "单位榜（账号在本平台的相对值平均，各平台第一名 = 100）：", *[f"  {i}. {u} {v:.1f}" for i, (u, v, _) in enumerate(b.units[:top], start=1)],
              "", f"完整榜单（XLSX/HTML）：{base_url.rstrip('/')}/reports"]
    return "\n".join(lines)
