"""公示平台: a static page anyone can use to check whether an account is official.

Each account shows its latest annual review (年审) and year; closed accounts stay, marked 已注销;
units that did not submit or failed the latest review are listed (北理工 art. 14); the
"report a suspected impersonation" address comes from ``review.report_address``.

``watcher publish --out DIR`` writes ``index.html`` (with a search box that works offline, its
script and style in ``search.js`` and ``public.css``) and ``accounts.json``; publish the folder
on the school's website.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections import Counter
from pathlib import Path

from watcher import registry
from watcher.config import PLATFORM_LABELS, Config
from watcher.reports.calendar import local_today
from watcher.store import Store, reviews

TIERS = {1: "一级", 2: "二级", 3: "三级"}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{school}官方新媒体账号公示</title>
<link rel="stylesheet" href="public.css"><script src="search.js" defer></script></head>
<body><h1>{school}官方新媒体账号公示</h1>
<p class="muted">下列账号均已在学校备案。未列出的、以学校名义开设的账号均非学校官方账号；标为“已注销”的账号已停止运营，
不再代表学校。更新日期：{today}，在用 {active} 个账号，已注销 {closed} 个。</p>
{report}
<input id="q" placeholder="输入账号名称或账号ID查询">
<table><thead><tr><th>平台</th><th>账号名称</th><th>账号ID</th><th>开设单位</th><th>级别</th><th>状态</th><th>年审</th></tr></thead>
<tbody id="rows">{rows}</tbody></table>
<p id="none" class="muted" hidden>没有找到该账号：它不是学校备案的官方账号。</p>
{flagged}
</body></html>
"""

# Script and style live in files next to the page, so the school's web server can serve it under
# a Content-Security-Policy without 'unsafe-inline'.
STYLE = """body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1f2937}
h1{font-size:22px}input{box-sizing:border-box;width:100%;padding:8px;font-size:16px;margin:8px 0 14px}table{width:100%;border-collapse:collapse}
th,td{text-align:left;border-bottom:1px solid #e5e7eb;padding:7px}th{background:#f3f4f6}.muted{color:#6b7280}
tr.closed td{color:#9ca3af}tr.closed td.status{color:#b91c1c;font-weight:bold}.flag{color:#b45309;font-weight:bold}
.report{background:#fef3c7;border:1px solid #f59e0b;border-radius:6px;padding:8px 12px}
.units{background:#fff7ed;border:1px solid #fdba74;border-radius:6px;padding:8px 14px;margin-top:18px}
"""
SCRIPT = """document.addEventListener('DOMContentLoaded', function () {
  var q = document.getElementById('q');
  q.addEventListener('input', function () {
    var text = q.value.trim().toLowerCase(), n = 0;
    document.querySelectorAll('#rows tr').forEach(function (tr) {
      var m = !text || tr.textContent.toLowerCase().indexOf(text) >= 0; tr.hidden = !m; if (m) n++;
    });
    document.getElementById('none').hidden = n > 0;
  });
});
"""


def public_rows(store: Store) -> list[dict[str, object]]:
    """What anyone may see of each registered account: no person's name, phone or e-mail, and
    no reviewer's note; a closed account stays listed as 已注销 so nobody takes it for ours.

    An account in use shows its status of the latest review year — 未提交 when its unit has
    recorded nothing for that year (art. 14 marks who did not submit), the same count as the
    units' list below the table; a closed account keeps the last status it had."""
    latest = reviews.latest_reviews(store)
    year = max((rv.year for rv in latest.values()), default=None)
    this_year = reviews.reviews_for_year(store, year) if year is not None else {}
    rows: list[dict[str, object]] = []
    for r in registry.list_accounts(store):
        active = r.status == "active"
        rv = this_year.get(r.id) if active else latest.get(r.id)
        pending = active and year is not None and rv is None
        label = reviews.REVIEW_STATUSES["pending"] if pending else (rv.label if rv else None)
        rows.append({"platform": PLATFORM_LABELS.get(r.platform, r.platform), "platform_code": r.platform,
                     "name": r.account_name, "account_id": r.account_id, "unit": r.unit, "tier": r.tier,
                     "status": "正常" if active else "已注销",
                     "closed_date": r.closed_date if r.status == "closed" else None,
                     "review_year": year if pending else (rv.year if rv else None), "review": label,
                     "review_flagged": pending or bool(rv and active and rv.status in reviews.FLAGGED)})
    rows.sort(key=lambda x: (x["status"] != "正常", x["tier"], x["platform_code"], x["name"]))  # type: ignore[operator]
    return rows


