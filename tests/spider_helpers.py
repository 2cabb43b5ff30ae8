"""A config for crawling one fake platform (see :mod:`tests.fakeplatform`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import write_config
from watcher.config import Config, load_config


def platform_config(tmp_path: Path, platform: str, base_url: str, **options: Any) -> Config:
    """The example config with only ``platform`` enabled, pointed at ``base_url``, fast and
    without retries (a test wants the first answer)."""
    return load_config(write_config(tmp_path / "c", platforms={
        platform: {"enabled": True, "base_url": base_url, "rate": 50, "retries": 0, **options}}))
