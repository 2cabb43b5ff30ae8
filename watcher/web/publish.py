"""公示平台: a static page anyone can use to check whether an account is official.

``watcher publish --out DIR`` writes ``index.html`` (with a search box that works offline, its
script and style in ``search.js`` and ``public.css``) and ``accounts.json``; publish the folder
on the school's website.
"""

from __future__ import annotations

import html
import json
from datetime import date
from pathlib import Path

from watcher import registry
from watcher.config import PLATFORM_LABELS, Config
from watcher.store import Store

TIERS = {1: "一级", 2: "二级", 3: "三级"}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{school}官方新媒体账号公示</title>
<link rel="stylesheet" href="public.css"><script src="search.js" defer></script></head>
<body><h1>{school}官方新媒体账号公示</h1>
<p class="muted">下列账号均已在学校备案。未列出的、以学校名义开设的账号均非学校官方账号。更新日期：{today}，共 {count} 个账号。</p>
<input id="q" placeholder="输入账号名称或账号ID查询">
<table><thead><tr><th>平台</th><th>账号名称</th><th>账号ID</th><th>开设单位</th><th>级别</th></tr></thead><tbody id="rows">{rows}</tbody></table>
<p id="none" class="muted" hidden>没有找到该账号：它不是学校备案的官方账号。</p>
</body></html>
"""

# Script and style live in files next to the page, so the school's web server can serve it under
# a Content-Security-Policy without 'unsafe-inline'.
STYLE = """body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1f2937}
h1{font-size:22px}input{width:100%;padding:8px;font-size:16px;margin:8px 0 14px}table{width:100%;border-collapse:collapse}
th,td{text-align:left;border-bottom:1px solid #e5e7eb;padding:7px}th{background:#f3f4f6}.muted{color:#6b7280}
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
    return [{"platform": PLATFORM_LABELS.get(r["platform"], r["platform"]), "platform_code": r["platform"],
             "name": r["account_name"], "account_id": r["account_id"], "unit": r["unit"], "tier": r["tier"]}
            for r in registry.active_accounts(store)]


def publish(cfg: Config, store: Store, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rows = public_rows(store)
    (out / "accounts.json").write_text(json.dumps({"school": cfg.school.name, "updated": date.today().isoformat(),
                                                   "accounts": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (r["platform"], r["name"], r["account_id"], r["unit"],
                                                                     TIERS.get(r["tier"], r["tier"]))) + "</tr>"
        for r in rows)
    (out / "public.css").write_text(STYLE, encoding="utf-8")
    (out / "search.js").write_text(SCRIPT, encoding="utf-8")
    (out / "index.html").write_text(PAGE.format(school=html.escape(cfg.school.name), today=date.today().isoformat(),
                                                count=len(rows), rows=cells), encoding="utf-8")
    return len(rows)
