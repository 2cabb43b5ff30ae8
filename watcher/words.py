"""The codes the record keeps, as staff read them: who did something (``daemon`` → 监测服务),
what a review action was, what an audit line is about (``finding:15`` → 发现 #15) and its
details in words instead of JSON. The codes stay in the database; only what is shown changes,
so old rows read as well as new ones. Used by the review site and the CLI alike."""

from __future__ import annotations

import json
from typing import Any

from watcher.config import PLATFORM_LABELS

ACTOR_LABELS = {"daemon": "监测服务", "system": "系统", "import": "台账导入", "cli": "命令行", "web": "复核网站",
                "demo": "演示"}
REVIEW_ACTION_LABELS = {"resolve": "自动关闭", "reopen": "重新打开", "confirm": "确认仿冒", "false_positive": "标记误报",
                        "reported": "已向平台举报", "resolved": "已解决", "escalate": "升级"}
# audit target prefix → (words, link pattern or None)
_TARGETS = {"finding": ("发现", "/findings/{}"), "proposal": ("名单提议", None), "rule": ("名单规则", None),
            "scan": ("扫描", "/scans/{}"), "sentiment_cluster": ("舆情话题", "/sentiment/clusters/{}"),
            "user": ("用户", None)}
_DETAIL_KEYS = {
    "count": "数量", "comment": "说明", "bulk": "批量操作", "field": "字段", "value": "新值", "role": "角色",
    "unit": "单位", "kind": "类型", "name": "名称", "format": "格式", "added": "新增", "updated": "更新",
    "unchanged": "未变", "reviews": "年审状态", "status": "状态", "year": "年度", "note": "说明",
    "platform": "平台", "account": "账号", "keywords": "关键词", "discover": "仿冒发现", "watch": "备案巡检",
    "q": "搜索", "since": "起", "until": "止", "sort": "排序", "order": "顺序", "page": "页",
    "account_name": "账号名称", "account_id": "账号ID", "tier": "级别", "ids": "发现",
}
_ROLES = {"admin": "管理员", "central": "宣传部复核员", "unit": "单位复核员"}


def actor(value: str | None) -> str:
    return ACTOR_LABELS.get(value or "", value or "")


def review_action(value: str | None) -> str:
    return REVIEW_ACTION_LABELS.get(value or "", value or "")


def audit_target(target: str | None) -> tuple[str, str | None]:
    """(words, link) for an audit line's target: ``finding:15`` → (发现 #15, /findings/15);
    ``weibo:123`` → (微博 账号ID 123, /registry/weibo/123); anything else as written."""
    if not target:
        return "", None
    head, sep, rest = target.partition(":")
    if sep and head == "address":
        return f"来自 {rest}", None
    if sep and head in _TARGETS:
        words, link = _TARGETS[head]
        return f"{words} #{rest}", link.format(rest) if link and rest.isdigit() else None
    if sep and head in PLATFORM_LABELS:
        return f"{PLATFORM_LABELS[head]} 账号ID {rest}", f"/registry/{head}/{rest}"
    return target, None


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    if key == "platform":
        return PLATFORM_LABELS.get(str(value), str(value))
    if key == "role":
        return _ROLES.get(str(value), str(value))
    if key == "field":
        from watcher.registry import FIELD_LABELS

        return FIELD_LABELS.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return details(value)
    return str(value)


def details(value: Any) -> str:
    """An audit line's details (JSON text or a mapping) in words: ``{"count": 3, "bulk": true}``
    → ``数量：3；批量操作：是``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if not isinstance(value, dict):
        return _value("", value)
    return "；".join(f"{_DETAIL_KEYS.get(k, k)}：{_value(k, v)}" for k, v in value.items() if v not in (None, ""))
