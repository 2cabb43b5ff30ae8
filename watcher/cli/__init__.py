"""``watcher`` command line: thin click wrappers over the library.

Each area of the tool has its own module here; ``COMMAND_MODULES`` is the one place they are
registered, so ``watcher --help`` shows the whole tool.
"""

from __future__ import annotations

import importlib

import click

from watcher.cli import zh
from watcher.cli.common import main_group

zh.install()

COMMAND_MODULES = (
    "watcher.cli.config_cmd",
    "watcher.cli.registry_cmd",
    "watcher.cli.run_cmd",
    "watcher.cli.match_cmd",
    "watcher.cli.alerts_cmd",
    "watcher.cli.crawl_cmd",
    "watcher.cli.login_cmd",
    "watcher.cli.scan_cmd",
    "watcher.cli.web_cmd",
    "watcher.cli.worker_cmd",
    "watcher.cli.report_cmd",
    "watcher.cli.demo_cmd",
    "watcher.cli.sentiment_cmd",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for cmd in module.COMMANDS:
            main_group.add_command(cmd)


_register()


def main() -> None:
    main_group(prog_name="watcher")


__all__ = ["main", "main_group", "click"]
