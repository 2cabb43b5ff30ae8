import pytest
from click.testing import CliRunner

from spiders.registry import SPIDERS, NotImplementedPlatform, spider_class
from watcher.cli import main_group
from watcher.config import PLATFORMS
from watcher.crawling.runner import run_crawl


def test_every_platform_has_a_spider_with_modes():
    assert set(SPIDERS) == set(PLATFORMS)
    for p in PLATFORMS:
        cls = spider_class(p)
        assert cls.platform == p and cls.modes


def test_unsupported_mode_is_refused_before_anything_runs(cfg):
    with pytest.raises(NotImplementedPlatform, match="不支持 discover"):
        run_crawl(cfg, "website", "discover", keywords=["北理工"])
    r = CliRunner().invoke(main_group, ["crawl", "website", "discover", "--keyword", "北理工",
                                        "--config", str(cfg.source)])
    assert r.exit_code == 2 and "不支持" in r.output
