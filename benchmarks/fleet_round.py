"""The same watch round crawled by one and by two ``watcher worker`` processes through a real
Redis, each worker limited to the same per-worker rate, against a local fake m.weibo.cn.

    python benchmarks/fleet_round.py [--accounts 100] [--rate 5] [--concurrency 2] [--local]

Each account costs two pages (profile, first page of posts). Workers are started and seen in
Redis before the clock starts: the time is the round's, from queueing its targets to the last
account stored and analysed by the daemon. ``--local`` adds the same round without Redis (one
crawl process beside the daemon, at the same rate) for reference. Needs Debian's redis-server.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from spiders.base import Target  # noqa: E402
from tests.fakeplatform import FakePlatform  # noqa: E402
from tests.fleet_helpers import fleet_config, start_worker, stop, wait_until_serving  # noqa: E402
from tests.redis_helpers import redis_server  # noqa: E402
from tests.spider_helpers import platform_config  # noqa: E402
from tests.weibo_shapes import serve_accounts, uid  # noqa: E402
from watcher.rounds.engine import RoundResult, run_round  # noqa: E402


def timed(fn) -> tuple[float, RoundResult]:
    t0 = time.monotonic()
    result = fn()
    return time.monotonic() - t0, result


def fleet_round(tmp: Path, accounts: list[str], workers: int, rate: float, concurrency: int) -> tuple[float, RoundResult, int]:
    with FakePlatform(ROOT / "tests" / "fixtures" / "weibo") as fake, redis_server(tmp / "redis") as url:
        serve_accounts(fake, accounts)
        cfg = fleet_config(tmp / "c", fake.base_url, url, rate=rate, concurrency=concurrency)
        names = [f"w{n + 1}" for n in range(workers)]
        procs = [start_worker(cfg, name, tmp / f"{name}.log") for name in names]
        try:
            wait_until_serving(cfg, "weibo", names, procs)
            seconds, result = timed(lambda: run_round(cfg, "weibo", "timeline",
                                                      [Target.for_mode("timeline", a) for a in accounts]))
            # what the operator sees of the fleet at the end of the round
            status = subprocess.run([sys.executable, "-m", "watcher", "workers", "status", "--config", str(cfg.source)],
                                    capture_output=True, text=True, cwd=ROOT, check=True).stdout
            print(f"$ watcher workers status        # {workers} worker(s), after the round\n{status}")
        finally:
            stop(procs)
        return seconds, result, len(fake.requests)


def local_round(tmp: Path, accounts: list[str], rate: float, concurrency: int) -> tuple[float, RoundResult, int]:
    with FakePlatform(ROOT / "tests" / "fixtures" / "weibo") as fake:
        serve_accounts(fake, accounts)
        cfg = platform_config(tmp, "weibo", fake.base_url, pages=1, rate=rate, concurrency=concurrency)
        seconds, result = timed(lambda: run_round(cfg, "weibo", "timeline",
                                                  [Target.for_mode("timeline", a) for a in accounts]))
        return seconds, result, len(fake.requests)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--rate", type=float, default=5.0, help="requests per second, per worker")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--local", action="store_true", help="also time the round without Redis")
    args = ap.parse_args()
    accounts = [uid(i) for i in range(args.accounts)]
    rows = []
    if args.local:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(("local, no Redis", *local_round(Path(tmp), accounts, args.rate, args.concurrency)))
    for n in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append((f"{n} worker{'s' if n > 1 else ''}", *fleet_round(Path(tmp), accounts, n, args.rate,
                                                                           args.concurrency)))
    print(f"watch round: {args.accounts} Weibo accounts, {2 * args.accounts} pages, rate {args.rate}/s and "
          f"concurrency {args.concurrency} per worker")
    print(f"{'':<18}{'wall s':>9}{'requests':>10}  accounts")
    for name, seconds, result, requests in rows:
        print(f"{name:<18}{seconds:>9.1f}{requests:>10}  {result.counts()}")
    one, two = rows[-2][1], rows[-1][1]
    print(f"two workers / one worker: {two / one:.2f}x")


if __name__ == "__main__":
    main()
