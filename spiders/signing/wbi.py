"""Bilibili's "wbi" query signature (``w_rid`` and ``wts``), a public algorithm.

The keys come from ``/x/web-interface/nav`` (``data.wbi_img.img_url`` / ``sub_url``: the file
names without extension); they are concatenated, shuffled by a fixed permutation table, cut to
32 characters, and ``w_rid`` is the MD5 of the sorted, filtered query string plus that key.
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from typing import Any

# The fixed permutation Bilibili's web client uses to mix img_key + sub_key.
MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49,
    33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
    61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11,
    36, 20, 34, 44, 52,
)
_FILTERED = str.maketrans("", "", "!'()*")


def key_from_url(url: str) -> str:
    return url.rsplit("/", 1)[-1].split(".", 1)[0]


def mixin_key(img_key: str, sub_key: str) -> str:
    raw = img_key + sub_key
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB if i < len(raw))[:32]


def sign(params: dict[str, Any], img_key: str, sub_key: str, now: float | None = None) -> dict[str, str]:
    """Params plus ``wts`` and ``w_rid``, ready to urlencode."""
    signed = {k: str(v).translate(_FILTERED) for k, v in params.items()}
    signed["wts"] = str(int(now if now is not None else time.time()))
    # Spaces as %20 (not "+") and upper-case escapes, as the web client encodes them.
    query = urllib.parse.urlencode(sorted(signed.items()), quote_via=urllib.parse.quote)
    signed["w_rid"] = hashlib.md5((query + mixin_key(img_key, sub_key)).encode()).hexdigest()
    return signed
