"""The demo's platforms: a local HTTP server answering as m.weibo.cn and api.bilibili.com do
(the same shapes as the recorded answers the spider tests use), with a scripted story.

The story, as a newcomer sees it within the first rounds:

* searching for the school's names turns up impersonators next to the registered accounts
  (one uses the school emblem as its avatar), and another school that is not ours;
* on its second watch round, the registered Weibo account 北理工计算机学院 has deleted a post,
  edited another and renamed itself — with no change filed in the registry;
* on its second watch round, the school's own Weibo account shows a burst of posts that mention
  the school next to complaint words (投诉, 维权 …), enough for a spike;
* on its second watch round, the registered Bilibili account 北理工团委 is gone (the platform
  answers −404, as for a deleted or banned account).

Each account's story advances with the number of times its profile has been asked for: the
first watch round sees "before", every later round "after". The server only listens on
127.0.0.1.
"""

from __future__ import annotations

import io
import json
import threading
import urllib.parse
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from spiders.parsing import CHINA

OFFICIAL = "1891724861"  # 北京理工大学 on Weibo, in the demo registry
COLLEGE = "5612340001"  # 北理工计算机学院 on Weibo: deletes, edits, renames
BILI_OFFICIAL = "1880487363"
BILI_YOUTH = "1900000123"  # 北理工团委 on Bilibili: disappears
DELETED_POST = f"{COLLEGE}003"
EDITED_POST = f"{COLLEGE}002"
RENAMED_TO = "北理工计科资讯"

# Search results on Weibo: (uid, name, bio, avatar, verified).
WEIBO_SEARCH = [
    (OFFICIAL, "北京理工大学", "北京理工大学官方微博", "official", True),
    ("7712345601", "北理工招生办", "北京理工大学本科招生官方咨询，报考问题私信", "emblem", False),
    ("7712345602", "北京理工大学研究生会官方", "北京理工大学研究生会官方微博", "plain-a", False),
    ("7712345603", "北理工表白墙", "北理工的同学们看过来，投稿请私信", "plain-b", False),
    ("7712345604", "北京工业大学", "北京工业大学官方微博", "plain-c", True),
]
BILI_SEARCH = [
    (BILI_OFFICIAL, "北京理工大学", "北京理工大学官方账号", "official", 1),
    ("3493110000000001", "北京理工大学官方", "北理工唯一官方B站账号，合作请私信", "emblem", -1),
    ("3493110000000002", "北理工考研学姐", "北理工学姐带你考研上岸", "plain-d", -1),
]

OFFICIAL_POSTS = [
    "北理工2026年冬季运动会圆满落幕",
    "北京理工大学举行新学期教学工作会议",
    "北理工学子在全国大学生数学建模竞赛中获佳绩",
    "图书馆冬季开放时间调整通知",
    "北理工与多家企业签署产学研合作协议",
    "北京理工大学第十二届读书节开幕",
]
# The burst: the school's account answering complaints, each one a negative mention.
OFFICIAL_BURST = [
    "关于网传北理工食堂食品安全问题的情况通报：已收到学生投诉，正在核查",
    "北理工回应学生维权诉求：宿舍停水问题今日修复",
    "关于北理工某实验室事故传闻的说明",
    "北京理工大学关于学生举报考试作弊一事的调查进展",
    "北理工就退费问题答复家长投诉",
    "北理工回应网友曝光的校园快递点乱收费问题",
]
COLLEGE_POSTS = {
    f"{COLLEGE}001": "计算机学院2026年研究生招生宣讲会通知",
    EDITED_POST: "计算机学院学术报告：大模型安全，主讲人张教授",
    DELETED_POST: "计算机学院奖学金评定结果公示（名单见图）",
    f"{COLLEGE}004": "计算机学院程序设计竞赛报名开始",
}
EDITED_TEXT = "计算机学院学术报告：大模型安全，主讲人王教授（时间改至周五）"

WBI = {"img_url": "https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
       "sub_url": "https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"}


def _weibo_time(dt: datetime) -> str:
    return dt.astimezone(CHINA).strftime("%a %b %d %H:%M:%S %z %Y")


def emblem_png() -> bytes:
    return resources.files("watcher.demo").joinpath("data/emblem.png").read_bytes()


