"""Credentials for alert channels, and keeping them out of logs.

Bot webhook URLs carry their access token, signing secrets sign messages and SMTP passwords
open the mailbox: they come from the environment or a credentials file readable by the service
user only (``KEY=value`` lines, the same format systemd's ``EnvironmentFile=`` reads), never
from the YAML. Every value read here is registered with the log redaction
(:func:`watcher.logs.remember`), so it is hidden in every log sink and in every stored error.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from loguru import logger

from watcher.logs import redact, remember

__all__ = ["Credentials", "redact", "remember", "remember_url"]


class Credentials:
    def __init__(self, file: Path | None = None) -> None:
        self.values: dict[str, str] = {}
        if file and file.is_file():
            mode = file.stat().st_mode
            if mode & 0o077:
                logger.warning("凭据文件 {} 的权限为 {:o}，其他用户可读；请执行 chmod 600 {}", file, mode & 0o777, file)
            for line in file.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    self.values[k.strip()] = v.strip().strip('"').strip("'")
            for value in self.values.values():
                _remember_value(value)

    def get(self, name: str | None) -> str | None:
        if not name:
            return None
        value = os.environ.get(name) or self.values.get(name)
        _remember_value(value)
        return value

    def secrets(self) -> list[str]:
        return [v for v in self.values.values() if len(v) >= 6]


def _remember_value(value: str | None) -> None:
    if value and value.lower().startswith(("http://", "https://")):
        remember_url(value)
    else:
        remember(value)


def remember_url(url: str) -> None:
    """A bot URL's token may come back alone in an error message: remember its parts too."""
    parts = urllib.parse.urlparse(url)
    remember(url, parts.path.rsplit("/", 1)[-1], *(v for _, v in urllib.parse.parse_qsl(parts.query)))
