"""``watcher demo``: the whole product on 127.0.0.1 in one directory.

Local platforms with a scripted story (:mod:`watcher.demo.story`), a mail catcher
(:mod:`watcher.demo.mailbox`), the daemon running real rounds (real spiders, one crawl process
per platform) against them, and the review site with a demo login. Everything is written under
one directory — a temporary one, removed on exit, unless ``--dir`` names one to keep.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import click
import uvicorn
import yaml

from watcher import lockfile
from watcher.config import Config, load_config
from watcher.daemon import Daemon
from watcher.demo import mailbox
from watcher.demo.story import DemoPlatforms
from watcher.demo.web import router
from watcher.findings import KIND_LABELS
from watcher.logs import setup_logging
from watcher.store import Store
from watcher.store.findings import list_findings
from watcher.web import auth
from watcher.web.app import create_app
from watcher.web.server import WebThread

DEMO_USER = "demo"


def demo_config(platforms_url: str, smtp_port: int, web_port: int) -> dict[str, Any]:
    """The example school, its units and registry; Weibo and Bilibili at the local platforms;
    rounds, analysis and alerts every few seconds so that the story unfolds in a minute."""
    # Local answers need neither a reader's pace between requests nor a browser for visitor cookies.
    local = {"enabled": True, "base_url": platforms_url, "rate": 20, "retries": 0, "pages": 1, "timeout": 10,
             "interval": 0, "per_minute": 0, "visitor_cookies": False,
             # the local platforms have no budget to spare: rounds every 15 s are the demo's point
             "daily_budget": 0}
    unit = {"policy": "immediate"}
    return {
        "school": {"name": "北京理工大学",
                   "names": {"full": ["北京理工大学"], "short": ["北理工"], "historical": ["北京工业学院"],
                             "marks": ["德以明理学以精工"]},
                   "others": ["北京工业大学"], "logos": ["emblem.png"]},
        "registry": "registry.csv",
        "data_dir": "data",
        "units": [
            {"id": "central", "name": "党委宣传部", "aliases": ["全媒体中心", "宣传部"], "central": True,
             "channels": [{"type": "email", "to": ["xcb@demo.example.edu.cn"]}], **unit},
            {"id": "cs", "name": "计算机学院", "parent": "central", "aliases": ["计算机"],
             "channels": [{"type": "email", "to": ["cs-news@demo.example.edu.cn"]}], **unit},
            {"id": "grad", "name": "研究生院", "parent": "central",
             "channels": [{"type": "email", "to": ["grad@demo.example.edu.cn"]}], **unit},
            {"id": "youth", "name": "校团委", "parent": "central", "aliases": ["团委"],
             "channels": [{"type": "email", "to": ["tw@demo.example.edu.cn"]}], **unit},
        ],
        "platforms": {"weibo": local, "bilibili": local},
        "schedule": {"discover_every": "10m", "watch_every": "15s", "crawl_concurrency": 2,
                     "sentiment_every": "10s", "alerts_every": "10s", "evidence_every": "10s",
                     "scan_poll": "3s"},
        "matching": {"download_avatars": True},
        "watch": {"screenshots": False},
        "sentiment": {"keywords": ["北京理工大学", "北理工"]},
        "alerts": {"base_url": f"http://127.0.0.1:{web_port}",
                   "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                            "sender": "campus-watcher@demo.example.edu.cn"}},
        "web": {"host": "127.0.0.1", "port": web_port},
        "review": {"report_address": "jubao@demo.example.edu.cn"},
        "logging": {"level": "WARNING"},
    }


def write_files(directory: Path, raw: dict[str, Any]) -> Path:
    data = resources.files("watcher.demo").joinpath("data")
    (directory / "registry.csv").write_bytes(data.joinpath("registry.csv").read_bytes())
    (directory / "emblem.png").write_bytes(data.joinpath("emblem.png").read_bytes())
    path = directory / "watcher.yaml"
    path.write_text("# watcher demo 自动生成的演示配置\n" + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


@dataclass
class Sandbox:
    directory: Path
    cfg: Config
    password: str
    web_url: str
    platforms: DemoPlatforms
    mail: mailbox.MailCatcher


def prepare(directory: Path, web_port: int) -> Sandbox:
    """Start the local platforms and the mail catcher, write the config, the demo user."""
    platforms = DemoPlatforms().start()
    mail = mailbox.MailCatcher(directory / "mail").start()
    cfg = load_config(write_files(directory, demo_config(platforms.base_url, mail.port, web_port)))
    password = secrets.token_urlsafe(9)
    with Store.open(cfg.db_path) as store:
        auth.add_user(store, DEMO_USER, password, "central", cfg=cfg)
    return Sandbox(directory, cfg, password, f"http://127.0.0.1:{web_port}", platforms, mail)


def start_web(box: Sandbox) -> Any:
    """The review site with the demo mailbox pages, on a thread."""
    app = create_app(box.cfg)
    app.state.demo_mailbox = True
    app.include_router(router(box.mail.directory))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=box.cfg.web.port, log_config=None,
                                        access_log=False))
    srv.install_signal_handlers = lambda: None  # the daemon owns the signals
    web = WebThread(srv)
    web.thread.start()
    return web


def banner(box: Sandbox, temporary: bool) -> str:
    where = "（临时目录，退出时删除）" if temporary else "（退出后保留）"
    return "\n".join([
        "campus-watcher 演示环境已启动（全部在本机 127.0.0.1，不访问互联网）",
        f"  复核网站：{box.web_url}",
        f"  演示账号：{DEMO_USER}    密码：{box.password}",
        f"  演示邮箱：{box.web_url}/demo/mail（告警邮件）",
        f"  本地平台：{box.platforms.base_url}（微博、哔哩哔哩的模拟接口）",
        f"  数据目录：{box.directory}{where}",
        "剧情：搜索结果中出现仿冒账号；备案账号“北理工计算机学院”删帖、改帖并改名未备案；学校官微出现一批负面提及；备案的哔哩哔哩账号“北理工团委”消失。",
        "约一分钟内可在网站上看到全部发现、证据与告警邮件，并进行复核。按 Ctrl-C 结束演示。",
    ])


class Narrator(threading.Thread):
    """Says in the terminal what the story has produced so far, as it happens."""

    def __init__(self, box: Sandbox, stop: threading.Event) -> None:
        super().__init__(name="demo-narrator", daemon=True)
        self.box, self.stop = box, stop
        self.seen: Counter[str] = Counter()
        self.mails = 0

    def run(self) -> None:
        while not self.stop.wait(3):
            try:
                self.tell()
            except Exception:  # noqa: BLE001 - the narration is a courtesy; the demo goes on without it
                continue

    def tell(self) -> None:
        with Store.open(self.box.cfg.db_path) as store:
            now = Counter(f.kind for f in list_findings(store, limit=10_000))
        new = {k: n - self.seen[k] for k, n in now.items() if n > self.seen[k]}
        if new:
            click.echo("新发现：" + "，".join(f"{KIND_LABELS.get(k, k)} {n} 条" for k, n in new.items()))
        self.seen = now
        mails = len(mailbox.messages(self.box.mail.directory))
        if mails > self.mails:
            click.echo(f"告警邮件：已收到 {mails} 封（{self.box.web_url}/demo/mail）")
        self.mails = mails


def run_demo(directory: Path | None, web_port: int) -> int:
    temporary = directory is None
    root = Path(tempfile.mkdtemp(prefix="campus-watcher-demo-")) if temporary else directory
    assert root is not None
    root.mkdir(parents=True, exist_ok=True)
    box = prepare(root, web_port)
    setup_logging(box.cfg.logging, component="demo", crashes=box.cfg.data_path / "crashes")
    web = None
    stop = threading.Event()
    try:
        with lockfile.acquire(box.cfg.data_path):
            web = start_web(box)
            click.echo(banner(box, temporary))
            Narrator(box, stop).start()
            code = Daemon(box.cfg.source, box.cfg).run()  # until Ctrl-C / SIGTERM
    finally:
        stop.set()
        if web is not None:
            web.stop()
        box.mail.stop()
        box.platforms.stop()
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    click.echo("演示已结束" + ("，临时目录已删除。" if temporary else f"，数据保留在 {root}。"))
    return code
