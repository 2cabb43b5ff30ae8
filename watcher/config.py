"""The one YAML configuration file, validated at the edge.

Every error names the file, the key path (``platforms.weibo.rate``) and what was expected, so an
operator can fix the file without reading code. Relative paths in the file are resolved against
the file's own directory, because systemd starts the daemon from ``/``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from spiders import catalog
from watcher import timefmt
from watcher.opinion.rules import RuleError, load_rules


class _Labels(Mapping[str, str]):
    """Platform code → Chinese label, read from the spider modules' descriptors (a view, not a
    table: :mod:`spiders.catalog` is the only place platforms are declared)."""

    def __getitem__(self, key: str) -> str:
        try:
            return catalog.get(key).label
        except catalog.UnknownPlatform:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(catalog.names())

    def __len__(self) -> int:
        return len(catalog.names())


PLATFORM_LABELS: Mapping[str, str] = _Labels()

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d)?\s*$")


def parse_duration(value: str | int | float) -> int:
    """Seconds from ``90``, ``"10m"``, ``"6h"`` or ``"1d"``."""
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("必须是正数")
        return int(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"无法识别的时长 {value!r}，应为如 90、'10m'、'6h'、'1d'")
    n, unit = int(m.group(1)), (m.group(2) or "s")
    if n <= 0:
        raise ValueError("必须是正数")
    return n * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[unit]


Duration = Annotated[int, Field(description="seconds")]


class _Model(BaseModel):
    # A misspelt key is the most common config mistake; refusing unknown keys reports it.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _no_blank_names(v: list[str]) -> list[str]:
    blank = [i for i, name in enumerate(v) if not str(name).strip()]
    if blank:
        raise ValueError(f"第 {blank[0] + 1} 个名称为空：空名称会匹配任何账号，请删除或填写")
    return v


class SchoolNames(_Model):
    full: list[str] = Field(min_length=1)
    short: list[str] = []
    english: list[str] = []
    historical: list[str] = []
    marks: list[str] = []

    _blank = field_validator("full", "short", "english", "historical", "marks")(_no_blank_names)


class SchoolConfig(_Model):
    name: str = Field(min_length=1, pattern=r"\S")
    names: SchoolNames
    others: list[str] = []
    allow: list[str] = Field(default_factory=list, description="names reviewed as not impersonation")
    logos: list[Path] = []


class ChannelConfig(_Model):
    type: Literal["email", "wecom", "dingtalk", "feishu", "webhook"]
    # email
    to: list[str] = []
    # bots and webhooks: the URL itself, or the name of an environment variable holding it,
    # because a bot URL is a credential and must not sit in a world-readable file.
    url: str | None = None
    url_env: str | None = None
    secret: str | None = None
    secret_env: str | None = None
    keyword: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ChannelConfig:
        if self.type == "email" and not self.to:
            raise ValueError("email 渠道需要 to（收件人列表）")
        if self.type != "email" and not (self.url or self.url_env):
            raise ValueError(f"{self.type} 渠道需要 url 或 url_env（保存 webhook 地址的环境变量名）")
        return self

    def resolved_url(self) -> str | None:
        if self.url_env:
            return os.environ.get(self.url_env) or self.url
        return self.url

    def resolved_secret(self) -> str | None:
        if self.secret_env:
            return os.environ.get(self.secret_env) or self.secret
        return self.secret


class UnitConfig(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    name: str
    parent: str | None = None
    central: bool = False
    aliases: list[str] = []
    channels: list[ChannelConfig] = []
    policy: Literal["immediate", "digest"] = "immediate"
    digest_at: time = time(9, 0)


class PlatformConfig(_Model):
    enabled: bool = True
    base_url: dict[str, str] | str | None = None
    cookies_file: Path | None = None
    # An HTTP(S) proxy for this platform's crawl process only ("http://user:pass@10.0.0.2:3128").
    proxy: str | None = Field(None, pattern=r"^https?://[^\s/]+/?$")
    rate: float = Field(0.5, gt=0, description="requests per second")
    concurrency: int = Field(1, ge=1, le=16)
    retries: int = Field(3, ge=0, le=10)
    timeout: Duration = 30
    pages: int = Field(3, ge=1, le=50, description="result pages per keyword / timeline")
    browser: bool | None = None
    # A reader's pace (spiders.catalog.Pace); unset: the platform's defaults from the public record.
    interval: float | None = Field(None, ge=0, le=600, description="seconds between requests on average (±50%)")
    per_minute: int | None = Field(None, ge=0, le=600, description="at most this many requests a minute (0: no cap)")
    daily_budget: int | None = Field(None, ge=0, description="at most this many requests a day (0: no budget)")
    visitor_cookies: bool = Field(True, description="without a session, take the visitor cookies the platform "
                                                    "hands a browser before each round (Weibo)")
    sites: list[dict[str, str]] = Field(default_factory=list, description="website: [{id, url, name}]")

    @field_validator("timeout", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)

    def pace(self, platform: str) -> catalog.Pace:
        """The platform's pace: its defaults, each overridden by what the operator set."""
        d = catalog.get(platform).pace
        return catalog.Pace(interval=d.interval if self.interval is None else self.interval,
                            per_minute=d.per_minute if self.per_minute is None else self.per_minute,
                            daily=d.daily if self.daily_budget is None else self.daily_budget)

    def urls(self, platform: str) -> dict[str, str]:
        """Base URLs for the platform, defaults overridden by config.

        A single string overrides every base URL of the platform at once, which is what a
        proxy or a local test server wants.
        """
        urls = dict(catalog.get(platform).base_urls)
        if isinstance(self.base_url, str):
            urls = {k: self.base_url for k in urls} or {"www": self.base_url}
        elif isinstance(self.base_url, dict):
            urls.update(self.base_url)
        return {k: v.rstrip("/") for k, v in urls.items()}


