"""What travels through Redis: a target to crawl (daemon → worker) and a target's result
(worker → daemon: its items and its :class:`~spiders.items.TargetDone`). JSON both ways; what a
worker sent is validated before anything of it reaches the store."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from spiders.base import Target
from spiders.catalog import MODES
from spiders.items import DiscoveredAccount, Item, Mention, Post, PostCheck, ProfileSnapshot, TargetDone

ITEM_TYPES: dict[str, type[Item]] = {c.__name__: c for c in (DiscoveredAccount, ProfileSnapshot, Post, PostCheck, Mention,
                                                             TargetDone)}


class BadMessage(ValueError):
    """A queue entry or a result that is not what this version of campus-watcher sends."""


def target_message(msg_id: str, round_id: int, mode: str, target: Target) -> str:
    return json.dumps({"id": msg_id, "round": round_id, "mode": mode, "key": target.key, "account": target.account,
                       "keyword": target.keyword, "post": target.post}, ensure_ascii=False)


def handed_back(msg: dict[str, Any], worker: str) -> str:
    """The message again, naming ``worker`` among those the platform refused it to."""
    return json.dumps({**msg, "refused": [*(msg.get("refused") or []), worker]}, ensure_ascii=False)


def read_target(raw: str) -> tuple[dict[str, Any], Target]:
    """The message and the target a worker crawls under the message's id (unique in the fleet)."""
    try:
        msg = json.loads(raw)
    except ValueError as e:
        raise BadMessage(f"队列中的目标不是 JSON：{raw[:80]!r}") from e
    if not isinstance(msg, dict) or not isinstance(msg.get("id"), str) or msg.get("mode") not in MODES or not isinstance(msg.get("round"), int):
        raise BadMessage(f"队列中的目标缺少 id/round/mode：{raw[:80]!r}")
    return msg, Target(key=msg["id"], account=msg.get("account"), keyword=msg.get("keyword"), post=msg.get("post"))


def encode_item(item: Item) -> dict[str, Any]:
    return {"type": type(item).__name__, "fields": {**dataclasses.asdict(item), "target": item.target}}


def decode_item(data: Any, target: str) -> Item:
    """An item of a result, re-tagged with the daemon's own target key."""
    if not isinstance(data, dict) or data.get("type") not in ITEM_TYPES or not isinstance(data.get("fields"), dict):
        raise BadMessage(f"结果中有无法识别的条目：{str(data)[:80]}")
    cls = ITEM_TYPES[data["type"]]
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        item = cls(**{k: v for k, v in data["fields"].items() if k in names and k != "target"})
    except TypeError as e:
        raise BadMessage(f"结果中的 {data['type']} 字段不全：{e}") from e
    item.target = target
    return item


def result_message(msg: dict[str, Any], worker: str, items: list[Item], done: TargetDone, requests: int) -> str:
    return json.dumps({"id": msg["id"], "key": msg["key"], "round": msg["round"], "worker": worker,
                       "requests": requests, "refused_by": msg.get("refused") or [],
                       "items": [encode_item(i) for i in items], "done": encode_item(done)},
                      ensure_ascii=False, default=str)


def read_result(raw: str) -> tuple[dict[str, Any], list[Item]]:
    """A delivered result: its envelope, and its items followed by its TargetDone."""
    try:
        env = json.loads(raw)
    except ValueError as e:
        raise BadMessage(f"采集节点送回的结果不是 JSON：{raw[:80]!r}") from e
    if not isinstance(env, dict) or not isinstance(env.get("key"), str) or not isinstance(env.get("items"), list):
        raise BadMessage(f"采集节点送回的结果缺少 key/items：{raw[:80]!r}")
    key = env["key"]
    items = [decode_item(i, key) for i in env["items"]]
    done = decode_item(env.get("done"), key)
    if not isinstance(done, TargetDone):
        raise BadMessage(f"结果 {env.get('id')} 的最后一项不是采集结论")
    return env, [*items, done]
