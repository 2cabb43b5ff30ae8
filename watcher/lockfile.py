"""One daemon per data directory: an exclusive ``flock`` on ``<data_dir>/daemon.lock``.

Two daemons on one data dir run every scan twice and race on the same rows, so the second one
must refuse. ``flock`` is released by the kernel when its holder dies (kill -9, power loss), so
a lock left by a dead daemon never needs cleaning up: the next start simply takes it. The file
holds the holder's PID only so that the refusal can name it; the lock, not the file, decides.
The file is never deleted (deleting a locked file would let a third process lock a new inode).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

LOCK_NAME = "daemon.lock"


class DataDirLocked(RuntimeError):
    """Raised by :func:`acquire` when another live process holds the data dir's lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"PID {pid}" if pid else "另一进程"
        super().__init__(f"数据目录 {path.parent} 已被正在运行的 campus-watcher 守护进程（{who}）占用，"
                         f"不能再启动第二个；如需重启，请先停止它（kill {pid or '<PID>'} 或 systemctl stop）")


class DataDirLock:
    """A held lock; release it with :meth:`release` or by leaving the ``with`` block."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_NAME


def _read_pid(handle: IO[str]) -> int | None:
    handle.seek(0)
    text = handle.read().strip()
    return int(text) if text.isdigit() else None


def acquire(data_dir: Path) -> DataDirLock:
    """Take the data dir's lock for this process, or raise :class:`DataDirLocked`."""
    path = lock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # "a+" neither truncates a holder's PID before we know we hold the lock, nor fails when
    # the file does not exist yet.
    handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held open for the daemon's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(handle)
        handle.close()
        raise DataDirLocked(path, pid) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return DataDirLock(path, handle)

