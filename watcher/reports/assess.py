"""定期考核 (``watcher report assess --from --to [--unit]``): accounts and units ranked by the
criteria of 泉州医专 art. 17 — number of posts, followers and their growth, reposts, comments
and likes — with content problems deducted, and the units to name (通报) or commend (表彰).

Score of an account (0–100):
  each criterion x is put on a log scale against the best account of the table,
      n(x) = 100 · ln(1 + x) / ln(1 + max x)        (0 when nobody has any),
  so one viral account does not flatten everybody else (the same reason 清博 indexes use ln);
  score = Σ wᵢ · nᵢ / Σ wᵢ − penalty × problems, never below 0,
  weights and penalty from the config (``review.weights``, ``review.finding_penalty``).
  The sums run over the criteria the account's platform shows (``Platform.counts``): a Bilibili
  account is not ranked on likes and reposts its platform never shows, its other weights count
  in full; the best value of a criterion is taken among the accounts that can have it. Inside a
  platform that shows a count, a value not observed for one account scores 0 (and reads 未观测).
  Growth below zero scores 0 (and reads negative); problems are the period's findings of kinds in
  PROBLEM_KINDS plus one when the account is dormant by :mod:`watcher.dormancy` at the end of the
  period — the same rule that names its unit, not waiting for the hourly check's finding.
A unit's score is the mean of its accounts' scores. A unit is named (通报) when one of its
accounts is dormant (more than ``watch.dormant_days`` without a post at the end of the period), had a change
not filed in time, or failed its annual review (不合格/限期整改 in the year the period ends);
units without any of these, with a score of at least ``review.commend_min_score``, are commended
(表彰), best first, at most ``review.commend_top``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from watcher import xlsx
from watcher.compliance import linkage
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import KIND_LABELS
from watcher.reports import charts, render
from watcher.reports.figures import UNOBSERVED, AccountFigures, Period, account_figures, unexposed_notes
from watcher.reports.sheets import add_sheet, sheet_title
from watcher.store import Store
from watcher.timefmt import zone, zone_label

CRITERIA: dict[str, str] = {"posts": "发帖数", "followers": "期末粉丝", "growth": "粉丝增长", "reposts": "转发",
                            "comments": "评论", "likes": "点赞"}
# Findings that cost points; dormancy costs one more, by rule (see the module's docstring).
PROBLEM_KINDS = ("unfiled_change", "account_gone")
# The count a platform must show for a criterion to be scored (posts: every platform).
NEEDS = {"followers": "followers", "growth": "followers", "reposts": "reposts", "comments": "comments",
         "likes": "likes"}


def scored_criteria(f: AccountFigures) -> list[str]:
    return [k for k in CRITERIA if k not in NEEDS or NEEDS[k] in f.exposed]


def shown_values(f: AccountFigures) -> dict[str, int | None]:
    """The figures as the table shows them: None is 未观测, growth may be negative."""
    return {"posts": f.posts, "followers": f.followers_end, "growth": f.growth,
            "reposts": f.metric("reposts"), "comments": f.metric("comments"), "likes": f.metric("likes")}


def criteria_of(f: AccountFigures) -> dict[str, float]:
    """What each scored criterion puts on the scale: not observed and negative growth as 0."""
    v = shown_values(f)
    return {k: max(v[k] or 0, 0) for k in scored_criteria(f)}


def log_scale(x: float, top: float) -> float:
    return 100 * math.log1p(x) / math.log1p(top) if top > 0 else 0.0


@dataclass
class AccountScore:
    figures: AccountFigures
    values: dict[str, float]      # scored criteria only, as put on the scale
    normalized: dict[str, float]
    problems: int
    score: float
    rank: int = 0
    linkage: str = "无任务"  # 矩阵联动 of the period: on time / late / expected (not scored)

    @property
    def shown(self) -> dict[str, int | None]:
        return shown_values(self.figures)


@dataclass
class UnitScore:
    unit: str
    accounts: list[AccountScore]
    score: float
    reasons: list[str] = field(default_factory=list)  # why the unit is named (通报)
    rank: int = 0


@dataclass
class Assessment:
    school: str
    period: Period
    unit: str | None
    generated: datetime
    weights: dict[str, float]
    penalty: float
    dormant_days: int
    accounts: list[AccountScore]
    units: list[UnitScore]
    commended: list[UnitScore]

    @property
    def flagged(self) -> list[UnitScore]:
        return [u for u in self.units if u.reasons]


def build(cfg: Config, store: Store, first: date, last: date, *, unit: str | None = None,
          today: date | None = None) -> Assessment:
    period = Period(first, last)
    figs = [f for f in account_figures(store, period, review_year=last.year, today=today, unit=unit)
            if f.account.status == "active"]
    weights = cfg.review.weights.as_dict()
    values = [criteria_of(f) for f in figs]
    tops = {k: max([v[k] for v in values if k in v], default=0) for k in CRITERIA}
    scores: list[AccountScore] = []
    for f, v in zip(figs, values, strict=True):
        norm = {k: log_scale(x, tops[k]) for k, x in v.items()}
        problems = problem_count(f, cfg.watch.dormant_days)
        total_w = sum(weights[k] for k in norm)
        mean = sum(weights[k] * n for k, n in norm.items()) / total_w if total_w else 0.0
        raw = mean - cfg.review.finding_penalty * problems
        scores.append(AccountScore(figures=f, values=v, normalized=norm, problems=problems, score=max(raw, 0.0)))
    tallies = linkage.account_tallies(cfg, store, *_utc_bounds(first, last))
    for s in scores:
        t = tallies.get((s.figures.account.platform, s.figures.account.account_id))
        if t:
            s.linkage = f"{t[0]}/{t[1]}/{t[2]}"
    scores.sort(key=lambda s: (-s.score, s.figures.account.account_name))
    for i, s in enumerate(scores, start=1):
        s.rank = i
    units: dict[str, list[AccountScore]] = {}
    for s in scores:
        units.setdefault(s.figures.account.unit, []).append(s)
    unit_scores = [UnitScore(unit=u, accounts=acc, score=sum(a.score for a in acc) / len(acc),
                             reasons=_reasons(acc, cfg.watch.dormant_days)) for u, acc in units.items()]
    unit_scores.sort(key=lambda u: (-u.score, u.unit))
    for i, u in enumerate(unit_scores, start=1):
        u.rank = i
    commended = [u for u in unit_scores if not u.reasons and u.score >= cfg.review.commend_min_score]
    return Assessment(school=cfg.school.name, period=period, unit=unit, generated=datetime.now(zone()),
                      weights=weights, penalty=cfg.review.finding_penalty, dormant_days=cfg.watch.dormant_days,
                      accounts=scores, units=unit_scores, commended=commended[: cfg.review.commend_top])


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The period's local days as UTC instants: [first 00:00, the day after last 00:00)."""
    return (datetime.combine(first, time(0), tzinfo=zone()),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone()))