class ScheduleConfig(_Model):
    discover_every: Duration = 6 * 3600
    watch_every: Duration = 3600
    crawl_concurrency: int = Field(2, ge=1, le=8)
    scan_poll: Duration = 5
    sentiment_every: Duration = 600  # keyword and spike analysis of the stored posts
    alerts_every: Duration = 30  # planning and sending alerts
    evidence_every: Duration = 300  # keeping evidence of new findings

    @field_validator("discover_every", "watch_every", "scan_poll", "sentiment_every", "alerts_every",
                     "evidence_every", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)


class CrawlConfig(_Model):
    """Where rounds are crawled. Without ``redis_url`` (the default) each round runs in a crawl
    process beside the daemon; with it, the daemon queues each round's targets in Redis and
    ``watcher worker`` processes on any host crawl them (see :mod:`watcher.distributed`)."""

    redis_url: str | None = None
    # The Redis password is a credential: the name of the variable holding it, in the
    # environment or in ``alerts.credentials_file`` (systemd's credentials.env), rather than in a
    # URL in a world-readable file.
    redis_password_env: str | None = None
    # For rediss://: the CA certificate (PEM) that signed the Redis server's certificate, when it
    # is not one the system trusts (a school's own CA).
    redis_ca_file: Path | None = None
    # This worker's exit address as the platforms see it (a NAT's public IP, a proxy's name):
    # workers sharing one share one daily budget and one pace per platform. Default: the host name.
    exit_address: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    # Several schools' daemons share one Redis: each keeps its queues under its own prefix.
    key_prefix: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    # A worker may serve several schools (the prefixes of their daemons); by default its own.
    serve: list[str] = []
    # A worker silent this long is presumed dead: its targets go back to the queue.
    lease_timeout: Duration = 120
    heartbeat: Duration = 10
    # How long a worker refused by a platform stops taking that platform's targets (doubling
    # while the refusals go on, up to 6 hours); the rest of the fleet carries on.
    worker_cooldown: Duration = 900
    # How long a round waits for a worker serving its platform before it gives up.
    no_worker_timeout: Duration = 300

    @field_validator("lease_timeout", "heartbeat", "worker_cooldown", "no_worker_timeout", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)

    @field_validator("redis_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from urllib.parse import urlsplit

        parts = urlsplit(v.strip())
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise ValueError(f"Redis 地址应形如 redis://主机:6379/0（TLS 用 rediss://，本机套接字用 unix:///路径），"
                             f"而不是 {v!r}")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"Redis 地址中的端口不是 1–65535 的数字：{v!r}") from None
        return v.strip()

    @field_validator("serve")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", p)]
        if bad:
            raise ValueError(f"serve 中的前缀只能由字母、数字、- 和 _ 组成：{', '.join(map(repr, bad))}")
        return v

    @model_validator(mode="after")
    def _needs_prefix(self) -> CrawlConfig:
        if self.redis_url and not self.key_prefix:
            raise ValueError("设置了 redis_url 时必须填写 key_prefix：同一 Redis 上每所学校一个前缀（如 bit），"
                             "守护进程与采集节点用它找到同一组队列")
        if self.heartbeat * 2 > self.lease_timeout:
            raise ValueError(f"heartbeat（{self.heartbeat} 秒）应不超过 lease_timeout（{self.lease_timeout} 秒）的一半，"
                             "否则健康的采集节点也会被当作失联")
        return self

    @property
    def distributed(self) -> bool:
        return bool(self.redis_url)

    # Set by load_config: where relative paths and the credentials file are.
    _credentials: Path | None = PrivateAttr(None)
    _base: Path | None = PrivateAttr(None)

    def redis_password(self) -> str | None:
        """From the environment, else from ``alerts.credentials_file`` (as the alert secrets)."""
        if not self.redis_password_env:
            return None
        return os.environ.get(self.redis_password_env) or _credential_values(self._credentials).get(self.redis_password_env)

    def redis_ca(self) -> str | None:
        if not self.redis_ca_file:
            return None
        p = self.redis_ca_file.expanduser()
        return str(p if p.is_absolute() or self._base is None else (self._base / p).resolve())

    def redis_shown(self) -> str:
        """The Redis URL as logs and messages show it: without its password."""
        return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", self.redis_url or "")

    def prefixes(self) -> list[str]:
        """The schools a worker of this config serves."""
        return list(dict.fromkeys(self.serve or ([self.key_prefix] if self.key_prefix else [])))


