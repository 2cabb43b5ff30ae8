"""A real Redis for tests and benchmarks: Debian's ``redis-server`` on 127.0.0.1, a free port, a
temp dir; stopped after. Tests that need it skip with a reason when the binary is absent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


class RedisMissing(RuntimeError):
    """No redis-server binary on this machine."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Start a throwaway redis-server; yields its URL."""
    if REDIS_SERVER is None:
        raise RedisMissing("未安装 redis-server（Debian 包 redis-server；make system-deps 会安装）")
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory),
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server 未能在端口 {port} 启动")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RestartableRedis:
    """A redis-server that a test stops and starts again on the same port and data dir: an
    operator's ``systemctl restart redis``, keeping its data (``keep=True``: saved on the way
    down, as Redis does with persistence on) or losing it."""

    def __init__(self, directory: Path) -> None:
        if REDIS_SERVER is None:
            raise RedisMissing("未安装 redis-server（Debian 包 redis-server；make system-deps 会安装）")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.port = directory, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                                      str(self.directory), "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server 未能在端口 {self.port} 启动")
            time.sleep(0.02)

    def stop(self, *, keep: bool) -> None:
        if self.proc is None:
            return
        if not keep:
            (self.directory / "dump.rdb").unlink(missing_ok=True)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as c:
            c.sendall(b"SHUTDOWN SAVE\r\n" if keep else b"SHUTDOWN NOSAVE\r\n")
        self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
