"""The demo's mail catcher: an SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it
is given as a file, so that the alerts the daemon sends can be read in the review site."""

from __future__ import annotations

import email
import email.policy
import email.utils
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from watcher.timefmt import local_time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Keep:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        n = len(list(self.directory.glob("*.eml"))) + 1
        path = self.directory / f"{n:05d}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)  # a reader never sees half a message
        return "250 OK"


class MailCatcher:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.controller = Controller(_Keep(directory), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Mail:
    number: int
    subject: str
    sender: str
    to: str
    date: str
    body: str


def _read(path: Path) -> Mail:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return Mail(number=int(path.stem), subject=str(msg.get("Subject", "")), sender=str(msg.get("From", "")),
                to=str(msg.get("To", "")), date=_local(msg.get("Date")), body=body)


def _local(header: object) -> str:
    try:
        return local_time(email.utils.parsedate_to_datetime(str(header)))
    except (TypeError, ValueError):
        return str(header or "")


def messages(directory: Path) -> list[Mail]:
    """Every caught message, newest first."""
    return [_read(p) for p in sorted(directory.glob("*.eml"), reverse=True)]


def message(directory: Path, number: int) -> Mail | None:
    path = directory / f"{number:05d}.eml"
    return _read(path) if path.is_file() else None
