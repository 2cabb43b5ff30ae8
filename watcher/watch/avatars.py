"""Is it the same avatar? Decided by the image, never by a URL's signature.

Platforms serve one avatar under many URLs: Weibo signs it (``?KID=imgbed,tva&Expires=…&ssig=…``,
a new signature per answer) and picks a host (``tvax1``…``tvax4``) and a size
(``/crop.0.0.640.640.180/``, ``/180/``, ``/large/``); Bilibili appends ``@100w_100h_1c.webp``,
Douyin and Toutiao ``~c5_300x300.jpeg`` or a ``/100x100/`` segment, Zhihu ``_l`` / ``_xl``.

* With both images downloaded, their perceptual hashes decide (resizing and recompression move
  a pHash by a few bits; a different picture by dozens).
* Without an image, :func:`avatar_key` — the URL without query, host number, size or crop — is
  compared: a new key means a new upload (the file name is the platform's content id).
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import imagehash
from loguru import logger
from PIL import UnidentifiedImageError

from watcher.matching.logo import open_image

# Two pictures whose 64-bit pHashes differ by at most this many bits are the same avatar.
SAME_IMAGE_MAX_DISTANCE = 8

# Path segments that only choose a size, a crop or a rendition of the same upload.
_SIZE_SEGMENT = re.compile(
    r"crop\.\d+(?:\.\d+){3,4}"               # sinaimg crop.x.y.w.h[.size]
    r"|\d{2,4}"                              # sinaimg /180/, /50/; dated folders are harmless here
    r"|\d+x\d+"                              # douyin /100x100/
    r"|(?:large|small|square|thumbnail|thumb\d*|orj\d+|mw\d+|bmiddle|wap\d+|woriginal|original|default)",
    re.IGNORECASE)
_RENDITION_SUFFIX = re.compile(
    r"@[^/]*$"                                # bilibili @100w_100h_1c.webp
    r"|~[^/.]*(?=\.[^/.]*$|$)"                # douyin/toutiao ~c5_300x300
    r"|_(?:xs|s|m|l|xl|xll|is|im|r|b|hd|qhd|\d+w)(?=\.[^/.]*$)",  # zhihu v2-abc_l.jpg
    re.IGNORECASE)


def avatar_key(url: str | None) -> str | None:
    """The avatar's identity as far as the URL tells: registrable host + path, without query,
    host number, size/crop segments, rendition suffix or file extension."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urllib.parse.urlsplit("https:" + url if url.startswith("//") else url)
    except ValueError:  # "http://[::1": not a URL, so its text is all there is to compare
        return url
    host = ".".join((parts.hostname or "").split(".")[-2:])
    segments = [s for s in parts.path.split("/") if s and not _SIZE_SEGMENT.fullmatch(s)]
    if segments:
        last = _RENDITION_SUFFIX.sub("", segments[-1])
        segments[-1] = last.rsplit(".", 1)[0] if "." in last else last
    return host + "/" + "/".join(segments)


def phash(path: Path) -> str | None:
    """The image's 64-bit perceptual hash (hex), or None when the file is not a readable image."""
    try:
        with open_image(path) as img:  # bounded: a decompression bomb is refused from its header
            return str(imagehash.phash(img.convert("RGB")))
    except (OSError, UnidentifiedImageError, ValueError) as e:
        logger.debug("头像图片无法读取 {}：{}", path, e)
        return None


def distance(a: str, b: str) -> int:
    return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)


def changed(old_url: str | None, old_hash: str | None, new_url: str | None, new_hash: str | None) -> tuple[bool, str]:
    """(changed?, how it was decided) for two snapshots' avatars."""
    if not old_url and not new_url:
        return False, "无头像"
    if old_hash and new_hash:
        d = distance(old_hash, new_hash)
        return d > SAME_IMAGE_MAX_DISTANCE, f"图片感知哈希距离 {d}/64"
    same = avatar_key(old_url) == avatar_key(new_url)
    return not same, "图片无法下载，按去掉签名与尺寸后的地址比较"
