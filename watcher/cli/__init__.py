"""``watcher`` command line: thin click wrappers over the library.

Each area of the tool has its own module here; ``COMMAND_MODULES`` is the one place they are
registered, so ``watcher --help`` shows the whole tool.
"""

from __future__ import annotations

import importlib
import os

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
    "watcher.cli.linkage_cmd",
    "watcher.cli.compliance_cmd",
    "watcher.cli.takedown_cmd",
)


def _register() -> None:
    nested: list[tuple[str, click.Command]] = []
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for cmd in module.COMMANDS:
            main_group.add_command(cmd)
        # ``SUBCOMMANDS = {"report": [cmd]}``: a command that belongs in another module's group
        # (``watcher report sentiment``), added once every group is registered.
        for group, cmds in getattr(module, "SUBCOMMANDS", {}).items():
            nested += [(group, c) for c in cmds]
    for group_name, cmd in nested:
        group = main_group.commands.get(group_name)
        if not isinstance(group, click.Group):
            group = click.Group(group_name, help="报表。")
            main_group.add_command(group)
        group.add_command(cmd)


_register()


# What any command writes under the data dir (sessions, avatars, evidence, briefs, logs) holds
# cookies, phone numbers and screenshots: created 0700/0600 whatever umask the shell or the unit
# had. The public page (``watcher publish``) is made world-readable on purpose.
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    main_group(prog_name="watcher")


__all__ = ["main", "main_group", "click"]
