"""The one edge where crawled text enters: every spider item is cleaned here before the store.

Everything a platform returns is written by strangers, some of them the impersonators we watch.
:func:`clean_item` runs on each item at a single point, :meth:`RoundSink.add
<watcher.rounds.sink.RoundSink.add>` — where the crawl process's pipeline and the daemon reading a
worker fleet's results both deliver — so no path reaches the store around it. It:

* removes control characters (a line break in a name broke mail subjects and forged log lines;
  ESC/BEL reached terminals and broke the XLSX export) and the bidi overrides that reorder what
  people read; multi-line fields (bio, post text) keep their line breaks, one-line fields
  (names, titles, IDs) get a space instead;
* normalises to NFC (canonical composition). Not NFKC: the matcher folds compatibility forms
  itself and tells a disguised name (full-width letters, ㈱) from a plain one by comparing the
  two, so the stored text must keep them;
* caps each field at what the platforms allow, with room to spare (:data:`LIMITS`), and records
  the cut in the item's ``raw`` under ``_cleaned`` (the evidence shows what we changed);
* parses each URL once: http(s) only (a protocol-relative ``//host/x`` is https), a host that
  IDNA accepts, a valid port, no ``user@`` part; a malformed one becomes None with a logged
  reason, so nothing downstream (judging, alerts, the evidence browser) meets it.

The same text helpers keep logs and terminal output free of control characters
(:func:`printable`).
"""

from __future__ import annotations

import dataclasses
import re
import types
import unicodedata
import urllib.parse
from typing import Any, Union, get_args, get_origin, get_type_hints

import httpx
from loguru import logger

from spiders.items import DiscoveredAccount, Item, Mention, Post, PostCheck, ProfileSnapshot

# Characters never kept in crawled text: C0/C1 controls and DEL (tab and line feed are decided
# per field), lone surrogates (a JSON "\ud800" that SQLite cannot encode), and the bidi
# embeddings, overrides and isolates (U+202A–202E, U+2066–2069) that make "gpj.exe" read "exe.jpg".
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n?|[\u0085\u2028\u2029]")
_ONE_LINE = re.compile("[\t\n\r\u0085\u2028\u2029]+")

# Field caps, in characters. Each is several times what a platform lets a user write, so an
# honest record is never cut; they bound what a hostile one costs (storage, pages, mails, the
# matcher). Sources: Weibo nickname 4–30 characters and bio ≤ 70 (weibo.com settings page);
# Bilibili name ≤ 16 and sign ≤ 70 (space settings); Douyin nickname ≤ 20, signature ≤ 250;
# Xiaohongshu nickname ≤ 24, bio ≤ 100; a WeChat official account's name ≤ 30, its article
# title ≤ 64 and body ≤ 20,000 characters (mp.weixin.qq.com editor); a Weibo long post
# ≤ 20,000 characters (头条文章 more, but the spider reads the post text, not the article).
NAME_MAX = 100
BIO_MAX = 2_000
TEXT_MAX = 20_000
TITLE_MAX = 500
REASON_MAX = 500
ID_MAX = 256
URL_MAX = 2_048
RAW_STRING_MAX = TEXT_MAX

LIMITS: dict[str, int] = {
    "name": NAME_MAX, "author_name": NAME_MAX, "keyword": NAME_MAX,
    "bio": BIO_MAX, "verified_reason": REASON_MAX, "verified_type": REASON_MAX,
    "text": TEXT_MAX, "title": TITLE_MAX, "reason": REASON_MAX,
    "account_id": ID_MAX, "post_id": ID_MAX, "author_id": ID_MAX,
    "created_at": 64, "status": 32, "kind": 32,
}
MULTI_LINE = frozenset({"bio", "text"})
URL_FIELDS = frozenset({"avatar_url", "profile_url", "url"})
# An item without these is not a record at all; it is dropped rather than stored half.
KEYS = ("platform", "account_id", "post_id", "author_id")


class BadURL(ValueError):
    """Raised by :func:`parse_url` for an address that is not a usable http(s) URL; the message
    says why, in Chinese."""


def strip_controls(text: str, *, keep_lines: bool = False) -> str:
    """``text`` without control characters; line breaks kept (as ``\\n``) when ``keep_lines``,
    else each run of them one space."""
    text = _LINE_BREAKS.sub("\n", text) if keep_lines else _ONE_LINE.sub(" ", text)
    return _CONTROLS.sub("", text)


def clean_text(text: str, limit: int | None = None, *, keep_lines: bool = False) -> tuple[str, int]:
    """``text`` cleaned and normalised, cut at ``limit`` characters; with the length it had
    before the cut (equal to the result's when nothing was cut)."""
    text = unicodedata.normalize("NFC", strip_controls(text, keep_lines=keep_lines))
    if not keep_lines:
        text = text.strip()
    full = len(text)
    if limit is not None and full > limit:
        text = text[:limit]
    return text, full


