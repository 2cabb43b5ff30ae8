"""A watch round on two ``watcher worker`` processes while the shared Redis restarts mid-round,
against a local fake m.weibo.cn: what an operator's ``systemctl restart redis-server`` costs.

    python benchmarks/fleet_restart.py [--accounts 120] [--outage 3] [--lose]

Redis is stopped once a quarter of the accounts are stored and started again ``--outage``
seconds later on the same port, keeping its data (saved on the way down, as with persistence
on) or, with ``--lose``, without it. Prints the round's outcome, the requests the platform saw,
the pages fetched twice, and the requests made after the round ended (none should be: a round
the daemon closed is never crawled again). Needs Debian's redis-server.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from spiders.base import Target  # noqa: E402
from tests.fakeplatform import FakePlatform  # noqa: E402
from tests.fleet_helpers import fleet_config, start_worker, stop, wait_until_serving  # noqa: E402
from tests.redis_helpers import RestartableRedis  # noqa: E402
from tests.weibo_shapes import serve_accounts, uid  # noqa: E402
from watcher.rounds.engine import run_round  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=120)
    ap.add_argument("--outage", type=float, default=3.0, help="seconds Redis is down")
    ap.add_argument("--lose", action="store_true", help="Redis comes back without its data")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir, FakePlatform(ROOT / "tests" / "fixtures" / "weibo") as fake:
        tmp = Path(tmp_dir)
        server = RestartableRedis(tmp / "redis")
        server.start()
        accounts = [uid(i) for i in range(args.accounts)]
        serve_accounts(fake, accounts)
        cfg = fleet_config(tmp / "c", fake.base_url, server.url, rate=10, concurrency=2)
        workers = [start_worker(cfg, name, tmp / f"{name}.log") for name in ("w1", "w2")]
        restarted: list[int] = []

        def restart() -> None:
            server.stop(keep=not args.lose)
            time.sleep(args.outage)
            server.start()

        def progress(done: int, total: int) -> None:
            if done >= total // 4 and not restarted:
                restarted.append(done)
                threading.Thread(target=restart, daemon=True).start()

        try:
            wait_until_serving(cfg, "weibo", ["w1", "w2"], workers)
            t0 = time.monotonic()
            result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts],
                               progress=progress)
            wall = time.monotonic() - t0
            seen = len(fake.requests)
            time.sleep(3)
            after = len(fake.requests) - seen
        finally:
            stop(workers)
            server.close()
    pages = Counter(path + repr(sorted(query.items())) for path, query, _ in fake.requests)
    print(f"Redis {'lost' if args.lose else 'kept'} its data, down {args.outage:g} s after {restarted[0]} accounts")
    print(f"round: {result.status} {result.counts()} in {wall:.1f} s")
    print(f"requests: {seen}; pages fetched twice: {sum(n > 1 for n in pages.values())}; "
          f"requests in the 3 s after the round ended: {after}")


if __name__ == "__main__":
    main()
