"""Mail the daemon sends about the annual review and the leaderboards.

- 年审通知: from ``review.notice_on`` (late November) each unit receives, once, the list of its
  accounts to review and the deadline (``review.deadline``).
- 催交提醒: every week on ``review.reminder_weekday`` after the notice, until four weeks past
  the deadline, each unit that still has accounts without material (未提交) is reminded.
- 周榜: with ``review.leaderboard_mail``, every Monday the central unit receives last week's board.

Mail goes through the alert channels' sender (alerts.channels), to the unit's e-mail channels; a
unit without one is written to through the central unit, so the notice is never silently lost.
Each mail is recorded (``review_reminders``) and not sent again after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from loguru import logger

from alerts.channels import DeliveryError, Outgoing, Sender
from alerts.secrets import Credentials
from spiders import catalog
from watcher import registry
from watcher.config import ChannelConfig, Config
from watcher.reports import calendar, influence
from watcher.schedule import ScheduledJob
from watcher.store import Store, reviews
from watcher.store.registry import RegistryAccount
from watcher.timefmt import local_today

GRACE = timedelta(days=28)  # weekly reminders go on this long after the deadline


def _sender(cfg: Config) -> Sender:
    cred = cfg.resolve_path(cfg.alerts.credentials_file) if cfg.alerts.credentials_file else None
    return Sender(cfg.alerts.smtp, Credentials(cred))


def _mailboxes(cfg: Config, unit: str) -> tuple[list[ChannelConfig], str | None]:
    """The unit's e-mail channels, or the central unit's with a note saying for whom."""
    u = cfg.unit(unit)
    own = [c for c in (u.channels if u else []) if c.type == "email"]
    if own:
        return own, None
    central = cfg.central_unit()
    via = [c for c in (central.channels if central else []) if c.type == "email"]
    return via, f"（{unit}未配置邮箱，本通知发至{central.name if central else '宣传部'}，请转交）"


def _accounts_text(rows: list[RegistryAccount], statuses: dict[int, reviews.Review]) -> list[str]:
    out = []
    for r in rows:
        rv = statuses.get(r.id)
        out.append(f"  - {catalog.label(r.platform)}「{r.account_name}」（{r.account_id}）："
                   f"{rv.label if rv else '未提交'}")
    return out


def _send(cfg: Config, store: Store, sender: Sender, kind: str, unit: str, year: int, period: str,
          title: str, lines: list[str]) -> bool:
    if reviews.reminder_sent(store, kind, unit, year, period):
        return False
    channels, note = _mailboxes(cfg, unit)
    if not channels:
        logger.warning("{}：{} 没有可用的邮箱（本单位和宣传部均未配置 email 渠道），未发送", title, unit)
        return False
    text = "\n".join([*([note] if note else []), *lines])
    results = []
    for ch in channels:
        try:
            results.append(sender.send(ch, Outgoing(title=title, text=text)))
        except DeliveryError as e:
            logger.warning("{} 发送给 {} 失败：{}", title, unit, e)
            return False  # not recorded: the next run tries again
    reviews.record_reminder(store, kind, unit, year, period, "；".join(results))
    return True


def _by_unit(store: Store) -> dict[str, list[RegistryAccount]]:
    units: dict[str, list[RegistryAccount]] = {}
    for r in registry.active_accounts(store):
        units.setdefault(r.unit, []).append(r)
    return units


def review_mail(cfg: Config, store: Store, today: date, sender: Sender | None = None) -> dict[str, int]:
    """Send what is due today; returns how many notices and reminders went out."""
    year = calendar.review_year(cfg, today)
    notice, deadline = calendar.notice_date(cfg, year), calendar.deadline(cfg, year)
    counts = {"notices": 0, "reminders": 0}
    if not notice <= today <= deadline + GRACE:
        return counts
    sender = sender or _sender(cfg)
    statuses = reviews.reviews_for_year(store, year)
    for unit, rows in sorted(_by_unit(store).items()):
        if today <= deadline:
            lines = [f"{unit}：", f"{year} 年度新媒体账号年审已开始，请于 {deadline.isoformat()} 前对以下 {len(rows)} 个账号"
                     "自查并提交年审材料（手续是否完备、制度是否健全、发布是否准确及时、有无重大差错）：",
                     *_accounts_text(rows, statuses), "", "长期未更新、无人维护的账号请申请注销。"]
            counts["notices"] += _send(cfg, store, sender, "notice", unit, year, "notice",
                                       f"【年审通知】{unit} {year} 年度新媒体账号年审（截止 {deadline.isoformat()}）",
                                       lines)
        pending = [r for r in rows if (rv := statuses.get(r.id)) is None or rv.status == "pending"]
        if (pending and today.isoweekday() == cfg.review.reminder_weekday and today >= notice + timedelta(days=7)):
            week = f"{today.isocalendar().year}-W{today.isocalendar().week:02d}"
            late = "已逾期" if today > deadline else f"截止 {deadline.isoformat()}"
            lines = [f"{unit}：", f"以下 {len(pending)} 个账号尚未提交 {year} 年度年审材料（{late}），请尽快提交：",
                     *_accounts_text(pending, statuses),
                     "", "逾期未提交的单位将在学校新媒体账号公示平台上标注，并督促暂停或关闭相关账号。"]
            counts["reminders"] += _send(cfg, store, sender, "reminder", unit, year, week,
                                         f"【年审催交】{unit} 尚有 {len(pending)} 个账号未提交 {year} 年度年审材料", lines)
    return counts


def leaderboard_mail(cfg: Config, store: Store, today: date, sender: Sender | None = None) -> bool:
    """Monday: last week's board to the central unit (when ``review.leaderboard_mail``)."""
    central = cfg.central_unit()
    if not cfg.review.leaderboard_mail or central is None or today.isoweekday() != 1:
        return False
    board = influence.build(cfg, store, "week", today)
    return _send(cfg, store, sender or _sender(cfg), "leaderboard", central.name, board.period.first.year,
                 board.period.first.isoformat(), board.title, [influence.summary_text(board, cfg.alerts.base_url)])


def _daily(cfg: Config, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    today = local_today(now())
    with Store.open(cfg.db_path) as store:
        review_mail(cfg, store, today)
        leaderboard_mail(cfg, store, today)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    if not cfg.units:
        return []
    return [ScheduledJob(id="review-mail", func=_daily, cron={"hour": 9, "minute": 5},
                         description="年审通知、催交提醒与周榜邮件（每天 9:05 检查）")]
