"""Typed items the spiders yield; the only thing spiders and the rest of the system share.

Spiders fill these from platform responses and nothing else: persistence is the pipelines' job,
judgement is ``watcher``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    """Base of every item: ``target`` is the round target (keyword, account, post) whose
    answer carried it, set by the spider's bookkeeping."""

    target: str | None = field(default=None, kw_only=True, repr=False, compare=False)


@dataclass
class PageDone(Item):
    """Yielded after a page's items: the round commits them before it reads the next page, so
    a crawl killed while it waits for page 2 keeps page 1. A marker in the item stream rather
    than a call, because Scrapy hands items to the pipeline asynchronously: a call made from
    the callback can run before the page's items have reached it."""


@dataclass
class TargetDone(Item):
    """Yielded after a target's last item: the target's outcome (``ok``, ``partial``,
    ``blocked``, ``failed``, ``unreachable``), with the reason and what the spider noted."""

    status: str = "ok"
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DiscoveredAccount(Item):
    """An account found by a keyword search."""

    platform: str
    account_id: str
    name: str
    bio: str = ""
    avatar_url: str | None = None
    verified: bool | None = None
    verified_type: str | None = None
    verified_reason: str | None = None
    followers: int | None = None
    profile_url: str | None = None
    keyword: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ProfileSnapshot(Item):
    """A registered account's profile as one timeline crawl saw it.

    ``status`` is ``ok``, or ``gone`` when the platform positively says the account no longer
    exists (deleted, banned); a login wall or an error is never ``gone`` — that is a blocked run.
    """

    platform: str
    account_id: str
    name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    verified: bool | None = None
    verified_reason: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    profile_url: str | None = None
    status: str = "ok"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Post(Item):
    platform: str
    account_id: str
    post_id: str
    text: str = ""
    created_at: str | None = None  # ISO-8601
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


# Why a post readers can no longer see is gone, as the platform's own answer says it
# (:attr:`PostCheck.cause`). Only the first two are deletions; a post that is private, restricted
# or under review still exists (watcher.watch.analyze).
GONE_CAUSES: dict[str, str] = {
    "author_deleted": "作者删除",
    "platform_removed": "平台删除或屏蔽",
    "restricted": "仅自己可见或受限",
    "under_review": "审核中",
    "unknown": "未知",
}
DELETION_CAUSES = ("author_deleted", "platform_removed")


@dataclass
class PostCheck(Item):
    """The answer to "does this one post still exist?", asked before calling a post deleted.

    ``exists`` is True/False only when the platform said so unambiguously; None means the check
    itself failed (login wall, error) and proves nothing. For a post that is gone (``exists``
    False), ``cause`` is why, from the platform's own signals (a key of :data:`GONE_CAUSES`;
    ``unknown`` when the platform says only that it is gone).
    """

    platform: str
    account_id: str
    post_id: str
    exists: bool | None
    text: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    cause: str | None = None

    def __post_init__(self) -> None:
        if self.exists is False and self.cause not in GONE_CAUSES:
            self.cause = "unknown"
        elif self.exists is not False:
            self.cause = None


@dataclass
class Mention(Item):
    """Someone else's content that a keyword search found (舆情提及): a post, video, article or
    answer, with its author (who also goes through impersonation matching, as a
    :class:`DiscoveredAccount` the spider yields beside it) and its engagement at this crawl."""

    platform: str
    post_id: str
    author_id: str
    author_name: str = ""
    title: str = ""
    text: str = ""
    created_at: str | None = None  # ISO-8601
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None
    views: int | None = None
    url: str | None = None
    keyword: str | None = None
    kind: str = "post"  # post, video, article, answer, comment
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
