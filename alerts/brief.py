"""Sends the sentiment brief (舆情日报, and on Mondays the 周报) to the central unit's e-mail
channels: HTML body with the chart, XLSX attached. Each brief is written to the data dir and
sent once: a ``.sent`` marker beside it records the channels that accepted it, so a restart or
a second run does not send it again, and a channel that failed is tried again next time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loguru import logger

from alerts.channels import DeliveryError, Outgoing, Sender
from alerts.dispatch import channel_key
from alerts.secrets import Credentials
from watcher.config import Config
from watcher.opinion import brief as briefs
from watcher.schedule import ScheduledJob
from watcher.store import Store
from watcher.timefmt import zone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def due(today: date, weekly: bool) -> list[tuple[str, date, date]]:
    """The briefs due on ``today`` (China time): yesterday's, and last week's on a Monday."""
    out = [("daily", today - timedelta(days=1), today - timedelta(days=1))]
    if weekly and today.weekday() == 0:
        out.append(("weekly", today - timedelta(days=7), today - timedelta(days=1)))
    return out


def send_due(cfg: Config, store: Store, now: datetime, sender: Sender | None = None) -> list[Path]:
    """Build, write and send the briefs due now; returns the HTML files written."""
    central = cfg.central_unit()
    channels = [(i, ch) for i, ch in enumerate(central.channels) if ch.type == "email"] if central else []
    if not channels:
        logger.warning("没有兜底单位的邮件渠道，舆情日报只写入文件，不发送")
    sender = sender or Sender(cfg.alerts.smtp, Credentials(cfg.resolve_path(cfg.alerts.credentials_file)
                                                           if cfg.alerts.credentials_file else None))
    written = []
    for kind, start, end in due(now.astimezone(zone()).date(), cfg.sentiment.weekly_brief):
        b = briefs.build(store, start, end, kind)
        html_path, xlsx_path = briefs.write_files(b, cfg, cfg.data_path / "briefs")
        written.append(html_path)
        marker = html_path.with_suffix(".sent")
        sent = set(marker.read_text(encoding="utf-8").split()) if marker.exists() else set()
        msg = Outgoing(title=f"{cfg.school.name}{b.title}", text=briefs.render_text(b, cfg),
                       html=html_path.read_text(encoding="utf-8"),
                       attachments=((xlsx_path.name, xlsx_path.read_bytes(), XLSX),))
        for i, ch in channels:
            key = channel_key(central, i)  # type: ignore[arg-type]
            if key in sent:
                continue
            try:
                sender.send(ch, msg)
            except DeliveryError as e:
                logger.warning("舆情{}发送失败（{}），下次重试：{}", b.title, key, e)
                continue
            sent.add(key)
            marker.write_text("\n".join(sorted(sent)), encoding="utf-8")
    return written


def _job(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        send_due(cfg, store, datetime.now(UTC))


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    at = cfg.sentiment.brief_at
    if at is None:
        return []
    return [ScheduledJob(id="sentiment_brief", func=_job, cron={"hour": at.hour, "minute": at.minute},
                         description="舆情日报/周报")]
