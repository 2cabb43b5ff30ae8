"""The sentiment brief (舆情日报 / 周报): mentions by day and platform, the top negative clusters
with links and evidence, new impersonation leads — as HTML (with a server-drawn SVG chart, no
script) and as an XLSX workbook. Sent to the central unit by :mod:`alerts.brief`; written on
demand by ``watcher report sentiment --from --to``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from alerts.messages import defang, safe_link
from spiders import catalog
from watcher import xlsx
from watcher.config import Config
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings
from watcher.store.mentions import Cluster
from watcher.timefmt import local_time, zone, zone_label

TOP_CLUSTERS = 10
PALETTE = ("#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50", "#f39c12",
           "#1abc9c")


@dataclass
class Lead:
    title: str
    platform: str
    account_id: str
    account_name: str
    created_at: str
    url: str


@dataclass
class Brief:
    kind: str                      # daily / weekly / custom
    start: date                    # first day (local time)
    end: date                      # last day, inclusive
    days: list[str]
    platforms: list[str]
    counts: dict[tuple[str, str], int]
    clusters: list[Cluster]
    leads: list[Lead]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def title(self) -> str:
        what = {"daily": "舆情日报", "weekly": "舆情周报"}.get(self.kind, "舆情报告")
        span = self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()} 至 {self.end.isoformat()}"
        return f"{what}（{span}）"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_day(self, day: str) -> int:
        return sum(n for (d, _), n in self.counts.items() if d == day)

    def by_platform(self, platform: str) -> int:
        return sum(n for (_, p), n in self.counts.items() if p == platform)


def _utc_bounds(start: date, end: date) -> tuple[str, str]:
    lo = datetime.combine(start, time(0), zone()).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), zone()).astimezone(UTC)
    return lo.isoformat(), hi.isoformat()


def daily_counts(store: Store, start: date, end: date) -> dict[tuple[str, str], int]:
    """(local day, platform) → mentions that day. Asked one local day at a time: the store's own
    day column is China's calendar day, which is not the reader's day in another time zone."""
    counts: dict[tuple[str, str], int] = {}
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        for _, platform, n in mentions_store.mentions_by_day(store, *_utc_bounds(day, day)):
            counts[(day.isoformat(), platform)] = counts.get((day.isoformat(), platform), 0) + n
    return counts


def build(store: Store, start: date, end: date, kind: str = "custom") -> Brief:
    """The brief of the local days ``start``..``end`` (inclusive; the configured time zone)."""
    if end < start:
        raise ValueError(f"结束日期 {end} 早于开始日期 {start}")
    lo, hi = _utc_bounds(start, end)
    counts = daily_counts(store, start, end)
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    seen = {p for _, p in counts}
    platforms = [p for p in catalog.names() if p in seen] + sorted(seen - set(catalog.names()))
    clusters = mentions_store.list_clusters(store, since=lo, until=hi, negative=True, limit=TOP_CLUSTERS)
    order = {p: i for i, p in enumerate(catalog.names())}
    for c in clusters:  # in the order people know the platforms by
        c.platforms.sort(key=lambda p: order.get(p, len(order)))
    leads = [Lead(f.title, f.platform or "", f.account_id or "", f.account_name or "",
                  f.created_at, f.details.get("profile_url") or "")
             for f in list_findings(store, kind="impersonation", limit=1000) if lo <= f.created_at < hi]
    return Brief(kind, start, end, days, platforms, counts, clusters, leads)


def chart_svg(brief: Brief, width: int = 720, height: int = 260) -> str:
    """Mentions per day, stacked by platform: an inline SVG drawn here (no script, strict CSP)."""
    left, bottom, top, right = 44, 40, 16, 140
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([brief.by_day(d) for d in brief.days] + [1])
    slot = plot_w / max(len(brief.days), 1)
    bar = max(min(slot * 0.6, 40), 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="每日提及量（按平台）" font-family="sans-serif" font-size="11">',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>']
    for i in range(5):
        value = round(peak * i / 4)
        y = top + plot_h - plot_h * value / peak
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{value}</text>')
    colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(brief.platforms)}
    for i, day in enumerate(brief.days):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for p in brief.platforms:
            n = brief.counts.get((day, p), 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colors[p]}">'
                       f'<title>{html.escape(day)} {html.escape(catalog.label(p))} {n} 条</title></rect>')
        if len(brief.days) <= 16 or i % max(len(brief.days) // 12, 1) == 0:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">'
                       f'{html.escape(day[5:])}</text>')
    for i, p in enumerate(brief.platforms):
        y = top + 6 + i * 18
        out.append(f'<rect x="{left + plot_w + 16}" y="{y}" width="12" height="12" fill="{colors[p]}"/>')
        out.append(f'<text x="{left + plot_w + 34}" y="{y + 10}" fill="#333">{html.escape(catalog.label(p))} '
                   f'{brief.by_platform(p)}</text>')
    if not brief.total:
        out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#777">'
                   '本期没有提及</text>')
    out.append("</svg>")
    return "".join(out)


_ENV = Environment(loader=PackageLoader("watcher.opinion", "templates"), autoescape=select_autoescape(["html"]))
_ENV.filters["local"] = local_time
_ENV.filters["label"] = catalog.label


def render_html(brief: Brief, cfg: Config) -> str:
    """The brief as the HTML body of a mail. Names and texts come from the platforms: they are
    escaped (autoescape) and their addresses defanged, since mail readers autolink bare URLs;
    the only links are to the platforms' hosts and our own site (as in every alert)."""
    return _ENV.get_template("brief.html").render(
        b=brief, chart=chart_svg(brief), school=cfg.school.name, base_url=cfg.alerts.base_url.rstrip("/"),
        zone=zone_label(), link=lambda url: safe_link(cfg, url), plain=lambda text: defang(cfg, text or ""))


