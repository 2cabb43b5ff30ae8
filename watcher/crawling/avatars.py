"""Avatars of discovered accounts, downloaded once and cached for logo matching.

Avatar URLs come from platform data, so every download goes through :mod:`watcher.fetchguard`:
only platform image hosts that resolve to public addresses (or the operator's configured
``base_url``), every redirect checked, at most :data:`MAX_BYTES` read, within the deadline. A URL
that failed is not tried again for :data:`RETRY_FAILED_AFTER` in this process (a round's crawl
process judges after each search: a 300 MB "image" is refused once, not once per search), and a
URL already cached is not downloaded again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
from loguru import logger

from watcher import fetchguard
from watcher.cleaning import printable
from watcher.config import Config
from watcher.fetchguard import FetchPolicy, Refused
from watcher.store import Store
from watcher.store import accounts as stored_accounts
from watcher.store.accounts import Account

MAX_BYTES = 2 * 1024 * 1024
EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}
RETRY_FAILED_AFTER = 6 * 3600.0

_failed: dict[str, float] = {}  # URL → when it was refused or failed (time.monotonic())
_failed_lock = threading.Lock()


def cache_path(cfg: Config, url: str, content_type: str) -> Path:
    d = cfg.data_path / "avatars"
    d.mkdir(parents=True, exist_ok=True)
    return d / (hashlib.sha1(url.encode()).hexdigest() + EXT.get(content_type, ".img"))


def _cached(cfg: Config, url: str) -> Path | None:
    """The file an earlier download of ``url`` left, whatever its extension."""
    d = cfg.data_path / "avatars"
    stem = hashlib.sha1(url.encode()).hexdigest()
    return next((p for p in (d / (stem + ext) for ext in {*EXT.values(), ".img"}) if p.is_file()), None)


def _recently_failed(url: str) -> bool:
    with _failed_lock:
        at = _failed.get(url)
        return at is not None and time.monotonic() - at < RETRY_FAILED_AFTER


def _get(url: str, client: httpx.Client) -> tuple[bytes, str] | None:
    """The image at ``url`` and its content type, or None (refused, error, not an image, too
    large, too slow: logged with the reason)."""
    if _recently_failed(url):
        return None
    try:
        return fetchguard.download(client, url if not url.startswith("//") else "https:" + url,
                                   max_bytes=MAX_BYTES, accept=("image/",))
    except Refused as e:
        with _failed_lock:
            _failed[url] = time.monotonic()
        logger.info("头像未下载 {}：{}", printable(url[:200]), e)
        return None


def client(cfg: Config, platform: str | None = None) -> httpx.Client:
    """A download client confined by the config's fetch policy (see :mod:`watcher.fetchguard`)."""
    return fetchguard.client(FetchPolicy.from_config(cfg), platform)


def fetch(cfg: Config, url: str, client: httpx.Client) -> Path | None:
    if (cached := _cached(cfg, url)) is not None:
        return cached
    got = _get(url, client)
    if got is None:
        return None
    path = cache_path(cfg, url, got[1])
    path.write_bytes(got[0])
    return path


def fetch_by_content(cfg: Config, url: str, client: httpx.Client) -> Path | None:
    """Download and keep the image under its content's hash: an avatar served under a new
    signature every time is one file, not one per answer."""
    got = _get(url, client)
    if got is None:
        return None
    content, ctype = got
    d = cfg.data_path / "avatars"
    d.mkdir(parents=True, exist_ok=True)
    path = d / (hashlib.sha256(content).hexdigest() + EXT.get(ctype, ".img"))
    if not path.exists():
        path.write_bytes(content)
    return path


def download_missing(cfg: Config, store: Store, accounts: list[Account]) -> list[Account]:
    """Fill ``avatar_path`` for accounts with an avatar URL and no cached file: stored, and in
    the accounts returned (the same accounts, in the same order)."""
    if not (cfg.matching.download_avatars and cfg.school.logos):
        return accounts
    out = []
    clients: dict[str, httpx.Client] = {}
    policy = FetchPolicy.from_config(cfg)
    try:
        for a in accounts:
            url = a.avatar_url
            if not url or not isinstance(url, str) or (a.avatar_path and (cfg.data_path / a.avatar_path).exists()):
                out.append(a)
                continue
            if a.platform not in clients:  # links from a website may go to any public host, others not
                clients[a.platform] = fetchguard.client(policy, a.platform)
            try:
                path = fetch(cfg, url, clients[a.platform])
            except OSError as e:  # the disk, not the account: logged, the others still tried
                logger.warning("头像保存失败 {}：{}", printable(url[:200]), e.strerror or e)
                path = None
            if path is None:
                out.append(a)
                continue
            rel = str(path.relative_to(cfg.data_path))
            stored_accounts.set_avatar_path(store, a.platform, a.account_id, rel)
            out.append(replace(a, avatar_path=rel))
    finally:
        for c in clients.values():
            c.close()
    return out
