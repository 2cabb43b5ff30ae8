"""Weibo answers shaped as m.weibo.cn gives them (as public crawlers such as dataabc/weibo-crawler
and RSSHub record them), generated for many accounts: signed avatar URLs, counts written for
people ("152.3万"), posts in ``cards[].mblog``. Used by round tests and benchmarks/watch_round.py.
"""

from __future__ import annotations

import json

from tests.fakeplatform import FakePlatform


def uid(i: int) -> str:
    return str(5_600_000_000 + i)


def profile(account: str, name: str, *, followers: str | int = "152.3万", signature: str = "a1") -> str:
    # sinaimg avatars carry an expiring signature that changes from one answer to the next.
    avatar = (f"https://tvax1.sinaimg.cn/crop.0.0.1080.1080.180/70c1f4f3ly8h{account[-4:]}.jpg"
              f"?KID=imgbed,tva&Expires=1764000000&ssig={signature}")
    return json.dumps({"ok": 1, "data": {"isStarStyle": 0, "userInfo": {
        "id": int(account), "screen_name": name, "profile_image_url": avatar, "avatar_hd": avatar,
        "profile_url": f"https://m.weibo.cn/u/{account}?uid={account}&luicode=10000011", "statuses_count": 2311,
        "verified": True, "verified_type": 1, "verified_reason": f"{name}官方微博", "description": f"{name}官方微博",
        "gender": "m", "followers_count": followers, "follow_count": 420},
        "tabsInfo": {"selectedTab": 1, "tabs": [
            {"id": 1, "tabKey": "profile", "title": "主页", "tab_type": "profile", "containerid": f"230283{account}"},
            {"id": 2, "tabKey": "weibo", "title": "微博", "tab_type": "weibo", "containerid": f"107603{account}"}]}}},
        ensure_ascii=False)


def posts(account: str, ids: list[str], texts: dict[str, str] | None = None) -> str:
    texts = texts or {}
    cards = [{"card_type": 9, "itemid": f"107603{account}_-_{pid}", "mblog": {
        "visible": {"type": 0, "list_id": 0}, "created_at": "Sun Nov 22 09:00:00 +0800 2026", "id": pid, "mid": pid,
        "text": texts.get(pid, f"【通知】第 {pid[-3:]} 条校园新闻<br />欢迎关注"), "source": "微博网页版",
        "user": {"id": int(account)}, "reposts_count": 12, "comments_count": "1.2万", "attitudes_count": "100万+"}}
        for pid in ids]
    return json.dumps({"ok": 1, "data": {"cardlistInfo": {"containerid": f"107603{account}", "v_p": 42, "show_style": 1,
                                                           "total": 2311, "page": 2}, "cards": cards}},
                      ensure_ascii=False)


def serve_accounts(fake: FakePlatform, accounts: list[str], *, posts_per_account: int = 3, **profile_kw) -> None:
    """Routes for each account's profile and first page of posts."""
    for a in accounts:
        fake.route("/api/container/getIndex", {"type": "uid", "value": a}, body=profile(a, f"北理工测试{a[-3:]}",
                                                                                       **profile_kw))
        ids = [f"{a}{n:03d}" for n in range(posts_per_account)]
        fake.route("/api/container/getIndex", {"value": a, "containerid": f"107603{a}", "page": "1"},
                   body=posts(a, ids))
