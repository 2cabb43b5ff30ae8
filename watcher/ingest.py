"""What the spiders saw, stored by item type. Called by the item pipeline in batches, each batch
one transaction, so a crawl killed mid-way keeps every batch it finished and none of the next."""

from __future__ import annotations

from typing import Any

from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from watcher.store import Store, rounds
from watcher.store.accounts import save_account, save_snapshot
from watcher.store.mentions import save_mention
from watcher.store.posts import save_check, save_post

SAVERS: dict[type, Any] = {
    DiscoveredAccount: save_account,
    ProfileSnapshot: save_snapshot,
    Post: save_post,
    PostCheck: save_check,
    Mention: save_mention,
}


def save_batch(store: Store, items: list[Any], run_id: int | None) -> None:
    with store.transaction():
        for item in items:
            SAVERS[type(item)](store, item, run_id)
        if run_id is not None:
            rounds.add_items(store, run_id, len(items))