def render_text(brief: Brief, cfg: Config) -> str:
    lines = [brief.title, f"提及 {brief.total} 条；负面簇 {len(brief.clusters)} 个；新仿冒线索 {len(brief.leads)} 条。"]
    for c in brief.clusters:
        lines.append(f"- 【{c.group_name}】{c.size} 条，{'、'.join(catalog.label(p) for p in c.platforms)}："
                     f"{defang(cfg, c.representative[:60])} {safe_link(cfg, c.url) or ''}")
    lines.append("完整内容见 HTML 正文与附件 XLSX。")
    return "\n".join(lines)


def workbook(brief: Brief) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "每日提及"
    ws.append(["日期", *[catalog.label(p) for p in brief.platforms], "合计"])
    for day in brief.days:
        ws.append([day, *[brief.counts.get((day, p), 0) for p in brief.platforms], brief.by_day(day)])
    ws.append(["合计", *[brief.by_platform(p) for p in brief.platforms], brief.total])
    cs = wb.create_sheet("负面簇")
    cs.append(["规则组", "条数", "平台", "首次出现", "最后出现", "代表内容", "链接", "判定依据", "研判"])
    for c in brief.clusters:
        # Crawled text (stored before the cleaning edge existed, too): cells() keeps openpyxl from raising.
        cs.append(xlsx.cells([c.group_name, c.size, "、".join(catalog.label(p) for p in c.platforms),
                              local_time(c.first_seen), local_time(c.last_seen), c.representative, c.url or "",
                              c.reason or "", c.decision_label]))
    ls = wb.create_sheet("仿冒线索")
    ls.append(["发现时间", "平台", "账号ID", "账号名称", "说明", "链接"])
    for lead in brief.leads:
        ls.append(xlsx.cells([local_time(lead.created_at), catalog.label(lead.platform), lead.account_id,
                              lead.account_name, lead.title, lead.url]))
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.columns:
            letter = column[0].column_letter
            sheet.column_dimensions[letter].width = min(max(len(str(c.value or "")) for c in column) * 1.6 + 2, 60)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    return xlsx.to_bytes(wb)


def file_stem(brief: Brief) -> str:
    span = brief.start.isoformat() if brief.start == brief.end else f"{brief.start.isoformat()}_{brief.end.isoformat()}"
    return f"sentiment-{brief.kind}-{span}"


def write_files(brief: Brief, cfg: Config, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{file_stem(brief)}.html"
    xlsx_path = out_dir / f"{file_stem(brief)}.xlsx"
    html_path.write_text(render_html(brief, cfg), encoding="utf-8")
    xlsx_path.write_bytes(workbook(brief))
    return html_path, xlsx_path

