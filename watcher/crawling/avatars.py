"""Avatars of discovered accounts, downloaded once and cached for logo matching."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import httpx
from loguru import logger

from watcher.config import Config
from watcher.store import Store
from watcher.store import accounts as stored_accounts
from watcher.store.accounts import Account

MAX_BYTES = 2 * 1024 * 1024
EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


def cache_path(cfg: Config, url: str, content_type: str) -> Path:
    d = cfg.data_path / "avatars"
    d.mkdir(parents=True, exist_ok=True)
    return d / (hashlib.sha1(url.encode()).hexdigest() + EXT.get(content_type, ".img"))


def _get(url: str, client: httpx.Client) -> tuple[bytes, str] | None:
    """The image at ``url`` and its content type, or None (error, not an image, too large)."""
    try:
        resp = client.get(url if not url.startswith("//") else "https:" + url)
    except httpx.HTTPError as e:
        logger.debug("头像下载失败 {}：{}", url, e)
        return None
    ctype = resp.headers.get("content-type", "").split(";")[0].strip()
    if resp.status_code != 200 or not ctype.startswith("image/") or len(resp.content) > MAX_BYTES:
        return None
    return resp.content, ctype


def fetch(cfg: Config, url: str, client: httpx.Client) -> Path | None:
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
    with httpx.Client(timeout=10, follow_redirects=True, headers={"User-Agent": "Mozilla/5.0"}) as client:
        for a in accounts:
            url = a.avatar_url
            if not url or (a.avatar_path and (cfg.data_path / a.avatar_path).exists()):
                out.append(a)
                continue
            path = fetch(cfg, url, client)
            if path is None:
                out.append(a)
                continue
            rel = str(path.relative_to(cfg.data_path))
            stored_accounts.set_avatar_path(store, a.platform, a.account_id, rel)
            out.append(replace(a, avatar_path=rel))
    return out
