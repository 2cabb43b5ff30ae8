"""What the fleet looks like to people: ``watcher workers status`` (the workers a school's daemon
can see in Redis) and the fleet's figures on 平台状态 (each host's session, each exit address's
requests today against its budget)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis

from spiders import catalog
from watcher import sessions, timefmt
from watcher.config import Config
from watcher.distributed import pace
from watcher.distributed.dispatch import Fleet
from watcher.distributed.errors import explain
from watcher.distributed.hostsession import reports


def _local(ts: float | None) -> str:
    """A Redis time as people here read it, in the configured zone (``timezone``)."""
    return datetime.fromtimestamp(ts, timefmt.zone()).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _budget(used: int, budget: int) -> str:
    return f"{used}/{budget}" if budget else str(used)


def worker_rows(cfg: Config, fleet: Fleet | None = None) -> list[dict[str, Any]]:
    fleet = fleet or Fleet(cfg)
    now = fleet.now()
    usage = pace.usage(fleet.server)
    rows = []
    for w in fleet.workers():
        if fleet.alive(w, now):
            state = "在线"
        elif w["state"] == "stopped":
            state = "已停止"
        else:
            state = "失联" if w["beat"] else "已过期"
        cooling = {p: float(t) for p, t in w["cooling"].items() if float(t) > now}
        today = {p: usage["workers"].get((w["name"], p), 0) for p in w["platforms"]}
        exit_today = {p: usage["exits"].get((w["exit"], p), {"used": 0, "budget": 0}) for p in w["platforms"]}
        rows.append({
            "name": w["name"], "host": w["host"], "pid": w["pid"], "state": state, "exit": w["exit"],
            "platforms": "、".join(catalog.label(p) for p in w["platforms"]),
            "last_beat": _local(w["beat"]),
            # Requests today (the budget's day, in the configured zone), not since the worker started.
            "served": sum(today.values()), "served_by_platform": today, "day": usage["day"],
            "exit_today": "；".join(f"{catalog.label(p)} {_budget(u['used'], u['budget'])}" for p, u in exit_today.items()),
            "sessions": "；".join(f"{catalog.label(p)}{sessions.STATE_LABELS.get(r.get('state', ''), '未检查')}"
                                  for p in w["platforms"] if (r := reports(w, p)) and catalog.get(p).session),
            "targets": w["targets"], "leased": w["leased"] if state == "在线" else 0,
            "cooling": "；".join(f"{catalog.label(p)}至 {_local(t)[11:16]}" for p, t in cooling.items()),
        })
    return rows


def platform_figures(cfg: Config) -> dict[str, Any]:
    """For 平台状态 in fleet mode: per platform, today's requests and budget summed over the exit
    addresses (N addresses: N budgets), each address's own, and each live host's session.
    ``error``: why Redis could not be read (the page shows it instead of the figures)."""
    try:
        fleet = Fleet(cfg, timeout=3)
        usage = pace.usage(fleet.server)
        workers = fleet.workers()
        now = fleet.now()
    except redis.RedisError as e:
        return {"error": explain(e, cfg.crawl), "platforms": {}}
    out: dict[str, dict[str, Any]] = {}
    for (address, platform), u in sorted(usage["exits"].items()):
        fig = out.setdefault(platform, {"requests_today": 0, "daily_budget": 0, "exits": [], "hosts": []})
        fig["requests_today"] += u["used"]
        fig["daily_budget"] += u["budget"]
        fig["exits"].append({"exit": address, "used": u["used"], "budget": u["budget"] or None})
    for w in workers:
        if not fleet.alive(w, now):
            continue
        for platform in w["platforms"]:
            rep = reports(w, platform)
            fig = out.setdefault(platform, {"requests_today": 0, "daily_budget": 0, "exits": [], "hosts": []})
            fig["hosts"].append({"host": w["host"] or w["name"], "worker": w["name"], "state": rep.get("state"),
                                 "label": sessions.STATE_LABELS.get(rep.get("state") or "", "未检查"),
                                 "detail": rep.get("detail"), "checked_at": rep.get("checked_at")})
    return {"error": None, "platforms": out}
