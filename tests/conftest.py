"""Shared fixtures: a minimal valid config in a temp dir, and a fresh store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from watcher.config import Config, load_config
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "watcher.example.yaml"
EXAMPLE_REGISTRY = ROOT / "config" / "registry.example.csv"


def write_config(directory: Path, **overrides: object) -> Path:
    """The example config, made self-contained in ``directory`` with every platform disabled
    (tests must never reach the internet); ``overrides`` replace top-level keys."""
    directory.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    shutil.copy(EXAMPLE_REGISTRY, directory / "registry.csv")
    (directory / "logos").mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "logos" / "emblem.png", directory / "logos" / "emblem.png")
    raw["registry"] = "registry.csv"
    raw["data_dir"] = "data"
    raw["platforms"] = {p: {**(v or {}), "enabled": False} for p, v in raw.get("platforms", {}).items()}
    # Avatars in recorded responses point at the platforms' CDNs: never fetch them in tests.
    raw["matching"] = {**raw.get("matching", {}), "download_avatars": False}
    raw.update(overrides)
    # Tests crawl local servers: no reader's pace between requests (tests/test_pacing.py tests it),
    for options in (raw.get("platforms") or {}).values():
        if isinstance(options, dict):
            options.setdefault("interval", 0)
            options.setdefault("per_minute", 0)
            # nor a browser started for visitor cookies before each round (test_sessions tests it)
            options.setdefault("visitor_cookies", False)
    path = directory / "watcher.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path / "conf")


@pytest.fixture
def cfg(config_path: Path) -> Config:
    return load_config(config_path)


@pytest.fixture
def store(cfg: Config):
    s = Store.open(cfg.db_path)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _default_time_zone():
    """The zone people read times in is process-wide (set by load_config): every test starts and
    ends with the default, whatever zone a test's config named."""
    from watcher import timefmt

    timefmt.set_zone(timefmt.DEFAULT_ZONE)
    yield
    timefmt.set_zone(timefmt.DEFAULT_ZONE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end runs of ten seconds or more first: on xdist's workers a long test that
    starts last is the whole suite's tail. Stable, so every worker collects the same order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def _table_cache(tmp_path_factory: pytest.TempPathFactory):
    """The matcher's derived tables (watcher.matching.tablecache) in this run's temp directory,
    shared by the xdist workers and the crawl processes they start, not the user's own cache."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    before = os.environ.get("CAMPUS_WATCHER_CACHE")
    os.environ["CAMPUS_WATCHER_CACHE"] = str(root / "tables")
    yield
    if before is None:
        os.environ.pop("CAMPUS_WATCHER_CACHE", None)
    else:
        os.environ["CAMPUS_WATCHER_CACHE"] = before


@pytest.fixture(scope="session", autouse=True)
def production_hasher():
    """Passwords hashed in-process with argon2's cheapest parameters: the site's tests create and
    log in hundreds of users, each 0.14 s of CPU at the real cost (64 MiB, three passes) and
    nothing they check depends on it. The real hasher is handed to the test that checks its
    strength; crawl, CLI and daemon processes the tests start use it unchanged."""
    from argon2 import PasswordHasher

    from watcher.web import auth

    real = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield real
    auth._hasher = real