def problem_count(f: AccountFigures, dormant_days: int) -> int:
    """扣分项: the period's problem findings, plus one when the account is dormant by the rule
    (a 'dormant' finding of the hourly check is the same fact, so it is not counted again)."""
    return sum(f.findings.get(k, 0) for k in PROBLEM_KINDS) + int(f.dormant(dormant_days))


def _reasons(accounts: list[AccountScore], dormant_days: int) -> list[str]:
    out = []
    for a in accounts:
        f = a.figures
        name = f"{PLATFORM_LABELS.get(f.account.platform, f.account.platform)}「{f.account.account_name}」"
        if f.dormant(dormant_days):
            out.append(f"{name} {f.days_since_post} 天未更新（僵尸账号）")
        if f.unfiled:
            out.append(f"{name} 有 {f.unfiled} 项变更未按时备案")
        if f.review and f.review.status in ("failed", "rectify"):
            out.append(f"{name} {f.review.year} 年审{f.review.label}")
    return out


# -- output ---------------------------------------------------------------------------------------

LINKAGE_COLUMN = "矩阵联动（按时/逾期/应转发）"
ACCOUNT_COLUMNS = ["排名", "平台", "账号名称", "开设单位", *CRITERIA.values(), "粉丝观测日期",
                   LINKAGE_COLUMN, "扣分项（问题发现、僵尸账号）", "得分"]
UNIT_COLUMNS = ["排名", "开设单位", "参评账号", "平均得分", "通报事由"]


