"""A finding's fingerprint: what decides whether recording it again makes a new revision.

Only what a reviewer acts on counts: title, severity, name, unit and the details except
:data:`UNREVISED_DETAILS` (follower counts and other metrics, an avatar's signed URL), with a
score counted by its band. Those still change the stored details, silently: what is shown stays
current, nothing is re-sent.
"""

from __future__ import annotations

import hashlib
from typing import Any

from watcher.store.db import dumps

# Details that move without anything to act on: metrics, and avatar URLs whose query carries an
# expiring signature (the avatar itself is compared by image, see watcher.watch.avatars).
UNREVISED_DETAILS = frozenset({"followers", "following", "posts_count", "likes", "reposts", "comments",
                               "avatar_url", "score",
                               # a sentiment cluster growing: one incident, one alert, not one per repost
                               "cluster_size", "cluster_platforms", "cluster_posts", "cluster_first_seen",
                               "cluster_last_seen", "window_counts", "top_posts", "last_spiking",
                               # what judged it and where to read it: a new model or page is not a new incident
                               "lexicon", "cluster_path", "carried_groups"})
SCORE_BAND = 10


def acted_on(details: dict[str, Any]) -> dict[str, Any]:
    """The part of a finding's details that decides its revision."""
    kept = {k: v for k, v in details.items() if k not in UNREVISED_DETAILS}
    if isinstance(details.get("score"), int | float):
        kept["score_band"] = int(details["score"]) // SCORE_BAND * SCORE_BAND
    return kept


def fingerprint_of(kind: str, title: str, severity: str, account_name: str | None, unit: str | None,
                   details: dict[str, Any]) -> str:
    material = dumps([kind, title, severity, account_name, unit, acted_on(details)])
    return hashlib.sha256(material.encode()).hexdigest()
