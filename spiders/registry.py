"""The one place platforms are registered: platform name → spider class."""

from __future__ import annotations

import importlib

from watcher.config import PLATFORM_LABELS

SPIDERS: dict[str, str] = {
    "weibo": "spiders.weibo:WeiboSpider",
    "bilibili": "spiders.bilibili:BilibiliSpider",
    "wechat": "spiders.wechat:WechatSpider",
    "website": "spiders.website:WebsiteSpider",
    "tieba": "spiders.tieba:TiebaSpider",
    "zhihu": "spiders.zhihu:ZhihuSpider",
    "douyin": "spiders.douyin:DouyinSpider",
    "kuaishou": "spiders.kuaishou:KuaishouSpider",
    "xiaohongshu": "spiders.xiaohongshu:XiaohongshuSpider",
    "toutiao": "spiders.toutiao:ToutiaoSpider",
}


class NotImplementedPlatform(Exception):
    pass


def spider_class(platform: str) -> type:
    target = SPIDERS.get(platform)
    if target is None:
        raise NotImplementedPlatform(
            f"{PLATFORM_LABELS.get(platform, platform)}（{platform}）的采集尚未实现；已实现：{', '.join(SPIDERS)}")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