class MatchingConfig(_Model):
    suspect_threshold: int = Field(60, ge=0, le=100)
    logo_max_distance: int = Field(10, ge=0, le=64)
    download_avatars: bool = Field(True, description="download discovered accounts' avatars to compare with the logos")


class DeadlineConfig(_Model):
    """When a change to a registered account must have been filed.

    ``working_days_after`` — N working days after the change (BIT 3, HIT 5);
    ``days_after`` — N calendar days (a week = 7); ``working_days_before`` — filed at least N
    working days before the change is made (QZMC).
    """

    mode: Literal["working_days_after", "days_after", "working_days_before"] = "working_days_after"
    days: int = Field(3, ge=0, le=60)


class WatchConfig(_Model):
    filing_deadline: DeadlineConfig = DeadlineConfig()
    dormant_days: int = Field(180, ge=1)
    confirm_deletions: bool = True
    # A post the platform says is private, restricted or under review: its own finding
    # (帖子不可见), or nothing. Never a deletion either way.
    hidden_posts: Literal["finding", "none"] = "finding"
    # Early life: the registered accounts' posts younger than ``early_hours`` are checked one by
    # one every ``early_every`` (most removals come in a post's first hours), within the
    # platform's pace and at most ``early_budget_share`` of its daily request budget. 0: off.
    early_hours: int = Field(6, ge=0, le=72)
    early_every: Duration = 900
    early_budget_share: float = Field(0.3, gt=0, le=1)

    @field_validator("early_every", mode="before")
    @classmethod
    def _early_every(cls, v: Any) -> int:
        return parse_duration(v)
    screenshots: bool = True
    evidence_retention_days: int = Field(365, ge=1)


class PeriodConfig(_Model):
    name: str
    start: date | None = None
    end: date | None = None
    # Yearly ranges such as "06-01".."06-10" recur without editing the file every year.
    yearly_start: str | None = Field(None, pattern=r"^\d{2}-\d{2}$")
    yearly_end: str | None = Field(None, pattern=r"^\d{2}-\d{2}$")
    platforms: list[str] = []
    cadence: Duration = 600
    alert_policy: Literal["immediate", "digest"] = "immediate"
    spike_factor: float = Field(3.0, gt=1)

    @field_validator("cadence", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)

    @model_validator(mode="after")
    def _range(self) -> PeriodConfig:
        fixed = self.start is not None and self.end is not None
        yearly = self.yearly_start is not None and self.yearly_end is not None
        if fixed == yearly:
            raise ValueError("敏感期需要 start/end（具体日期）或 yearly_start/yearly_end（每年 MM-DD）之一")
        if fixed and self.end < self.start:  # type: ignore[operator]
            raise ValueError("end 早于 start")
        return self


class SentimentConfig(_Model):
    keywords: list[str] = []
    negative_words: list[str] = []
    # A rules file (watcher.opinion.rules): keyword groups with +required, !excluded and /regex/,
    # each with a severity and a responsible unit. None: one group of the school's names.
    rules: Path | None = None
    mentions_every: Duration = 3600  # a mentions round (search for the school's names) per platform
    comments_every: Duration = 3 * 3600  # a round over the comments under the registered accounts' recent posts
    # The 舆情日报 to the central unit's e-mail channels at this China time (yesterday's), and the
    # 周报 (the last seven days) on Mondays at the same time; None: no brief is sent.
    brief_at: time | None = time(8, 0)
    weekly_brief: bool = True
    spike_factor: float = Field(3.0, gt=1)
    window: Duration = 3600

    @field_validator("window", "mentions_every", "comments_every", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)


class SmtpConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str = "campus-watcher@localhost"
    timeout: Duration = 30


class AlertsConfig(_Model):
    smtp: SmtpConfig = SmtpConfig()
    base_url: str = Field("http://127.0.0.1:8080", description="review site address used in messages")
    quiet_hours: tuple[time, time] | None = None
    escalate_after_hours: float = Field(24, gt=0)
    max_attempts: int = Field(6, ge=1)
    credentials_file: Path | None = None


def _month_day(value: str) -> str:
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(value).strip())
    try:
        if not m:
            raise ValueError
        date(2001, int(m[1]), int(m[2]))  # a year without 29 February: the date must exist every year
    except ValueError:
        raise ValueError(f"日期 {value!r} 应为“月-日”，如 12-31（不接受 02-29）") from None
    return f"{int(m[1]):02d}-{int(m[2]):02d}"


