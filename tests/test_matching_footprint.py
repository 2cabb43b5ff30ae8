"""Matching runs in every discovery round and in `watcher match` over large files; its peak memory
(issue 13: under 200 MB for 100k candidates) depends on what importing it drags in."""

import subprocess
import sys


def test_matching_does_not_load_the_crawler_or_the_store():
    code = ("import sys; import watcher.matching; "
            "print(sorted(m for m in ('scrapy', 'twisted', 'watcher.store', 'playwright') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
