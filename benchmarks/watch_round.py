"""A watch round of N registered Weibo accounts against a local fake m.weibo.cn, beside the limit:
one bare Scrapy process fetching the same pages with the same rate and concurrency.

    python benchmarks/watch_round.py [--accounts 300] [--rate 4] [--concurrency 2]

Each account costs two pages (profile, first page of posts), as in a real round with
``pages: 1``. Printed for both: wall time, CPU time (this process and its children), requests,
peak RSS; then the two ratios (round / bare).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from spiders.base import Target  # noqa: E402
from tests.fakeplatform import FakePlatform  # noqa: E402
from tests.spider_helpers import platform_config  # noqa: E402
from tests.weibo_shapes import serve_accounts, uid  # noqa: E402
from watcher.rounds.engine import run_round  # noqa: E402
from watcher.rounds.settings import build_settings  # noqa: E402

BARE = textwrap.dedent('''
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess
    urls, settings = json.loads(sys.stdin.read())

    class Bare(scrapy.Spider):
        name = "bare"
        async def start(self):
            for u in urls:
                yield scrapy.Request(u, dont_filter=True)
        def parse(self, response):
            json.loads(response.text)   # read the answer, as any spider would

    p = CrawlerProcess(settings, install_root_handler=False)
    p.crawl(Bare)
    p.start()
''')


def usage() -> tuple[float, float, int]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, max(me.ru_maxrss, kids.ru_maxrss)


def measure(fn) -> dict[str, float]:
    cpu_self, cpu_kids, _ = usage()
    t0 = time.monotonic()
    fn()
    wall = time.monotonic() - t0
    self2, kids2, _ = usage()
    return {"wall": wall, "cpu": (self2 - cpu_self) + (kids2 - cpu_kids)}


def peak_rss_of_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--rate", type=float, default=4.0)
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    accounts = [uid(i) for i in range(args.accounts)]
    with tempfile.TemporaryDirectory() as tmp, FakePlatform(ROOT / "tests" / "fixtures" / "weibo") as fake:
        serve_accounts(fake, accounts)
        cfg = platform_config(Path(tmp), "weibo", fake.base_url, pages=1, rate=args.rate,
                              concurrency=args.concurrency, retries=0)
        base = fake.base_url
        urls = [u for a in accounts for u in (
            f"{base}/api/container/getIndex?type=uid&value={a}",
            f"{base}/api/container/getIndex?type=uid&value={a}&containerid=107603{a}&page=1")]
        settings = {k: v for k, v in build_settings(cfg, "weibo").items()
                    if k not in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES")}

        def bare() -> None:
            import json
            subprocess.run([sys.executable, "-c", BARE], input=json.dumps([urls, settings]), text=True, check=True,
                           stderr=subprocess.DEVNULL)

        bare_stats = measure(bare)
        bare_requests = len(fake.requests)
        bare_rss = peak_rss_of_children()
        fake.requests.clear()
        result = {}

        def ours() -> None:
            result["r"] = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])

        round_stats = measure(ours)
        round_requests = len(fake.requests)
        round_rss = peak_rss_of_children()
    counts = result["r"].counts()
    print(f"watch round: {args.accounts} accounts, rate {args.rate}/s, concurrency {args.concurrency}")
    print(f"{'':<22}{'wall s':>9}{'CPU s':>9}{'requests':>10}{'peak RSS MB':>13}")
    print(f"{'bare Scrapy (limit)':<22}{bare_stats['wall']:>9.1f}{bare_stats['cpu']:>9.2f}{bare_requests:>10}"
          f"{bare_rss:>13.0f}")
    print(f"{'campus-watcher round':<22}{round_stats['wall']:>9.1f}{round_stats['cpu']:>9.2f}{round_requests:>10}"
          f"{round_rss:>13.0f}")
    print(f"ratios round/bare: wall {round_stats['wall'] / bare_stats['wall']:.2f}x, "
          f"CPU {round_stats['cpu'] / bare_stats['cpu']:.2f}x; accounts {counts}")


if __name__ == "__main__":
    main()