class AssessWeights(_Model):
    """考核权重：各项指标（按对数归一到 0–100）在总分中的权重，总和须大于 0。"""

    posts: float = Field(0.25, ge=0, description="发帖数")
    followers: float = Field(0.15, ge=0, description="期末粉丝数")
    growth: float = Field(0.15, ge=0, description="粉丝增长")
    reposts: float = Field(0.15, ge=0, description="转发")
    comments: float = Field(0.15, ge=0, description="评论")
    likes: float = Field(0.15, ge=0, description="点赞")

    @model_validator(mode="after")
    def _some_weight(self) -> AssessWeights:
        if sum(self.as_dict().values()) <= 0:
            raise ValueError("考核权重之和必须大于 0")
        return self

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in type(self).model_fields}


class ReviewConfig(_Model):
    """年审与考核（北理工第14条、泉州医专第16–17条）。"""

    notice_on: str = Field("11-20", description="每年发出年审通知的日期（月-日）")
    deadline: str = Field("12-31", description="年审材料提交截止日（月-日）；早于通知日表示次年")
    reminder_weekday: int = Field(1, ge=1, le=7, description="每周催交提醒在星期几（1=周一）")
    report_address: str | None = Field(None, description="公示页上“举报疑似仿冒账号”的网址或邮箱")
    weights: AssessWeights = AssessWeights()
    finding_penalty: float = Field(5, ge=0, le=100, description="考核期内每条问题发现扣分")
    commend_top: int = Field(3, ge=0, le=50, description="表彰名单最多几个单位")
    commend_min_score: float = Field(60, ge=0, le=100, description="表彰所需的最低单位平均分")
    leaderboard_mail: bool = Field(False, description="每周一把上周榜单发给宣传部（central 单位）的邮箱")

    @field_validator("notice_on", "deadline", mode="before")
    @classmethod
    def _md(cls, v: object) -> str:
        return _month_day(str(v))

    @field_validator("report_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if not (re.fullmatch(r"https?://\S+", v) or re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v)):
            raise ValueError(f"举报地址 {v!r} 应为 http(s):// 网址或邮箱地址")
        return v


class LeaderConfig(_Model):
    """A person whose name and title posts must get right (校领导): the current title, and the
    titles the person held before, which a post must no longer give as current."""

    name: str = Field(min_length=2, pattern=r"\S")
    title: str = Field(min_length=1, pattern=r"\S")
    outdated_titles: list[str] = []

    _blank = field_validator("outdated_titles")(_no_blank_names)


class WordListConfig(_Model):
    """A named list of sensitive words or forbidden phrases; the name is what a finding cites."""

    name: str = Field(min_length=1, pattern=r"\S")
    words: list[str] = Field(min_length=1)

    _blank = field_validator("words")(_no_blank_names)


# Hosts a registered account may link to by default (their subdomains too): government and
# university sites and the central news media. The platforms' own hosts and the configured
# websites are always allowed (watcher.compliance.links).
DEFAULT_ALLOWED_HOSTS = ["gov.cn", "edu.cn", "people.com.cn", "xinhuanet.com", "news.cn", "cctv.com", "cctv.cn",
                         "gmw.cn", "youth.cn", "cyol.com", "chinadaily.com.cn", "chinanews.com.cn", "qstheory.cn",
                         "cnr.cn", "china.com.cn", "ce.cn"]


class LinkageConfig(_Model):
    """矩阵联动: how long second-tier accounts have to relay a key story, and when the laggards
    are reminded (once) before that deadline."""

    within: Duration = 24 * 3600
    remind_before: Duration = 6 * 3600
    tiers: list[int] = Field(default_factory=lambda: [2], description="registry tiers expected to relay")
    # A relay later than this after the deadline is not looked for any more.
    late_window: Duration = 7 * 86400

    @field_validator("within", "remind_before", "late_window", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: list[int]) -> list[int]:
        if not v or any(t not in (1, 2, 3) for t in v):
            raise ValueError("tiers 应为 1、2、3 中的一个或几个，如 [2] 或 [2, 3]")
        return v


class ComplianceConfig(_Model):
    """错敏检查 of the registered accounts' new and edited posts (watcher.compliance)."""

    enabled: bool = True
    leaders: list[LeaderConfig] = []
    word_lists: list[WordListConfig] = []
    # Known wrong forms of the school's names (a wrong English name, an invented short form).
    wrong_names: list[str] = []
    # Regular expressions of advertising, added to the built-in ones (加微信, 扫码购买, 代购 …).
    ad_patterns: list[str] = []
    allowed_hosts: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_HOSTS))
    # A post first seen when it is already older than this is not "new": not checked (an edit is).
    lookback_days: int = Field(30, ge=1)
    linkage: LinkageConfig = LinkageConfig()

    _blank = field_validator("wrong_names", "allowed_hosts")(_no_blank_names)

    @field_validator("ad_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for i, p in enumerate(v):
            try:
                re.compile(p)
            except re.error as e:
                raise ValueError(f"第 {i + 1} 个广告模式 {p!r} 不是有效的正则表达式（{e.msg}），请修改或删除") from None
        return v

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        bad = [h for h in v if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", h.strip())]
        if bad:
            raise ValueError(f"allowed_hosts 应为域名（如 bit.edu.cn，不带 http:// 和路径）：{', '.join(map(repr, bad))}")
        return [h.strip().lower() for h in v]
class TakedownConfig(_Model):
    """举报与下架跟踪（投诉材料包、授权书、超期提醒）。"""

    overdue_workdays: int = Field(5, ge=1, le=60, description="举报后超过几个工作日仍未下架，提醒复核员并抄送宣传部")
    signatory: str = Field("", description="授权书落款：签发人姓名与职务，如“张三（党委宣传部部长）”")
    issuer: str = Field("", description="授权书署名单位，默认学校全称")
    contact: str = Field("", description="授权书与投诉正文中的联系人和电话/邮箱")
    seal_image: Path | None = Field(None, description="学校或宣传部公章图片（PNG/JPG，可选），印在授权书落款处")


class WebConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    with_daemon: bool = False
    secret_key_file: Path | None = None
    secure_cookies: bool = False
    # A session ends after this long without a request, and in any case this long after the
    # login, however busy: a cookie left on a shared office computer does not live for days.
    session_idle: Duration = 1800
    session_lifetime: Duration = 12 * 3600
    # The reverse proxies (addresses or networks) whose X-Forwarded-For names the client. None
    # by default: the socket peer is the client, so nobody can pick the address the login
    # throttle counts. Behind nginx on the same host: [127.0.0.1].
    trusted_proxies: list[str] = []

    @field_validator("session_idle", "session_lifetime", mode="before")
    @classmethod
    def _dur(cls, v: Any) -> int:
        return parse_duration(v)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        bad = []
        for item in v:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                bad.append(item)
        if bad:
            raise ValueError(f"受信代理应为 IP 地址或网段（如 127.0.0.1、10.0.0.0/8），而不是 {', '.join(map(repr, bad))}")
        return [item.strip() for item in v]

    @model_validator(mode="after")
    def _idle_within_lifetime(self) -> WebConfig:
        if self.session_idle > self.session_lifetime:
            raise ValueError(f"session_idle（{self.session_idle} 秒）不应超过 session_lifetime"
                             f"（{self.session_lifetime} 秒）")
        return self


class LoggingConfig(_Model):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    file: Path | None = None
    rotation: str = "20 MB"
    retention: str = "30 days"


class Config(_Model):
    school: SchoolConfig
    registry: Path | None = None
    data_dir: Path | None = None
    units: list[UnitConfig] = []
    platforms: dict[str, PlatformConfig] = {}
    schedule: ScheduleConfig = ScheduleConfig()
    crawl: CrawlConfig = CrawlConfig()
    matching: MatchingConfig = MatchingConfig()
    watch: WatchConfig = WatchConfig()
    periods: list[PeriodConfig] = []
    sentiment: SentimentConfig = SentimentConfig()
    alerts: AlertsConfig = AlertsConfig()
    web: WebConfig = WebConfig()
    review: ReviewConfig = ReviewConfig()
    compliance: ComplianceConfig = ComplianceConfig()
    takedown: TakedownConfig = TakedownConfig()
    logging: LoggingConfig = LoggingConfig()
    # Where people read a time (pages, tables, alerts, logs); storage stays UTC.
    timezone: str = timefmt.DEFAULT_ZONE

    # Where the file was read from; set by load_config, not by the file.
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        timefmt.check_zone(v)
        return v

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, v: dict[str, PlatformConfig]) -> dict[str, PlatformConfig]:
        unknown = sorted(set(v) - set(catalog.names()))
        if unknown:
            raise ValueError(f"未知平台 {', '.join(unknown)}；可选：{', '.join(catalog.names())}")
        return v

    @model_validator(mode="after")
    def _units(self) -> Config:
        ids = [u.id for u in self.units]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"units 中 id 重复：{', '.join(dup)}")
        for u in self.units:
            if u.parent and u.parent not in ids:
                raise ValueError(f"单位 {u.id} 的 parent {u.parent!r} 不在 units 中")
        if self.units and not any(u.central for u in self.units):
            raise ValueError("units 中需要一个 central: true 的单位（党委宣传部/全媒体中心），用于兜底告警")
        return self

    # -- helpers used across the code base --------------------------------------------------

    def platform(self, name: str) -> PlatformConfig:
        return self.platforms.get(name) or PlatformConfig()

    def enabled_platforms(self) -> list[str]:
        return [p for p in catalog.names() if p in self.platforms and self.platforms[p].enabled]

    def central_unit(self) -> UnitConfig | None:
        return next((u for u in self.units if u.central), None)

    def unit(self, key: str | None) -> UnitConfig | None:
        """A unit by id, name or alias."""
        if not key:
            return None
        for u in self.units:
            if key in (u.id, u.name) or key in u.aliases:
                return u
        return None

    def resolve_path(self, p: Path | str) -> Path:
        p = Path(p).expanduser()
        if p.is_absolute() or self.source is None:
            return p
        return (self.source.parent / p).resolve()

    @property
    def data_path(self) -> Path:
        if self.data_dir is not None:
            return self.resolve_path(self.data_dir)
        return default_data_dir()

    @property
    def db_path(self) -> Path:
        return self.data_path / "watcher.db"

    @property
    def registry_path(self) -> Path | None:
        return self.resolve_path(self.registry) if self.registry else None


