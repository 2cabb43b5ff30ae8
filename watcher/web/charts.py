"""Charts drawn on the server as SVG markup: no script, no inline style (the CSP forbids both),
only presentation attributes, so the page stays readable without JavaScript."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from html import escape

from markupsafe import Markup

from watcher.findings import KIND_LABELS
from watcher.store.findings import Finding
from watcher.timefmt import zone

# One colour a kind, the same on every page (a colour-blind-safe palette, Okabe–Ito).
COLOURS = {
    "impersonation": "#D55E00", "deletion": "#CC79A7", "edit": "#E69F00", "profile_change": "#0072B2",
    "unfiled_change": "#56B4E9", "account_gone": "#000000", "dormant": "#999999", "sentiment": "#009E73",
    "sentiment_spike": "#F0E442", "crawl_blocked": "#666666", "post_hidden": "#F5C2E0", "compliance": "#882255",
    "linkage_reminder": "#44AA99",
}


def per_day(findings: Iterable[Finding], today: date, days: int = 14) -> list[tuple[date, Counter[str]]]:
    """Findings per local day by kind, for the ``days`` days ending ``today`` (oldest first)."""
    first = today - timedelta(days=days - 1)
    counts: dict[date, Counter[str]] = {first + timedelta(days=i): Counter() for i in range(days)}
    for f in findings:
        try:
            day = datetime.fromisoformat(f.created_at).astimezone(zone()).date()
        except (KeyError, TypeError, ValueError):
            continue
        if day in counts:
            counts[day][f.kind] += 1
    return sorted(counts.items())


def stacked_bars(series: list[tuple[date, Counter[str]]], *, width: int = 760, height: int = 220) -> Markup:
    """A stacked bar a day, a legend of the kinds that occur, totals above the bars."""
    kinds = [k for k in COLOURS if any(c[k] for _, c in series)]
    top = max([sum(c.values()) for _, c in series] + [1])
    left, bottom, legend_h = 28, 24, 22 * ((len(kinds) + 3) // 4) if kinds else 0
    plot_h = height - bottom - 16
    slot = (width - left) / max(len(series), 1)
    bar = max(slot * 0.6, 4)
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + legend_h}" '
             f'width="{width}" height="{height + legend_h}" role="img" aria-label="每日发现数量（按类型）">',
             f'<line x1="{left}" y1="{16 + plot_h}" x2="{width}" y2="{16 + plot_h}" stroke="#bbb"/>',
             f'<text x="0" y="20" font-size="11" fill="#666">{top}</text>']
    for i, (day, counts) in enumerate(series):
        x = left + i * slot + (slot - bar) / 2
        y = 16 + plot_h
        for k in kinds:
            if counts[k]:
                h = plot_h * counts[k] / top
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[k]}">'
                             f'<title>{day:%m-%d} {escape(KIND_LABELS.get(k, k))}：{counts[k]}</title></rect>')
        total = sum(counts.values())
        if total:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle" '
                         f'fill="#333">{total}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
                     f'fill="#666">{day:%m-%d}</text>')
    for j, k in enumerate(kinds):
        lx, ly = left + (j % 4) * 180, height + 6 + 22 * (j // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{COLOURS[k]}"/>'
                     f'<text x="{lx + 18}" y="{ly + 11}" font-size="12" fill="#333">{escape(KIND_LABELS.get(k, k))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
