"""Seed data for the review app's tests and README screenshots."""

from __future__ import annotations

import io
import re

from PIL import Image, ImageDraw

from watcher import registry
from watcher.config import Config
from watcher.crawling.discovery import judge
from watcher.findings import FindingInput, record
from watcher.store import Store
from watcher.store.accounts import Account
from watcher.watch.evidence import keep
from watcher.web import auth

PASSWORD = "correct-horse-42"


def screenshot_png(text: str) -> bytes:
    img = Image.new("RGB", (640, 400), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 640, 60), fill=(230, 80, 60))
    d.text((20, 20), text, fill=(255, 255, 255))
    d.ellipse((20, 90, 120, 190), outline=(0, 80, 40), width=6)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed(cfg: Config) -> dict[str, int]:
    """Users, the example registry, and findings of several kinds (one per unit)."""
    with Store.open(cfg.db_path) as store:
        registry.import_file(store, cfg.registry_path)
        auth.add_user(store, "admin", PASSWORD, "admin")
        auth.add_user(store, "xcb", PASSWORD, "central")
        auth.add_user(store, "cs", PASSWORD, "unit", "计算机学院")
        store.db["accounts"].insert_all([
            {"platform": "douyin", "account_id": "9001", "name": "北理工计算机学院招生", "bio": "北理工计算机学院官方",
             "profile_url": "https://www.douyin.com/user/9001", "first_seen": "t", "last_seen": "t"},
            {"platform": "weibo", "account_id": "7712345601", "name": "北理工表白墙", "bio": "树洞",
             "profile_url": "https://m.weibo.cn/u/7712345601", "first_seen": "t", "last_seen": "t"},
        ])
        judge(cfg, store, [Account.from_row(r) for r in store.query("SELECT * FROM accounts")])
        ids = {f["account_id"]: f["id"] for f in store.query("SELECT id, account_id FROM findings")}
        keep(cfg, store, ids["7712345601"], "screenshot", screenshot_png("weibo: bei li gong biao bai qiang"), ".png",
             url="https://m.weibo.cn/u/7712345601", content_type="image/png")
        keep(cfg, store, ids["9001"], "screenshot", screenshot_png("douyin: 9001"), ".png",
             url="https://www.douyin.com/user/9001", content_type="image/png")
        ids["edit"] = record(store, FindingInput(
            kind="edit", dedupe_key="edit:weibo:4990000000000005:x", title="微博账号「北京理工大学」的帖子被修改",
            platform="weibo", account_id="1891724861", account_name="北京理工大学", unit="党委宣传部",
            details={"post_id": "4990000000000005", "old_text": "运动会12月5日举行", "new_text": "运动会改为12月6日举行",
                     "diff": "--- 修改前\n+++ 修改后\n@@ -1 +1 @@\n-运动会12月5日举行\n+运动会改为12月6日举行",
                     "reasons": ["帖子正文与上次采集不同"]})).id
    return ids


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)