def default_data_dir() -> Path:
    """``$STATE_DIRECTORY`` under systemd, else the XDG data dir of the user."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    if os.environ.get("CAMPUS_WATCHER_DATA"):
        return Path(os.environ["CAMPUS_WATCHER_DATA"])
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "campus-watcher"


DEFAULT_CONFIG_PATHS = (
    Path("/etc/campus-watcher/watcher.yaml"),
    Path("config/watcher.yaml"),
)


class ConfigError(Exception):
    """A config file that cannot be used; ``errors`` holds one line per problem."""

    def __init__(self, path: Path | str, errors: list[str]):
        self.path = Path(path)
        self.errors = errors
        super().__init__(f"{path}: " + "; ".join(errors))

    def render(self) -> str:
        lines = [f"配置文件 {self.path} 有 {len(self.errors)} 处错误："]
        lines += [f"  - {e}" for e in self.errors]
        return "\n".join(lines)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(顶层)"


_PYDANTIC_HINTS = {
    "extra_forbidden": "未知的键（拼写错误？）",
    "missing": "缺少必填项",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数（不能有小数）",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表（[a, b] 或每行“- 项”）",
    "dict_type": "应为键值映射",
    "model_type": "应为键值映射",
    "time_parsing": "应为时间，如 \"09:00\"",
    "time_type": "应为时间，如 \"09:00\"",
    "date_parsing": "应为日期，如 2026-06-01",
    "date_from_datetime_parsing": "应为日期，如 2026-06-01",
    "url_parsing": "应为网址",
}
# Messages that need the constraint from the error's context.
_PYDANTIC_CONTEXT = {
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "string_too_short": "不能为空",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
}


def _explain(err: dict[str, Any]) -> str:
    where = _loc(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
    kind = err.get("type", "")
    msg = _PYDANTIC_HINTS.get(kind, err.get("msg", ""))
    if kind in _PYDANTIC_CONTEXT:
        with contextlib.suppress(KeyError, IndexError):
            msg = _PYDANTIC_CONTEXT[kind].format(**(err.get("ctx") or {}))
    msg = msg.removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if kind in ("missing",) or isinstance(got, dict | list) else f"（实际为 {got!r}）"
    return f"{where}: {msg}{shown}"


def resolve_config_path(path: str | Path | None) -> Path:
    if path:
        return Path(path)
    if os.environ.get("CAMPUS_WATCHER_CONFIG"):
        return Path(os.environ["CAMPUS_WATCHER_CONFIG"])
    for p in DEFAULT_CONFIG_PATHS:
        if p.exists():
            return p
    raise ConfigError(
        DEFAULT_CONFIG_PATHS[0],
        ["找不到配置文件；用 --config 指定，或设置 CAMPUS_WATCHER_CONFIG，"
         "可参照 config/watcher.example.yaml"],
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key written twice in one mapping is an error: the
    second silently replacing the first is how a config edit gets lost."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"键 {key!r} 重复（第 {seen[key] + 1} 行与第 {key_node.start_mark.line + 1} 行），"
                    "后者会覆盖前者；请合并为一处", key_node.start_mark)
            if isinstance(key, str | int | float | bool):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _read_text(p: Path) -> str:
    try:
        data = p.read_bytes()
    except IsADirectoryError as e:
        raise ConfigError(p, ["这是一个目录，不是配置文件"]) from e
    except FileNotFoundError as e:
        raise ConfigError(p, ["文件不存在：请检查路径，或用 --config 指定配置文件（可从 config/watcher.example.yaml "
                              "复制一份再修改）"]) from e
    except PermissionError as e:
        raise ConfigError(p, ["没有权限读取该文件：请检查文件权限，或以服务所用的账号运行（如 sudo -u campus-watcher …）"]) from e
    except OSError as e:
        # the system's own words are English (strerror); the error number is what support needs
        raise ConfigError(p, [f"无法读取该文件（系统错误 {e.errno}）：请检查路径与磁盘"]) from e
    try:
        return data.decode("utf-8-sig")  # a BOM (Windows Notepad) is harmless
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(p, [f"不是 UTF-8 编码（第 {line} 行起无法解码，可能是用 GBK 保存的）；"
                              f"请另存为 UTF-8，例如：iconv -f GBK -t UTF-8 {p} -o {p}.utf8"]) from e


# PyYAML's problems, as the person editing the file needs them (its own words are English).
_YAML_PROBLEMS = [
    ("found character '\\t'", "含有制表符（Tab），YAML 只能用空格缩进"),
    ("mapping values are not allowed", "此处不能出现“键: 值”：可能是缩进不对，或值里有未加引号的冒号（请给值加引号）"),
    ("could not find expected ':'", "缺少冒号“:”（写作 键: 值）"),
    ("expected <block end>", "缩进不一致：同一层的键应对齐"),
    ("did not find expected key", "缩进不一致或缺少键"),
    ("did not find expected '-'", "列表项缩进不一致（每项以“- ”开头并对齐）"),
    ("found unexpected end of stream", "引号或括号没有闭合（文件在此结束）"),
    ("found unexpected ':'", "值里有未加引号的冒号，请给值加引号"),
    ("expected the node content", "缺少值（文件不完整，或列表/映射没有写完）"),
    ("expected ',' or ']'", "方括号列表没有闭合，或项之间缺少逗号"),
    ("expected ',' or '}'", "花括号映射没有闭合，或项之间缺少逗号"),
    ("found undefined alias", "引用了未定义的锚点（*名称）"),
    ("found duplicate anchor", "锚点（&名称）重复定义"),
    ("expected escape sequence", "双引号字符串中有无效的转义（\\），Windows 路径请用单引号"),
    ("found unknown escape character", "双引号字符串中有无效的转义（\\），Windows 路径请用单引号"),
]


def yaml_problem(text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        return text  # our own loader's words (a key written twice)
    for needle, words in _YAML_PROBLEMS:
        if needle in text:
            return words
    return "格式不正确，请检查该处的缩进、冒号与引号"


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the config; raises ConfigError listing every problem."""
    p = resolve_config_path(path)
    text = _read_text(p)
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "某处"
        raise ConfigError(p, [f"YAML 语法错误（{where}）：{yaml_problem(str(getattr(e, 'problem', '') or e))}"]) from e
    if not isinstance(raw, dict):
        raise ConfigError(p, ["顶层应为键值映射（school:, units:, platforms: …）"])
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(p, [_explain(err) for err in e.errors()]) from e
    cfg.source = p.resolve()
    timefmt.set_zone(cfg.timezone)
    problems = []
    for i, logo in enumerate(cfg.school.logos):
        if not cfg.resolve_path(logo).is_file():
            problems.append(f"school.logos[{i}]: 文件不存在：{cfg.resolve_path(logo)}")
        elif (why := _not_an_image(cfg.resolve_path(logo))) is not None:
            problems.append(f"school.logos[{i}]: 不是可读取的图片（{why}）：{cfg.resolve_path(logo)}")
    creds = cfg.alerts.credentials_file
    cfg.crawl._credentials = cfg.resolve_path(creds) if creds else None
    cfg.crawl._base = cfg.source.parent
    if cfg.crawl.redis_ca_file and not Path(cfg.crawl.redis_ca() or "").is_file():
        problems.append(f"crawl.redis_ca_file: 文件不存在：{cfg.crawl.redis_ca()}（rediss:// 所用 CA 证书，PEM 格式）")
    if creds and not cfg.resolve_path(creds).is_file():
        problems.append(f"alerts.credentials_file: 文件不存在：{cfg.resolve_path(creds)}")
    if cfg.registry and not cfg.resolve_path(cfg.registry).is_file():
        problems.append(f"registry: 文件不存在：{cfg.resolve_path(cfg.registry)}")
    for name, pc in cfg.platforms.items():
        if pc.cookies_file and not cfg.resolve_path(pc.cookies_file).is_file():
            problems.append(f"platforms.{name}.cookies_file: 文件不存在：{cfg.resolve_path(pc.cookies_file)}")
    if cfg.sentiment.rules:
        try:
            load_rules(cfg.resolve_path(cfg.sentiment.rules))
        except RuleError as e:
            problems.append(f"sentiment.rules: {e}")
    if problems:
        raise ConfigError(p, problems)
    return cfg


