"""The signature Tieba's 2026 PC pages put on their JSON API calls (``sign``).

The page's script sorts the call's parameters by name, writes each as ``name=value`` with the
value as sent (no separator between pairs, ``sign``/``sig`` and missing values left out),
appends the web client's fixed key and takes the MD5 hex digest. Every call also says it comes
from the PC client (``subapp_type=pc``, ``_client_type=20``). Recorded by MediaCrawler
(NanmiCoder/MediaCrawler f328ee3, ``media_platform/tieba/client.py``), whose crawls with it were
answered by the live site in April 2026.
"""

from __future__ import annotations

import hashlib
from typing import Any

# The PC web client's key (the same public record).
PC_KEY = "36770b1f34c9bbf2e7d1a99d2b82fa9e"
PC_CLIENT = {"subapp_type": "pc", "_client_type": "20"}


def sign(params: dict[str, Any], key: str = PC_KEY) -> str:
    text = "".join(f"{name}={params[name]}" for name in sorted(params)
                   if name not in ("sign", "sig") and params[name] is not None)
    return hashlib.md5((text + key).encode("utf-8")).hexdigest()


def signed(params: dict[str, Any]) -> dict[str, str]:
    """``params`` as the PC client sends them: the client's marks added, then ``sign``."""
    out = {**PC_CLIENT, **{k: str(v) for k, v in params.items() if v is not None}}
    out["sign"] = sign(out)
    return out
