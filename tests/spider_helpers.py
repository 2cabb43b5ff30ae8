"""A config for crawling one fake platform (see :mod:`tests.fakeplatform`)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from tests.conftest import write_config
from watcher.config import Config, load_config


def platform_config(tmp_path: Path, platform: str, base_url: str, **options: Any) -> Config:
    """The example config with only ``platform`` enabled, pointed at ``base_url``, fast and
    without retries (a test wants the first answer)."""
    return load_config(write_config(tmp_path / "c", platforms={
        platform: {"enabled": True, "base_url": base_url, "rate": 50, "retries": 0, **options}}))


def run_crawl(cfg: Config, platform: str, mode: str, *, keywords: list[str] | None = None, account: str | None = None,
              post: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """One round, as the tests of one platform want it: the run of its single target (a keyword,
    an account or a post); for several keywords, the round's status over all of them. A plain
    mapping either way, so the platforms' tests read both alike."""
    from spiders.base import Target
    from watcher.rounds.engine import run_round

    values = (keywords or []) if mode == "discover" else [account or ""]
    result = run_round(cfg, platform, mode, [Target.for_mode(mode, v, post) for v in values], **kwargs)
    if len(result.runs) == 1:
        return dataclasses.asdict(result.runs[0])
    return {"id": result.round_id, "status": result.status, "reason": result.reason,
            "items": sum(r.items for r in result.runs), "runs": result.runs}


def crawl_process() -> int | None:
    """The PID of the round's crawl process (this process's child running watcher.rounds.process),
    for tests that kill or signal it as an operator or systemd would."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"watcher.rounds.process" in cmdline:
            return int(stat.parent.name)
    return None


def run_targets(cfg: Config, platform: str, mode: str, values: list[str], *, posts: list[str] | None = None,
                **kwargs: Any) -> dict[str, dict[str, Any]]:
    """One round over several independent targets, as a real round takes them (one crawl process,
    one browser): each target's run as a plain mapping, by its value (its post for a check, else
    its keyword or account). ``posts`` pairs each value with its post, for checks."""
    from spiders.base import Target
    from watcher.rounds.engine import run_round

    pairs = list(zip(values, posts, strict=True)) if posts is not None else [(v, None) for v in values]
    targets = [Target.for_mode(mode, v, p) for v, p in pairs]
    result = run_round(cfg, platform, mode, targets, **kwargs)
    by_key = {r.target: dataclasses.asdict(r) for r in result.runs}
    return {p if p is not None else v: by_key.get(t.key, {"status": "no run", "round": result})
            for (v, p), t in zip(pairs, targets, strict=True)}
