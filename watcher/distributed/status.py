"""``watcher workers status``: the workers a school's daemon can see in Redis, as people read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spiders import catalog
from spiders.parsing import CHINA
from watcher.config import Config
from watcher.distributed.dispatch import Fleet


def _local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, CHINA).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def worker_rows(cfg: Config) -> list[dict[str, Any]]:
    fleet = Fleet(cfg)
    now = fleet.now()
    rows = []
    for w in fleet.workers():
        if fleet.alive(w, now):
            state = "在线"
        elif w["state"] == "stopped":
            state = "已停止"
        else:
            state = "失联" if w["beat"] else "已过期"
        cooling = {p: float(t) for p, t in w["cooling"].items() if float(t) > now}
        rows.append({
            "name": w["name"], "host": w["host"], "pid": w["pid"], "state": state,
            "platforms": "、".join(catalog.label(p) for p in w["platforms"]),
            "last_beat": _local(w["beat"]), "served": sum(int(v) for v in w["served"].values()),
            "served_by_platform": {p: int(v) for p, v in w["served"].items()}, "targets": w["targets"],
            "leased": w["leased"] if state == "在线" else 0,
            "cooling": "；".join(f"{catalog.label(p)}至 {_local(t)[11:16]}" for p, t in cooling.items()),
        })
    return rows
