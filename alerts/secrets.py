"""Credentials for alert channels, and keeping them out of logs.

Bot webhook URLs carry their access token, signing secrets sign messages and SMTP passwords
open the mailbox: they come from the environment or a root-only credentials file
(``KEY=value`` lines, the same format systemd's ``EnvironmentFile=`` reads), never from the
YAML, and every error message is passed through :func:`redact` before it is logged or stored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_TOKEN_PARAMS = re.compile(r"(?i)((?:access_token|token|key|secret|sign|password)=)[^&\s\"']+")
_HOOK_PATH = re.compile(r"(/open-apis/bot/v2/hook/|/webhook/send\?key=|/robot/send\?access_token=)[^&\s\"']+")


class Credentials:
    def __init__(self, file: Path | None = None) -> None:
        self.values: dict[str, str] = {}
        if file and file.is_file():
            for line in file.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    self.values[k.strip()] = v.strip().strip('"').strip("'")

    def get(self, name: str | None) -> str | None:
        if not name:
            return None
        return os.environ.get(name) or self.values.get(name)

    def secrets(self) -> list[str]:
        return [v for v in self.values.values() if len(v) >= 6]


_known: set[str] = set()


def remember(*values: str | None) -> None:
    """Register secret values so that redact() hides them wherever they appear."""
    _known.update(v for v in values if v and len(v) >= 6)


def remember_url(url: str) -> None:
    """A bot URL's token may come back alone in an error message: remember its parts too."""
    import urllib.parse

    parts = urllib.parse.urlparse(url)
    remember(url, parts.path.rsplit("/", 1)[-1], *(v for _, v in urllib.parse.parse_qsl(parts.query)))


def redact(text: str) -> str:
    text = _HOOK_PATH.sub(lambda m: m.group(1) + "***", text)
    text = _TOKEN_PARAMS.sub(lambda m: m.group(1) + "***", text)
    for v in sorted(_known, key=len, reverse=True):
        text = text.replace(v, "***")
    return text