def _not_an_image(path: Path) -> str | None:
    """Why the file cannot serve as a logo, or None when it is an image Pillow can read."""
    from PIL import Image, UnidentifiedImageError

    from watcher.cleaning import printable

    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        # Operators read this (check-config): Chinese, never Pillow's class name.
        return "文件内容不是 PNG、JPEG 等图片格式" if isinstance(e, UnidentifiedImageError) else printable(str(e))[:120] or "图片已损坏"
    return None


def _credential_values(path: Path | None) -> dict[str, str]:
    """A credentials file's ``KEY=value`` lines (as alerts.secrets and systemd's EnvironmentFile
    read them); empty when there is none. Whoever uses a value hides it in logs."""
    if path is None or not path.is_file():
        return {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    out = {}
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def _credential_names(path: Path | None) -> set[str]:
    """The names a credentials file (``KEY=value`` lines) defines; their values are not kept."""
    if path is None or not path.is_file():
        return set()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    return {line.split("=", 1)[0].strip() for line in lines
            if "=" in line and not line.strip().startswith("#") and line.split("=", 1)[1].strip()}


def secret_problems(cfg: Config) -> list[str]:
    """Secrets the config names (``url_env``, ``secret_env``, ``password_env``) that neither the
    environment nor the credentials file provides: the channel could never send. Checked by
    ``watcher check-config`` and logged by the daemon at start, not by every command (an
    operator's shell rarely holds the service's secrets)."""
    known = _credential_names(cfg.resolve_path(cfg.alerts.credentials_file) if cfg.alerts.credentials_file else None)

    def missing(name: str | None, fallback: str | None = None) -> bool:
        return bool(name) and not os.environ.get(name or "") and name not in known and not fallback

    where = (f"环境变量中没有，凭据文件 {cfg.resolve_path(cfg.alerts.credentials_file)} 中也没有"
             if cfg.alerts.credentials_file else "环境变量中没有（也未配置 alerts.credentials_file）")
    problems = []
    for i, unit in enumerate(cfg.units):
        for j, ch in enumerate(unit.channels):
            for key, fallback in (("url_env", ch.url), ("secret_env", ch.secret)):
                name = getattr(ch, key)
                if missing(name, fallback):
                    problems.append(f"units[{i}].channels[{j}].{key}: {name} 未设置（{where}）")
    smtp = cfg.alerts.smtp
    if missing(smtp.password_env):
        problems.append(f"alerts.smtp.password_env: {smtp.password_env} 未设置（{where}）")
    if cfg.crawl.redis_url and missing(cfg.crawl.redis_password_env):
        problems.append(f"crawl.redis_password_env: {cfg.crawl.redis_password_env} 未设置（{where}）："
                        "监测服务与采集节点将无法登录 Redis")
    return problems


def inline_secrets(cfg: Config) -> list[str]:
    """Where the config file itself holds a credential (a bot URL or signing secret, a password
    in the Redis or proxy address), each as its key path and what it is."""
    from urllib.parse import urlsplit

    found = []
    for i, unit in enumerate(cfg.units):
        for j, ch in enumerate(unit.channels):
            if ch.url and ch.type != "email":
                found.append(f"units[{i}].channels[{j}].url（{ch.type} 地址中含访问令牌，应改用 url_env）")
            if ch.secret:
                found.append(f"units[{i}].channels[{j}].secret（加签密钥，应改用 secret_env）")
    if cfg.crawl.redis_url and urlsplit(cfg.crawl.redis_url).password:
        found.append("crawl.redis_url（地址中含 Redis 密码，应改用 redis_password_env）")
    for name, pc in cfg.platforms.items():
        if pc.proxy and urlsplit(pc.proxy).password:
            found.append(f"platforms.{name}.proxy（代理地址中含密码）")
    return found


def secret_warnings(cfg: Config) -> list[str]:
    """Credentials readable by other users of the machine: written inline in a config file that
    group or others may read, or in a credentials file that is. Warnings (the service works),
    printed by ``watcher check-config`` and logged by the daemon at start."""
    warnings = []

    def loose(path: Path) -> int | None:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            return None
        return mode if mode & 0o077 else None

    found = inline_secrets(cfg)
    if found and cfg.source and (mode := loose(cfg.source)) is not None:
        warnings.append(f"配置文件 {cfg.source} 的权限为 {mode:o}（同组或其他用户可读），其中直接写有凭据："
                        + "；".join(found)
                        + f"。请把凭据移到环境变量或凭据文件（alerts.credentials_file，KEY=值 每行一项，chmod 600）中、"
                          f"在配置中只写其名称（url_env、secret_env、password_env、redis_password_env），"
                          f"并执行 chmod 600 {cfg.source}")
    creds = cfg.resolve_path(cfg.alerts.credentials_file) if cfg.alerts.credentials_file else None
    if creds and (mode := loose(creds)) is not None:
        warnings.append(f"凭据文件 {creds} 的权限为 {mode:o}（同组或其他用户可读）；请执行 chmod 600 {creds}")
    return warnings


def summarize(cfg: Config) -> str:
    """A human summary for ``watcher check-config``."""
    n = cfg.school.names
    lines = [
        f"学校：{cfg.school.name}",
        f"  保护名称：全称 {len(n.full)}，简称 {len(n.short)}，英文 {len(n.english)}，"
        f"曾用名 {len(n.historical)}，校训/标识 {len(n.marks)}；他校相似名 {len(cfg.school.others)}；校徽 {len(cfg.school.logos)}",
        f"备案台账：{cfg.registry_path or '（未配置）'}",
        f"数据目录：{cfg.data_path}",
        f"单位：{len(cfg.units)} 个（兜底：{cfg.central_unit().name if cfg.central_unit() else '无'}）",
        f"启用平台：{', '.join(catalog.label(p) for p in cfg.enabled_platforms()) or '无'}",
        f"敏感期：{len(cfg.periods)} 个",
    ]
    return "\n".join(lines)