def parse_url(url: str) -> str:
    """``url`` as a checked absolute http(s) address, or :class:`BadURL`."""
    url = strip_controls(url).strip()
    if not url:
        raise BadURL("地址为空")
    if len(url) > URL_MAX:
        raise BadURL(f"地址过长（{len(url)} 字符，上限 {URL_MAX}）")
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
        host = httpx.URL(url).host  # the parser the downloads use: IDNA, brackets, ports
    except (ValueError, httpx.InvalidURL) as e:
        raise BadURL(f"地址无法解析（{_reason(e)}）") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadURL(f"只接受 http/https 地址，这是 {parts.scheme or '无协议'} 地址")
    if not parts.hostname or not host:
        raise BadURL("地址没有主机名")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BadURL("地址含“用户名@”部分（常用于伪装真实主机）")
    if host != parts.hostname.lower().rstrip(".") and not _same_host(host, parts.hostname):
        raise BadURL("地址的主机名有歧义（不同解析器读出不同主机）")
    return url


def _same_host(a: str, b: str) -> bool:
    """Hostnames the two parsers wrote differently but mean the same (one IDNA-decoded)."""
    try:
        return a.lower().rstrip(".").encode("idna") == b.lower().rstrip(".").encode("idna")
    except UnicodeError:
        return False


def _reason(e: BaseException) -> str:
    """An exception's message without its Python type: what an operator reads."""
    return printable(str(e))[:200] or "格式错误"


def printable(text: str) -> str:
    """``text`` safe to write to a log line or a terminal: control characters (escape
    sequences, BEL, carriage return, bidi overrides) shown as ``\\u001b``-style escapes, so they
    can be seen but never act. Line feeds and tabs are left to the caller. The escapes are
    JSON's own, so JSON written through this stays the same JSON."""
    return _PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


_PRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


# -- items -----------------------------------------------------------------------------------------

CLEANED_TYPES = (DiscoveredAccount, ProfileSnapshot, Post, PostCheck, Mention)


def clean_item(item: Item) -> Item | None:
    """``item`` cleaned in place (and returned), or None when it cannot be a record (no
    platform or ID left after cleaning). Markers (page and target ends) pass as they are."""
    if not isinstance(item, CLEANED_TYPES):
        return item
    cuts: dict[str, Any] = {}
    hints = _hints(type(item))
    for f in dataclasses.fields(item):
        if f.name in ("raw", "target"):
            continue
        value = getattr(item, f.name)
        new = _clean_field(f.name, value, hints.get(f.name), cuts)
        if new is not value:
            setattr(item, f.name, new)
    for key in KEYS:
        if hasattr(item, key) and not getattr(item, key):
            logger.warning("{}：平台返回的记录缺少 {}（或清理后为空），已丢弃", printable(str(getattr(item, "platform", ""))), key)
            return None
    raw = getattr(item, "raw", None)
    if isinstance(raw, dict):
        raw = _clean_raw(raw)
        if cuts:
            raw["_cleaned"] = cuts
        item.raw = raw  # type: ignore[attr-defined]
    elif raw is not None:
        item.raw = {}  # type: ignore[attr-defined]
    if cuts:
        logger.info("{} {}：平台数据已清理：{}", printable(str(getattr(item, "platform", ""))),
                    printable(str(getattr(item, "account_id", "") or getattr(item, "author_id", ""))),
                    "；".join(f"{k} {v}" for k, v in cuts.items()))
    return item


def _clean_field(name: str, value: Any, hint: Any, cuts: dict[str, Any]) -> Any:
    if value is None:
        return None
    kinds = _kinds(hint)
    if name in URL_FIELDS:
        if not isinstance(value, str):
            cuts[name] = "不是文本，已丢弃"
            return None
        try:
            return parse_url(value)
        except BadURL as e:
            cuts[name] = f"已丢弃：{e}"
            return None
    if bool in kinds:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):  # a platform's 0/1 flag
            return bool(value)
        cuts[name] = "不是真/假值，已丢弃"
        return None
    if int in kinds and str not in kinds:
        if isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63:
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) < 19:
            return int(value)
        cuts[name] = "不是整数，已丢弃"
        return None
    if str in kinds:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            cuts[name] = "不是文本，已丢弃"
            return None if type(None) in kinds else ""
        text, full = clean_text(str(value), LIMITS.get(name), keep_lines=name in MULTI_LINE)
        if full > len(text):
            cuts[name] = f"截断（原 {full} 字，保留 {len(text)} 字）"
        return text
    return value


def _clean_raw(value: Any, depth: int = 0) -> Any:
    """The platform's own record, kept as evidence: strings capped (JSON escapes any control
    character when it is written), nesting bounded."""
    if depth > 32:
        return None
    if isinstance(value, str):
        return value[:RAW_STRING_MAX] if len(value) > RAW_STRING_MAX else value
    if isinstance(value, dict):
        return {str(k)[:ID_MAX]: _clean_raw(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_raw(v, depth + 1) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _kinds(hint: Any) -> set[Any]:
    if get_origin(hint) in (Union, types.UnionType):
        return set(get_args(hint))
    return {hint}
