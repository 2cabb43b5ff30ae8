"""Toutiao (今日头条) account timelines through the account's page in Chromium; the page's
script signs (``_signature``) its call to ``/api/pc/list/user/feed``.

* timeline (account = the user token, ``MS4wLjABAAAA…``): page ``/c/user/token/TOKEN/`` →
  ``/api/pc/list/user/feed?category=profile_all&token=TOKEN&max_behot_time=0`` → ``data[]``
  (group_id / item_id, title, abstract, publish_time, comment_count, digg_count), and the account
  name from the items' ``source`` / ``user_info``.

Toutiao's user search (so.toutiao.com, ``pd=user``) renders its results in script-built HTML
without a stable JSON contract; discovery on Toutiao is not offered (the CLI says so).
``message`` other than "success" is a refusal: blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy

from spiders.browser import BrowserSpider
from spiders.items import Post, ProfileSnapshot


class ToutiaoSpider(BrowserSpider):
    platform = "toutiao"
    modes = ("timeline",)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/c/user/token/{account_id}/", ("/api/pc/list/user/feed",),
                        lambda d: self.parse_feed(d, account_id), what=f"头条号 {account_id} 主页")

    def parse_feed(self, data: dict[str, Any], token: str) -> Iterator[Any]:
        if data.get("message") not in ("success", None):
            raise self.blocked(f"今日头条拒绝了主页数据请求（message={data.get('message')}），可能需要 Cookie 或验证")
        items = data.get("data") or []
        user = next((i.get("user_info") for i in items if isinstance(i.get("user_info"), dict)), None) or {}
        name = user.get("name") or next((i.get("source") for i in items if i.get("source")), None)
        yield ProfileSnapshot(platform="toutiao", account_id=token, name=name, bio=user.get("description"),
                              avatar_url=user.get("avatar_url"), profile_url=f"{self.urls['www']}/c/user/token/{token}/",
                              raw={"user_info": user})
        for i in items:
            gid = i.get("group_id") or i.get("item_id")
            if not gid:
                continue
            ts = i.get("publish_time") or i.get("behot_time")
            yield Post(platform="toutiao", account_id=token, post_id=str(gid),
                       text=f"{i.get('title', '')}\n{i.get('abstract', '')}".strip(),
                       created_at=datetime.fromtimestamp(int(ts), UTC).isoformat() if ts else None,
                       comments=i.get("comment_count"), likes=i.get("digg_count"),
                       url=f"{self.urls['www']}/article/{gid}/", raw=i)