def flagged_units(store: Store) -> tuple[int | None, dict[str, list[str]]]:
    """北理工 art. 14: units whose accounts did not submit or failed the latest annual review,
    with the statuses; accounts without a record for that year count as 未提交."""
    latest = reviews.latest_reviews(store)
    if not latest:
        return None, {}
    year = max(r.year for r in latest.values())
    this_year = reviews.reviews_for_year(store, year)
    units: dict[str, list[str]] = {}
    for r in registry.active_accounts(store):
        rv = this_year.get(r.id)
        status = rv.status if rv else "pending"
        if status in reviews.FLAGGED:
            units.setdefault(r.unit, []).append(reviews.REVIEW_STATUSES[status])
    return year, units


def _report_block(address: str | None) -> str:
    if not address:
        return ""
    href = address if address.startswith(("http://", "https://")) else f"mailto:{address}"
    return (f'<p class="report">发现冒用学校名义的账号？<a href="{html.escape(href)}">举报疑似仿冒账号</a>'
            f"（{html.escape(address)}）</p>")


def _flagged_block(year: int | None, units: dict[str, list[str]]) -> str:
    if year is None or not units:
        return ""
    items = "".join(
        f"<li>{html.escape(u)}：" + "，".join(f"{s} {n} 个" for s, n in sorted(Counter(st).items())) + "</li>"
        for u, st in sorted(units.items()))
    return (f'<section class="units"><h2>{year} 年度年审未提交或不合格的单位</h2>'
            f"<p>以下单位的账号未按时提交年审材料或年审不合格，已督促其限期整改，逾期将暂停或关闭相关账号。</p>"
            f"<ul>{items}</ul></section>")


def publish(cfg: Config, store: Store, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = public_rows(store)
    year, units = flagged_units(store)
    today = local_today().isoformat()
    (out / "accounts.json").write_text(json.dumps(
        {"school": cfg.school.name, "updated": today, "accounts": rows, "review_year": year,
         "units_flagged": units, "report_address": cfg.review.report_address},
        ensure_ascii=False, indent=1), encoding="utf-8")
    cells = "".join(_row(r) for r in rows)
    (out / "public.css").write_text(STYLE, encoding="utf-8")
    (out / "search.js").write_text(SCRIPT, encoding="utf-8")
    active = sum(1 for r in rows if r["status"] == "正常")
    (out / "index.html").write_text(PAGE.format(
        school=html.escape(cfg.school.name), today=today, active=active, closed=len(rows) - active, rows=cells,
        report=_report_block(cfg.review.report_address), flagged=_flagged_block(year, units)), encoding="utf-8")
    # A public page, served by nginx as another user: readable by all, whatever the umask
    # (the CLI runs with 077 so that the data dir stays private).
    for path, mode in ((out, 0o755), *((out / n, 0o644) for n in ("accounts.json", "public.css", "search.js",
                                                                    "index.html"))):
        with contextlib.suppress(OSError):  # a folder someone else owns keeps its own mode
            if path.stat().st_uid == os.getuid():
                path.chmod(mode)
    return len(rows)


def _row(r: dict[str, object]) -> str:
    review = f"{r['review_year']} {r['review']}" if r["review"] else "—"
    status = str(r["status"]) + (f"（{r['closed_date']}）" if r["closed_date"] else "")
    cells = [html.escape(str(v)) for v in (r["platform"], r["name"], r["account_id"], r["unit"],
                                             TIERS.get(r["tier"], r["tier"]))]  # type: ignore[call-overload]
    cls = ' class="closed"' if r["status"] == "已注销" else ""
    flag = ' class="flag"' if r["review_flagged"] else ""
    return (f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + f'<td class="status">{html.escape(status)}</td>'
            f"<td{flag}>{html.escape(review)}</td></tr>")
