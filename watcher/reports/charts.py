"""Charts as SVG drawn on the server: no script, so they work under the site's CSP (no inline
script or style: colours are SVG presentation attributes), and they print to PDF as vectors."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
FONT = 'font-family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"'


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def hbar(title: str, items: list[tuple[str, float]], *, width: int = 720, color: str = PALETTE[0]) -> Markup:
    """Horizontal bars, one per (label, value); negative values extend left of the axis."""
    row, top, label_w = 24, 34, 220
    height = top + row * max(len(items), 1) + 12
    lo = min([0.0, *(v for _, v in items)])
    hi = max([0.0, *(v for _, v in items)])
    span = (hi - lo) or 1.0
    plot_w = width - label_w - 90
    zero = label_w + plot_w * (-lo / span)
    parts = [_open(width, height, title),
             f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{height - 8}" stroke="#9ca3af"/>']
    if not items:
        parts.append(f'<text x="{label_w}" y="{top + 16}" {FONT} font-size="13" fill="#6b7280">（无数据）</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = plot_w * abs(value) / span
        x = zero if value >= 0 else zero - w
        fill = color if value >= 0 else PALETTE[1]
        parts += [
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" {FONT} font-size="12" fill="#111827">'
            f'{escape(_short(label, 18))}</text>',
            f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" fill="{fill}"/>',
            f'<text x="{(zero + w if value >= 0 else zero) + 6:.1f}" y="{y + 15}" {FONT} font-size="12" '
            f'fill="#374151">{_num(value)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(title: str, categories: list[str], series: list[tuple[str, list[float]]], *, width: int = 720,
          height: int = 300) -> Markup:
    """One line per series over the categories (e.g. months), with a legend."""
    left, right, top, bottom = 50, 150, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    hi = max([1.0, *(v for _, vals in series for v in vals)])
    step = plot_w / max(len(categories) - 1, 1)
    parts = [_open(width, height, title)]
    for k in range(5):  # horizontal grid with values
        v = hi * k / 4
        y = top + plot_h - plot_h * k / 4
        parts += [f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e7eb"/>',
                  f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} font-size="11" fill="#6b7280">'
                  f'{_num(v)}</text>']
    for i, c in enumerate(categories):
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 18}" text-anchor="middle" {FONT} '
                     f'font-size="11" fill="#374151">{escape(c)}</text>')
    for n, (name, vals) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{top + plot_h - plot_h * v / hi:.1f}" for i, v in enumerate(vals))
        parts += [f'<polyline class="series" points="{points}" fill="none" stroke="{color}" stroke-width="2"/>',
                  f'<rect x="{left + plot_w + 14}" y="{top + n * 20}" width="12" height="12" fill="{color}"/>',
                  f'<text x="{left + plot_w + 32}" y="{top + n * 20 + 11}" {FONT} font-size="12" fill="#111827">'
                  f'{escape(_short(name, 9))}</text>']
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="0" y="18" {FONT} font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>')


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
