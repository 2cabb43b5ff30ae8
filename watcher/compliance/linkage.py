"""矩阵联动: a key story (重点稿件) of an official account, and who in the matrix relayed it.

A central reviewer marks a stored post as a key story (web page or ``watcher linkage add``),
naming the units expected to relay it and the time they have (``--within``, from the moment it is
marked). The registered accounts of those units, of the tiers in ``compliance.linkage.tiers``
(second-tier by default), are then read from the posts the watch stores anyway — no extra
crawling: a post relays the story when it

* reposts it as the platform shows a repost — Weibo's ``retweeted_status``, a Bilibili dynamic of
  type ``DYNAMIC_TYPE_FORWARD`` whose ``orig`` is the story;
* links to it (its id in a link of the text or of the platform's record; never fetched);
* quotes its title (a WeChat article reprinting it, a post retelling it), once the title is long
  enough to be the story's own (:data:`MIN_TITLE`).

Each account is 按时转发, 逾期转发 (after the deadline), 待转发 (not yet, deadline ahead), 未转发, or
无法观测 (its platform cannot be watched and nothing of it is stored). When the reminder time comes
(``remind_before`` the deadline), each unit with accounts still 待转发 gets one reminder, a
finding routed to it like any other; ``linkage_reminders`` records it in the same transaction,
so a restart never sends it again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from loguru import logger
from markupsafe import Markup

from spiders import catalog
from watcher import findings, registry
from watcher.compliance.checks import MAX_TEXT, Checker, raw_record
from watcher.config import Config
from watcher.schedule import ScheduledJob
from watcher.store import Store, accounts
from watcher.store import compliance as stored
from watcher.store import registry as stored_registry
from watcher.store.compliance import Story, WatchedPost
from watcher.store.findings import record
from watcher.store.registry import RegistryAccount
from watcher.timefmt import CHINA, local_time, parse_stored, zone_label

MIN_TITLE = 8  # characters of a title, punctuation aside, for quoting it to count as a relay
STATUS_LABELS = {"on_time": "按时转发", "late": "逾期转发", "pending": "待转发", "missing": "未转发",
                 "unobservable": "无法观测"}
STATUS_COLOURS = {"on_time": "#16a34a", "late": "#d97706", "pending": "#2563eb", "missing": "#dc2626",
                  "unobservable": "#9ca3af"}
HOW_LABELS = {"repost": "转发", "link": "链接", "quote": "引用标题"}


class LinkageError(Exception):
    """A key story that cannot be added as asked; the message says why and what to do."""


# -- times ------------------------------------------------------------------------------------------


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(value: str | None) -> datetime | None:
    """A stored time (any offset; none: China time, as platforms print it) as an aware datetime."""
    return parse_stored(value, naive=CHINA)


def shown(value: str | datetime | None) -> str:
    return local_time(value) or "—"


# -- the story --------------------------------------------------------------------------------------

_WEIBO_URL = re.compile(r"(?:m\.)?weibo\.(?:cn|com)/(?:detail/|status/|\d+/)([A-Za-z0-9]{9,20})")
_BILI_VIDEO = re.compile(r"bilibili\.com/video/(BV[0-9A-Za-z]{10}|av\d+)")
_BILI_DYNAMIC = re.compile(r"(?:t\.bilibili\.com/|bilibili\.com/opus/)(\d{6,25})")
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def weibo_mid(bid: str) -> str:
    """A Weibo post's short id in URLs (``weibo.com/UID/Q8f3…``) → its numeric id: base62 in
    groups of four characters from the right, each seven decimal digits."""
    if bid.isdigit():
        return bid
    groups = []
    while bid:
        bid, chunk = bid[:-4], bid[-4:]
        n = 0
        for c in chunk:
            n = n * 62 + _BASE62.index(c)
        groups.append(str(n).zfill(7) if bid else str(n))
    return "".join(reversed(groups))


def post_for_url(store: Store, url: str) -> WatchedPost | None:
    """The stored post that ``url`` names: by its stored address, else by the id in the address."""
    url = url.strip()
    found = stored.posts_by_url(store, url)
    if found:
        return found[0]
    if m := _WEIBO_URL.search(url):
        try:
            return stored.post(store, "weibo", weibo_mid(m.group(1)))
        except ValueError:
            return None
    if m := _BILI_VIDEO.search(url):
        return stored.post(store, "bilibili", m.group(1))
    if m := _BILI_DYNAMIC.search(url):
        return stored.post(store, "bilibili", m.group(1))
    return None


def story_title(text: str | None) -> str:
    """What a post is called: its 【headline】, else its first line (topics #…# aside), at most 80."""
    text = (text or "").strip()[:2000]
    if m := re.match(r"\s*[【\[]([^】\]\n]{2,80})[】\]]", text):
        return m.group(1).strip()
    first = re.sub(r"#[^#\n]{1,40}#", "", text.split("\n", 1)[0]).strip()
    return first[:80]


def _compact(text: str) -> str:
    """Text as a quote is compared: NFKC, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT]).lower()
    return "".join(c for c in text if c.isalnum())


def add_story(cfg: Config, store: Store, url: str, *, within: int | None = None, units: list[str] | None = None,
              tiers: list[int] | None = None, title: str | None = None, actor: str,
              now: datetime | None = None) -> Story:
    """Mark the stored post at ``url`` as a key story; raises :class:`LinkageError`."""
    now = now or datetime.now(UTC)
    p = post_for_url(store, url)
    if p is None:
        raise LinkageError(f"找不到帖子 {url}：只有已巡检到的备案账号帖子才能设为重点稿件。请确认链接无误，"
                           "或等该账号下一轮巡检（或运行 watcher crawl 平台 timeline --account 账号ID）后再试")
    reg = registry.find_account(store, p.platform, p.account_id)
    if reg is None:
        raise LinkageError(f"帖子 {url} 所属账号（{catalog.label(p.platform)} {p.account_id}）不在备案台账中，不能设为重点稿件")
    chosen = resolve_units(cfg, store, units) if units else None
    title = (title or "").strip()[:200] or story_title(p.text)
    if not title:
        raise LinkageError("该帖子没有文字，无法确定标题；请用 --title 给出标题")
    within = within or cfg.compliance.linkage.within
    deadline = now + timedelta(seconds=within)
    before = cfg.compliance.linkage.remind_before
    remind_at = deadline - timedelta(seconds=before) if before < within else now + timedelta(seconds=within / 2)
    published = parse_time(p.created_at) or parse_time(p.first_seen) or now
    with store.transaction():
        story_id = stored.add_story(
            store, platform=p.platform, post_id=p.post_id, account_id=p.account_id, url=p.url or url, title=title,
            published_at=_iso(published), deadline=_iso(deadline), remind_at=_iso(remind_at), units=chosen,
            tiers=list(tiers or cfg.compliance.linkage.tiers), created_by=actor)
    if story_id is None:
        existing = stored.story_for_post(store, p.platform, p.post_id)
        raise LinkageError(f"该帖子已是重点稿件（编号 {existing.id if existing else '?'}），"
                           "用 watcher linkage show 编号 查看")
    story = stored.get_story(store, story_id)
    assert story is not None
    return story


def unit_names(cfg: Config, store: Store) -> list[str]:
    """Every unit a story can name: the config's, and those of the registry."""
    names = [u.name for u in cfg.units]
    return names + [u for u in stored_registry.units(store) if _canonical(cfg, u) not in names]


def _canonical(cfg: Config, unit: str) -> str:
    u = cfg.unit(unit)
    return u.name if u else unit


def resolve_units(cfg: Config, store: Store, given: list[str]) -> list[str]:
    known = unit_names(cfg, store)
    out, unknown = [], []
    for g in (x.strip() for x in given if x.strip()):
        name = _canonical(cfg, g)
        (out if name in known else unknown).append(name)
    if unknown:
        raise LinkageError(f"未知的单位：{'、'.join(unknown)}；可选：{'、'.join(known)}（也可用单位 id 或别名）")
    return list(dict.fromkeys(out))


# -- who relayed it ---------------------------------------------------------------------------------


@dataclass
class Relay:
    post_id: str
    url: str | None
    at: datetime
    how: str

    @property
    def how_label(self) -> str:
        return HOW_LABELS[self.how]


@dataclass
class Row:
    unit: str
    account: RegistryAccount
    name: str
    status: str
    relay: Relay | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class Report:
    story: Story
    rows: list[Row]
    now: datetime
    quote_title: bool  # whether quoting the title counts (a long enough title)
    reminded: dict[str, list[str]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    def by_unit(self) -> list[tuple[str, dict[str, int]]]:
        units: dict[str, dict[str, int]] = {}
        for r in self.rows:
            units.setdefault(r.unit, {s: 0 for s in STATUS_LABELS})[r.status] += 1
        return sorted(units.items())

    @property
    def deadline_passed(self) -> bool:
        return self.now >= parse_time(self.story.deadline)  # type: ignore[operator]


def _ids(story: Story, story_post: WatchedPost | None) -> set[str]:
    """The story's ids as other posts may carry them (numeric id, Weibo's short id, bvid …)."""
    ids = {story.post_id}
    raw = raw_record(story_post.raw) if story_post else {}
    for key in ("id", "idstr", "mid", "bid", "id_str", "bvid", "aid"):
        if isinstance(raw.get(key), str | int) and len(str(raw[key])) >= 6:
            ids.add(str(raw[key]))
    return {i for i in ids if len(i) >= 6}


def _reposted(story: Story, raw: dict[str, Any], ids: set[str]) -> bool:
    rt = raw.get("retweeted_status")
    if story.platform == "weibo" and isinstance(rt, dict):
        return any(str(rt.get(k)) in ids for k in ("id", "idstr", "mid", "bid") if rt.get(k) is not None)
    orig = raw.get("orig")
    if story.platform == "bilibili" and raw.get("type") == "DYNAMIC_TYPE_FORWARD" and isinstance(orig, dict):
        archive = ((((orig.get("modules") or {}).get("module_dynamic") or {}).get("major") or {}).get("archive")) or {}
        return str(orig.get("id_str")) in ids or str(archive.get("bvid")) in ids or str(archive.get("aid")) in ids
    return False


def relay_of(story: Story, post: WatchedPost, ids: set[str], title: str | None) -> str | None:
    """How ``post`` relays the story (repost, link, quote), or None."""
    if post.platform == story.platform and post.post_id == story.post_id:
        return None
    raw = raw_record(post.raw)
    if _reposted(story, raw, ids):
        return "repost"
    for url, _, _ in Checker.urls(post.text or "", raw):
        tokens = set(re.split(r"[^0-9A-Za-z]+", url))
        if tokens & ids:
            return "link"
    if title:
        fields = [post.text or ""] + [raw[k] for k in ("title", "digest", "desc") if isinstance(raw.get(k), str)]
        if any(title in _compact(f) for f in fields):
            return "quote"
    return None


def expected_accounts(cfg: Config, store: Store, story: Story) -> list[RegistryAccount]:
    units = set(story.units) if story.units is not None else None
    return [a for a in registry.active_accounts(store)
            if a.tier in story.tiers and not (a.platform == story.platform and a.account_id == story.account_id)
            and (units is None or _canonical(cfg, a.unit) in units)]


def build_report(cfg: Config, store: Store, story: Story, now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    deadline = parse_time(story.deadline)
    published = parse_time(story.published_at)
    assert deadline is not None and published is not None
    last = deadline + timedelta(seconds=cfg.compliance.linkage.late_window)
    ids = _ids(story, stored.post(store, story.platform, story.post_id))
    title = _compact(story.title)
    quote = title if len(title) >= MIN_TITLE else None
    rows = []
    for a in expected_accounts(cfg, store, story):
        name = accounts.latest_name(store, a.platform, a.account_id) or a.account_name
        relay = None
        for p in stored.account_posts_seen_since(store, a.platform, a.account_id, _iso(published)):
            at = parse_time(p.created_at) or parse_time(p.first_seen)
            if at is None or at < published - timedelta(minutes=5) or at > last:
                continue
            how = relay_of(story, p, ids, quote)
            if how and (relay is None or at < relay.at):
                relay = Relay(p.post_id, p.url, at, how)
        if relay is not None:
            status = "on_time" if relay.at <= deadline else "late"
        elif not catalog.get(a.platform).watchable and not stored.has_posts(store, a.platform, a.account_id):
            status = "unobservable"
        else:
            status = "pending" if now < deadline else "missing"
        rows.append(Row(_canonical(cfg, a.unit), a, name, status, relay))
    rows.sort(key=lambda r: (r.unit, r.account.platform, r.name))
    return Report(story, rows, now, quote is not None, stored.reminded_units(store, story.id))


# -- reminders --------------------------------------------------------------------------------------


def remind_due(cfg: Config, store: Store, now: datetime | None = None) -> int:
    """One reminder to each unit whose accounts have not relayed a story whose reminder time has
    come (deadline still ahead); returns how many were made."""
    now = now or datetime.now(UTC)
    made = 0
    for story in stored.stories_to_remind(store, _iso(now)):
        report = build_report(cfg, store, story, now)
        lagging: dict[str, list[str]] = {}
        for r in report.rows:
            if r.status == "pending":
                lagging.setdefault(r.unit, []).append(f"{catalog.label(r.account.platform)}「{r.name}」")
        for unit, names in sorted(lagging.items()):
            if unit in report.reminded:
                continue
            with store.transaction():
                rec = record(store, findings.linkage_reminder(
                    story_id=story.id, story_title=story.title, story_url=story.url, unit=unit,
                    deadline=story.deadline, deadline_shown=f"{shown(story.deadline)}（{zone_label()}）",
                    accounts=names))
                if stored.add_reminder(store, story.id, unit, rec.id, names, _iso(now)):
                    made += 1
    if made:
        logger.info("矩阵联动：已向 {} 个单位发出转发提醒", made)
    return made


def _remind_job(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        remind_due(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    if not cfg.compliance.enabled:
        return []
    return [ScheduledJob(id="linkage_reminders", func=_remind_job, seconds=600, run_at_start=True,
                         description="矩阵联动转发提醒")]


# -- for the assessment report -----------------------------------------------------------------------


def account_tallies(cfg: Config, store: Store, first: datetime, last: datetime,
                    now: datetime | None = None) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(platform, account_id) → (relayed on time, relayed late, expected) over the key stories
    published in [first, last)."""
    out: dict[tuple[str, str], list[int]] = {}
    for story in stored.list_stories(store, published_from=_iso(first), published_to=_iso(last), limit=10_000):
        for r in build_report(cfg, store, story, now).rows:
            if r.status == "unobservable":
                continue
            t = out.setdefault((r.account.platform, r.account.account_id), [0, 0, 0])
            t[0] += r.status == "on_time"
            t[1] += r.status == "late"
            t[2] += 1
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


# -- the chart --------------------------------------------------------------------------------------

FONT = 'font-family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"'


def chart_svg(report: Report, *, width: int = 720) -> Markup:
    """One stacked bar a unit: its accounts by status, with a legend. No script, no style."""
    units = report.by_unit()
    row, top, label_w = 26, 58, 160
    height = top + row * max(len(units), 1) + 10
    most = max([sum(c.values()) for _, c in units] + [1])
    plot_w = width - label_w - 40
    title = f"「{report.story.title[:30]}」转发情况（按单位）"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="18" {FONT} font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>']
    for i, (status, label) in enumerate(STATUS_LABELS.items()):
        x = i * 110
        parts += [f'<rect x="{x}" y="30" width="12" height="12" fill="{STATUS_COLOURS[status]}"/>',
                  f'<text x="{x + 16}" y="41" {FONT} font-size="12" fill="#374151">{label}</text>']
    if not units:
        parts.append(f'<text x="{label_w}" y="{top + 16}" {FONT} font-size="13" fill="#6b7280">（无应转发账号）</text>')
    for n, (unit, counts) in enumerate(units):
        y = top + n * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" {FONT} font-size="12" fill="#111827">'
                     f'{escape(unit[:12])}</text>')
        x = float(label_w)
        for status, k in counts.items():
            if not k:
                continue
            w = plot_w * k / most
            parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
                         f'fill="{STATUS_COLOURS[status]}"><title>{escape(unit)} {STATUS_LABELS[status]}：{k}</title></rect>')
            parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" {FONT} font-size="11" '
                         f'fill="#ffffff">{k}</text>')
            x += w
    parts.append("</svg>")
    return Markup("".join(parts))