def followers_dates(f: AccountFigures) -> str:
    """When the follower counts were observed: growth runs from the first to the last."""
    if f.followers_end_on is None or f.followers_start_on is None:
        return UNOBSERVED
    if not f.followers_twice:
        return f"{f.followers_end_on}（仅一次）"
    return f"{f.followers_start_on} 至 {f.followers_end_on}"


def account_row(s: AccountScore) -> list[Any]:
    a = s.figures.account
    shown = s.shown
    cells = [UNOBSERVED if shown[k] is None else shown[k] for k in CRITERIA]
    cells = [c if k in s.values else f"{UNOBSERVED}（不计分）" for k, c in zip(CRITERIA, cells, strict=True)]
    return [s.rank, PLATFORM_LABELS.get(a.platform, a.platform), a.account_name, a.unit, *cells,
            followers_dates(s.figures), s.linkage, s.problems, round(s.score, 2)]


def unit_row(u: UnitScore) -> list[Any]:
    return [u.rank, u.unit, len(u.accounts), round(u.score, 2), "；".join(u.reasons)]


def method_lines(r: Assessment) -> list[str]:
    w = "，".join(f"{CRITERIA[k]} {v:g}" for k, v in r.weights.items())
    return [f"考核期间：{r.period.label()}（{zone_label()}）",
            "每项指标按对数归一：n(x) = 100 × ln(1+x) ÷ ln(1+本表可有该指标的账号中的最高值)；"
            "粉丝负增长照实显示、按 0 计分；平台显示该指标但本期未观测到的按 0 计分",
            "各项指标是各平台含义相同的计数（发帖、粉丝、转发、评论、点赞），在全表同一对数尺度上比较，不按平台分别归一："
            "一个平台只有一两个参评账号时，按平台归一会让它们自动得满分；平台不显示的指标不参与该平台账号的计分（见下）",
            "粉丝：期内第一次与最后一次观测（采集）的粉丝数，粉丝增长 = 末次 − 首次，观测日期见“粉丝观测日期”列",
            f"得分 = Σ 权重×n ÷ Σ 权重 − {r.penalty:g} × 扣分项（最低 0 分），Σ 只含该账号平台显示的指标；权重：{w}",
            "扣分项：" + "、".join(KIND_LABELS[k] for k in PROBLEM_KINDS) + "的问题发现各 1 项；"
            f"考核期末已超过 {r.dormant_days} 天未发帖（僵尸账号，正好 {r.dormant_days} 天不算）1 项",
            *unexposed_notes([s.figures for s in r.accounts], scored=True),
            "单位得分为其参评账号得分的平均；有僵尸账号、未按时备案或年审不合格/限期整改的单位列入通报，"
            "其余达到表彰分数线的单位按得分列入表彰",
            f"{LINKAGE_COLUMN}：考核期内发布的重点稿件中，该账号按时转发、逾期转发的篇数与应转发的篇数（不计分；"
            "平台无法观测的不计入应转发）"]


def write_xlsx(r: Assessment, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "账号排名"
    add_sheet(ws, ACCOUNT_COLUMNS, [account_row(s) for s in r.accounts])
    used = {"账号排名"}
    add_sheet(wb.create_sheet(sheet_title("单位排名", used)), UNIT_COLUMNS, [unit_row(u) for u in r.units])
    add_sheet(wb.create_sheet(sheet_title("通报", used)), ["开设单位", "事由"],
              [[u.unit, reason] for u in r.flagged for reason in u.reasons])
    add_sheet(wb.create_sheet(sheet_title("表彰", used)), ["开设单位", "平均得分"],
              [[u.unit, round(u.score, 2)] for u in r.commended])
    add_sheet(wb.create_sheet(sheet_title("计分方法", used)), ["说明"], [[line] for line in method_lines(r)])
    xlsx.save(wb, path)


def render_html(r: Assessment, *, css_href: str = "report.css") -> str:
    chart = charts.hbar("单位平均得分", [(u.unit, round(u.score, 1)) for u in r.units])
    return render.render("assess.html", css_href=css_href, r=r, criteria=CRITERIA, account_columns=ACCOUNT_COLUMNS,
                         account_rows=[account_row(s) for s in r.accounts], method=method_lines(r), chart=chart)