def plain_png(seed: str) -> bytes:
    """A plain avatar of one colour (not the emblem): every account but the impersonator's."""
    from PIL import Image, ImageDraw

    colour = tuple(int(c, 16) * 16 for c in (seed.encode().hex() * 3)[:3])
    image = Image.new("RGB", (180, 180), colour)
    ImageDraw.Draw(image).ellipse((40, 40, 140, 140), fill=(255 - colour[0], 200, 255 - colour[2]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Story:
    """What each platform answers; the state of the story is the count of profile requests."""

    def __init__(self, base_url: str, now: datetime | None = None) -> None:
        self.base_url = base_url
        self.start = now or datetime.now(CHINA)
        self.profiles: Counter[str] = Counter()
        self.lock = threading.Lock()

    def after(self, account: str) -> bool:
        return self.profiles[account] >= 2

    def avatar(self, name: str) -> str:
        return f"{self.base_url}/avatar/{name}.png"

    # -- Weibo ------------------------------------------------------------------------------

    def weibo(self, query: dict[str, str]) -> dict[str, Any]:
        if "containerid" in query and query["containerid"].startswith("100103type=3"):
            return self._weibo_search()
        uid = query.get("value", "")
        if query.get("containerid", "").startswith("107603"):
            return self._weibo_posts(uid, int(query.get("page", "1")))
        if query.get("type") == "uid" and uid in (OFFICIAL, COLLEGE):
            with self.lock:
                self.profiles[uid] += 1
            return self._weibo_profile(uid)
        return {"ok": 0, "msg": "用户不存在"}

    def _weibo_search(self) -> dict[str, Any]:
        users = [{"id": int(uid), "screen_name": name, "description": bio, "avatar_hd": self.avatar(avatar),
                  "verified": verified, "verified_type": 1 if verified else -1,
                  "verified_reason": bio if verified else "", "followers_count": "1.2万"}
                 for uid, name, bio, avatar, verified in WEIBO_SEARCH]
        return {"ok": 1, "data": {"cardlistInfo": {"page": None},
                                  "cards": [{"card_type": 11, "card_group": [{"card_type": 10, "user": u}
                                                                              for u in users]}]}}

    def _weibo_profile(self, uid: str) -> dict[str, Any]:
        if uid == OFFICIAL:
            name, bio, followers = "北京理工大学", "北京理工大学官方微博", "152.3万"
        else:
            name = RENAMED_TO if self.after(uid) else "北理工计算机学院"
            bio, followers = "北京理工大学计算机学院官方微博", "1.8万"
        return {"ok": 1, "data": {"userInfo": {
            "id": int(uid), "screen_name": name, "avatar_hd": self.avatar(f"weibo-{uid}"), "verified": True,
            "verified_type": 1, "verified_reason": bio, "description": bio, "followers_count": followers,
            "follow_count": 420, "statuses_count": 2311}}}

    def _weibo_posts(self, uid: str, page: int) -> dict[str, Any]:
        if page > 1:
            return {"ok": 0, "msg": "这里还没有内容"}
        posts: list[tuple[str, str, datetime]] = []
        if uid == OFFICIAL:
            if self.after(uid):  # the burst: the last hour, newest first
                posts += [(f"{uid}9{i:02d}", text, self.start - timedelta(minutes=3 + 7 * i))
                          for i, text in enumerate(OFFICIAL_BURST)]
            posts += [(f"{uid}0{i:02d}", text, self.start - timedelta(days=2 + i))
                      for i, text in enumerate(OFFICIAL_POSTS)]
        elif uid == COLLEGE:
            for i, (pid, text) in enumerate(COLLEGE_POSTS.items()):
                if self.after(uid) and pid == DELETED_POST:
                    continue
                if self.after(uid) and pid == EDITED_POST:
                    text = EDITED_TEXT
                posts.append((pid, text, self.start - timedelta(days=1 + i)))
        cards = [{"card_type": 9, "itemid": f"107603{uid}_-_{pid}", "mblog": {
            "id": pid, "mid": pid, "created_at": _weibo_time(created), "text": text, "source": "微博网页版",
            "user": {"id": int(uid)}, "reposts_count": 12, "comments_count": "1.2万", "attitudes_count": 320}}
            for pid, text, created in posts]
        return {"ok": 1, "data": {"cardlistInfo": {"containerid": f"107603{uid}", "page": 2}, "cards": cards}}

    def weibo_check(self, query: dict[str, str]) -> dict[str, Any]:
        pid = query.get("id", "")
        if pid == DELETED_POST and self.after(COLLEGE):
            return {"ok": 0, "msg": "抱歉，此微博已被作者删除。", "errno": "20101"}
        text = EDITED_TEXT if pid == EDITED_POST and self.after(COLLEGE) else COLLEGE_POSTS.get(pid, "")
        return {"ok": 1, "data": {"id": pid, "text": text}}

    # -- Bilibili ---------------------------------------------------------------------------

    def bilibili(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        if path.endswith("/finger/spi"):  # the device ids a browser gets on its first visit
            return {"code": 0, "message": "ok", "data": {"b_3": "D3M0D3M0-0000-4000-8000-000000000000demoinfoc",
                                                         "b_4": "D3M0D3M0-0000-4000-8000-000000000000-demo"}}
        if path.endswith("/nav"):
            return {"code": -101, "message": "账号未登录", "data": {"isLogin": False, "wbi_img": WBI}}
        if path.endswith("/search/type"):
            result = [{"type": "bili_user", "mid": int(mid), "uname": name, "usign": bio, "fans": 3100,
                       "upic": self.avatar(avatar), "official_verify": {"type": vt, "desc": bio if vt >= 0 else ""}}
                      for mid, name, bio, avatar, vt in BILI_SEARCH]
            return {"code": 0, "message": "0", "data": {"page": 1, "numPages": 1, "result": result}}
        mid = query.get("mid", "")
        names = {BILI_OFFICIAL: ("北京理工大学", "北京理工大学官方账号"), BILI_YOUTH: ("北理工团委", "共青团北京理工大学委员会")}
        if mid == BILI_YOUTH and path.endswith(("/acc/info", "/card")):  # one profile request per watch round
            with self.lock:
                self.profiles[mid] += 1
            if self.after(mid):
                names.pop(mid)
        if path.endswith("/acc/info"):
            if mid not in names:
                return {"code": -404, "message": "啥都木有"}
            name, sign = names[mid]
            return {"code": 0, "message": "0", "data": {"mid": int(mid), "name": name, "sign": sign,
                                                        "face": self.avatar(f"bili-{mid}"),
                                                        "official": {"title": sign, "type": 1}}}
        if path.endswith("/card"):  # the profile a visitor without a session reads
            if mid not in names:
                return {"code": -404, "message": "啥都木有"}
            name, sign = names[mid]
            return {"code": 0, "message": "0", "data": {"card": {"mid": mid, "name": name, "sign": sign, "spacesta": 0,
                                                                 "face": self.avatar(f"bili-{mid}"),
                                                                 "Official": {"title": sign, "type": 1}},
                                                        "follower": 3100, "archive_count": 3}}
        if path.endswith("/arc/search"):
            base = int(self.start.timestamp())
            vlist = [{"bvid": f"BV1demo{mid[-4:]}{i}", "aid": int(f"{mid[-6:]}{i}"), "title": title,
                      "description": "", "created": base - 86400 * (i + 1), "comment": 10 * i, "mid": int(mid)}
                     for i, title in enumerate(["北理工冬季运动会精彩回顾", "开学典礼", "校园一日"])]
            return {"code": 0, "message": "0", "data": {"list": {"vlist": vlist}, "page": {"pn": 1, "ps": 30,
                                                                                         "count": len(vlist)}}}
        if path.endswith("/view"):
            return {"code": 0, "message": "0", "data": {"bvid": query.get("bvid"), "title": "视频", "desc": ""}}
        return {"code": -404, "message": "啥都木有"}


class DemoPlatforms:
    """The HTTP server of both platforms, on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        demo = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                demo.requests += 1
                body, ctype = demo.answer(url.path, query)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", ctype)
                body = body or b""
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.story = Story(self.base_url)
        self._images: dict[str, bytes] = {"emblem": emblem_png()}
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-platforms", daemon=True)

    def answer(self, path: str, query: dict[str, str]) -> tuple[bytes | None, str]:
        as_json = "application/json; charset=utf-8"
        if path.startswith("/avatar/") and path.endswith(".png"):
            name = path.removeprefix("/avatar/").removesuffix(".png")
            if name not in self._images:
                self._images[name] = plain_png(name)
            return self._images[name], "image/png"
        if path == "/api/container/getIndex":
            data = self.story.weibo(query)
        elif path == "/statuses/show":
            data = self.story.weibo_check(query)
        elif path.startswith("/x/"):
            data = self.story.bilibili(path, query)
        else:
            return None, "text/plain"
        return json.dumps(data, ensure_ascii=False).encode(), as_json

    def start(self) -> DemoPlatforms:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
