"""Findings: what analysis concluded and a person should see, one constructor per kind.

A finding is identified by a ``dedupe_key`` that names *what* it is about (``impersonation:
weibo:123``, ``deletion:weibo:4890``). Recording the same thing again is a no-op; recording it
with different content (a new name, a new reason) bumps ``revision``, which is what alerting
keys on to send a changed finding again and never an unchanged one. Only what a reviewer acts
on makes a new revision (``watcher.store.fingerprint``).

Each kind's constructor below is the one place that words its title, shapes its details and
forms its dedupe key; analysis calls it and hands the result to ``watcher.store.findings.record``.
Changing a title or a detail here changes the fingerprint of every such finding: it is sent again.
"""

from __future__ import annotations

import hashlib
import statistics
from typing import Any, Literal

from spiders import catalog
from spiders.items import GONE_CAUSES
from watcher.store.accounts import Account
from watcher.store.findings import (
    OPEN_STATUSES,
    Finding,
    FindingInput,
    Recorded,
    Severity,
    record,
    set_status,
)
from watcher.store.mentions import Cluster
from watcher.store.posts import TimelinePost

# record and set_status are re-exported: the sessions that file findings of their own kinds
# (e.g. 登录失效) import them from here.
__all__ = ["KIND_LABELS", "OPEN_STATUSES", "STATUS_LABELS", "FindingInput", "Recorded", "record", "set_status"]

Kind = Literal[
    "impersonation",
    "deletion",
    "post_hidden",
    "edit",
    "profile_change",
    "unfiled_change",
    "account_gone",
    "dormant",
    "sentiment",
    "sentiment_spike",
    "crawl_blocked",
    "session_lapsed",
    "compliance",
    "linkage_reminder",
    "takedown_overdue",
]

KIND_LABELS: dict[str, str] = {
    "impersonation": "疑似仿冒账号",
    "deletion": "删帖",
    "post_hidden": "帖子不可见（仅自己可见/受限/审核中）",
    "edit": "帖子被修改",
    "profile_change": "账号资料变更",
    "unfiled_change": "变更未按时备案",
    "account_gone": "账号消失/被封/改名",
    "dormant": "僵尸账号（长期未更新）",
    "sentiment": "舆情关注",
    "sentiment_spike": "舆情激增",
    "crawl_blocked": "平台采集受阻",
    "session_lapsed": "登录失效",
    "compliance": "错敏内容",
    "linkage_reminder": "矩阵联动提醒",
    "takedown_overdue": "举报超期未下架",
}

STATUS_LABELS: dict[str, str] = {
    "open": "待处理",
    "confirmed": "已确认仿冒",
    "false_positive": "误报",
    "reported": "已向平台举报",
    "resolved": "已解决",
}



# -- one constructor per kind ---------------------------------------------------------------------


def impersonation(account: Account, *, verdict_unit: str | None, reasons: list[str], score: int,
                  matched: str | None, office: str | None, algo: str, avatar: str | None,
                  run_id: int | None) -> FindingInput:
    """A discovered account the matcher judged a suspect."""
    platform, account_id = account.platform, account.account_id
    return FindingInput(
        kind="impersonation", dedupe_key=f"impersonation:{platform}:{account_id}",
        title=f"疑似仿冒：{catalog.label(platform)}「{account.name}」", severity="warning",
        platform=platform, account_id=account_id, account_name=account.name, unit=verdict_unit,
        # followers, avatar_url and the exact score are shown but never make a new revision
        # (watcher.store.fingerprint.acted_on); the avatar counts by its upload (``avatar``).
        details={"reasons": reasons, "score": score, "matched": matched, "office": office, "algo": algo,
                 "bio": account.bio, "profile_url": account.profile_url,
                 "avatar_url": account.avatar_url, "avatar": avatar, "followers": account.followers,
                 "verified": account.verified, "verified_reason": account.verified_reason},
        crawl_run_id=run_id)


def account_gone(platform: str, account_id: str, name: str, unit: str | None, *, tier: int | None,
                 since: str, run_id: int | None) -> FindingInput:
    """A registered account the platform says no longer exists."""
    return FindingInput(
        kind="account_gone", dedupe_key=f"account_gone:{platform}:{account_id}",
        title=f"{catalog.label(platform)}账号「{name}」已无法访问（删除、封禁或注销）",
        severity="critical" if tier == 1 else "warning",
        platform=platform, account_id=account_id, account_name=name, unit=unit,
        details={"reasons": ["平台返回账号不存在"], "since": since}, crawl_run_id=run_id)


def profile_change(platform: str, account_id: str, *, old_name: str, new_name: str, unit: str | None, column: str,
                   identity_digest: str, field: str, label: str, old: Any, new: Any, changed_on: str,
                   reasons: list[str], extra: dict[str, Any], run_id: int | None) -> FindingInput:
    """One profile field of a watched account changed (``identity_digest`` names the new value,
    so changing it again is another finding)."""
    return FindingInput(
        kind="profile_change", dedupe_key=f"profile_change:{platform}:{account_id}:{column}:{identity_digest}",
        title=f"{catalog.label(platform)}账号「{old_name}」{label}变更", severity="warning",
        platform=platform, account_id=account_id, account_name=new_name, unit=unit, crawl_run_id=run_id,
        details={"field": field, "label": label, "old": old, "new": new, "changed_on": changed_on,
                 "registered": unit is not None, "reasons": reasons, **extra})


def edit(platform: str, account_id: str, name: str, unit: str | None, *, post_id: str, text_sha256: str,
         url: str | None, old_text: str, new_text: str, diff: str, created_at: str | None,
         run_id: int | None) -> FindingInput:
    """A post's text differs from the version last analysed."""
    return FindingInput(
        kind="edit", dedupe_key=f"edit:{platform}:{post_id}:{text_sha256[:12]}",
        title=f"{catalog.label(platform)}账号「{name}」的帖子被修改", severity="warning",
        platform=platform, account_id=account_id, account_name=name, unit=unit, crawl_run_id=run_id,
        details={"post_id": post_id, "url": url, "old_text": old_text, "new_text": new_text, "diff": diff,
                 "created_at": created_at, "reasons": ["帖子正文与上次分析时不同"]})


def deletion(platform: str, account_id: str, name: str, unit: str | None, *, post: TimelinePost,
             confirmed_at: str, in_period: bool, reason: str, cause: str | None = None, said: str | None = None,
             tier: int | None = None) -> FindingInput:
    """A post the platform confirmed deleted; ``cause`` is who deleted it, as the platform said
    (author_deleted, platform_removed, unknown; None: recorded before causes were read).

    Severity follows the cause: the platform removing a tier-1 account's post, or any deletion
    in a sensitive period, is critical; the platform removing any other post, or a deletion whose
    cause the platform does not say, a warning; the author deleting their own post is routine
    (info) outside sensitive periods."""
    label = catalog.label(platform)
    if cause == "platform_removed":
        title = f"{label}账号「{name}」的帖子被平台删除或屏蔽"
        severity = "critical" if in_period or tier == 1 else "warning"
    elif cause == "unknown":
        title = f"{label}账号「{name}」的帖子已被删除（原因未知）"
        severity = "critical" if in_period else "warning"
    else:
        title = f"{label}账号「{name}」删除了帖子"
        severity = "critical" if in_period else ("info" if cause == "author_deleted" else "warning")
    reasons = [reason]
    if cause is not None:
        reasons.append(f"删除原因：{GONE_CAUSES.get(cause, cause)}" + (f"（平台答复：{said}）" if said else ""))
    return FindingInput(
        kind="deletion", dedupe_key=f"deletion:{platform}:{post.post_id}",
        title=title, severity=severity,
        platform=platform, account_id=account_id, account_name=name, unit=unit,
        details={"post_id": post.post_id, "url": post.url, "text": post.text, "created_at": post.created_at,
                 "last_seen": post.last_seen, "first_missed": post.missing_since, "confirmed_at": confirmed_at,
                 "in_sensitive_period": in_period, "reasons": reasons,
                 **({"cause": cause, "cause_label": GONE_CAUSES.get(cause, cause), "platform_said": said}
                    if cause is not None else {})})


def post_hidden(platform: str, account_id: str, name: str, unit: str | None, *, post: TimelinePost, cause: str,
                said: str | None, checked_at: str, reason: str) -> FindingInput:
    """A post the platform says still exists but readers cannot see: private or restricted
    (仅自己可见或受限) or under review (审核中). Never a deletion; one finding per post and cause."""
    what = GONE_CAUSES.get(cause, cause)
    return FindingInput(
        kind="post_hidden", dedupe_key=f"post_hidden:{platform}:{post.post_id}:{cause}",
        title=f"{catalog.label(platform)}账号「{name}」的帖子不可见（{what}）", severity="info",
        platform=platform, account_id=account_id, account_name=name, unit=unit,
        details={"post_id": post.post_id, "url": post.url, "text": post.text, "created_at": post.created_at,
                 "last_seen": post.last_seen, "checked_at": checked_at, "cause": cause, "cause_label": what,
                 "platform_said": said,
                 "reasons": [reason, f"不可见原因：{what}" + (f"（平台答复：{said}）" if said else "")]})


def unfiled_change(change: Finding, unit: str | None, *, deadline: str, rule: str,
                   today: str) -> FindingInput:
    """A profile change (``change``: its finding) not filed by the deadline."""
    d = change.details
    return FindingInput(
        kind="unfiled_change", dedupe_key=f"unfiled:{change.dedupe_key}",
        title=f"{catalog.label(change.platform)}账号「{change.account_name}」{d.get('label', d.get('field'))}变更未按时备案",
        severity="warning", platform=change.platform, account_id=change.account_id,
        account_name=change.account_name, unit=unit,
        details={"field": d.get("field"), "old": d.get("old"), "new": d.get("new"), "changed_on": d["changed_on"],
                 "deadline": deadline, "rule": rule, "change_finding": change.id,
                 "reasons": [f"{d['changed_on']} 发现{d.get('label', '')}变更，应于 {deadline} 前完成变更备案，"
                             f"至 {today} 仍无备案记录"]})


def dormant(platform: str, account_id: str, name: str, unit: str | None, *, last_post: str, last_day: str,
            idle: int, days: int) -> FindingInput:
    """A registered account with no post for more than ``days`` days (``idle``: days since
    ``last_day``, the local day of its last post, at detection)."""
    return FindingInput(
        kind="dormant", dedupe_key=f"dormant:{platform}:{account_id}",
        title=f"{catalog.label(platform)}账号「{name}」超过 {days} 天未更新",
        severity="info", platform=platform, account_id=account_id, account_name=name, unit=unit,
        details={"last_post": last_post, "idle_days_at_detection": idle, "threshold_days": days,
                 "reasons": [f"最近一条帖子发布于 {last_day}，已 {idle} 天未更新（超过 {days} 天即为僵尸账号）"]})


def sentiment(cluster: Cluster, *, severity: Severity, unit: str | None, spike: list[int] | None,
              window_seconds: int, lexicon: str, algorithm: str, groups: list[str] | None = None,
              top_posts: list[dict] | None = None) -> FindingInput:
    """One incident (``cluster``: mentions of the school that are near-duplicates of each other)
    that reads negative or made its rule group spike (``spike``: the group's window counts).
    ``severity`` and ``unit`` are the rule group's; a spike is always critical. A cluster that is
    a spike without reading negative is recorded as kind ``sentiment_spike``; either way it keeps
    one dedupe key, so a cluster is one finding whose revisions follow it."""
    snippet = cluster.representative.replace("\n", " ")[:40]
    what = "舆情激增" if spike is not None else "舆情关注"
    reasons = [cluster.reason or ""]
    if spike is not None:
        reasons.append(_spike_reason(window_seconds, spike))
    # The other groups this incident made spike: shown (alerts.messages), not part of the
    # revision, since a second group crossing its threshold later is the same incident.
    carried = [g for g in groups or [] if g != cluster.group_name] if spike is not None else []
    return FindingInput(
        kind="sentiment_spike" if spike is not None and not cluster.negative else "sentiment",
        dedupe_key=f"sentiment:cluster:{cluster.id}",
        title=f"{what}（{cluster.group_name}）：{snippet}",
        severity="critical" if spike is not None else severity,
        platform=cluster.platforms[0] if len(cluster.platforms) == 1 else None,
        unit=unit,
        details={"cluster_id": cluster.id, "group": cluster.group_name, "text": cluster.representative[:500],
                 "url": cluster.url, "negative": cluster.negative, "score": cluster.score,
                 "reasons": [r for r in reasons if r], "lexicon": lexicon, "algorithm": algorithm,
                 "cluster_size": cluster.size, "cluster_platforms": cluster.platforms,
                 "cluster_first_seen": cluster.first_seen, "cluster_last_seen": cluster.last_seen,
                 "window_counts": spike, "cluster_path": f"/sentiment/clusters/{cluster.id}",
                 "carried_groups": carried,
                 "top_posts": top_posts or []},
    )


def sentiment_spike(group: str, *, episode: str, counts: list[int], first_counts: list[int],
                    window_seconds: int, unit: str | None, top_posts: list[dict] | None = None) -> FindingInput:
    """Mentions matching rule ``group`` jumped and no single cluster explains it: one finding per
    spike episode (``episode``: when it was first seen), whatever the counts do afterwards. The
    counts stay out of the title and of what makes a revision (``first_counts`` are the counts
    when the spike was first seen, fixed; ``window_counts`` the latest, shown, never re-sent): a
    spike growing or falling is the same spike, and a reviewer's decision on it holds."""
    return FindingInput(
        kind="sentiment_spike",
        dedupe_key=f"sentiment_spike:{group}:{episode}",
        title=f"舆情激增（{group}）",
        severity="critical",
        unit=unit,
        details={"group": group, "episode": episode, "window_counts": counts, "window_seconds": window_seconds,
                 "reasons": [_spike_reason(window_seconds, first_counts)], "top_posts": top_posts or []},
    )


def _spike_reason(window_seconds: int, counts: list[int]) -> str:
    median = statistics.median(counts[:-1])
    return (f"最近 {window_seconds // 60} 分钟提及 {counts[-1]} 条，为此前 {len(counts) - 1} 个窗口中位数 "
            f"{median} 的 {counts[-1] / max(median, 1):.1f} 倍")


def crawl_blocked(platform: str, *, trouble: str, since: str, title: str, reason: str,
                  remedy: str) -> FindingInput:
    """One episode of a platform refusing us, failing or unreachable: its content stays the same
    while the episode lasts, so it is sent once."""
    return FindingInput(
        kind="crawl_blocked", dedupe_key=f"crawl_blocked:{platform}:{trouble}:{since}",
        title=f"{catalog.label(platform)}{title}", severity="warning", platform=platform,
        # ``reasons`` is what an alert and the review site list: the advice goes there too.
        details={"reasons": [reason, f"处理建议：{remedy}"], "since": since, "status": trouble, "remedy": remedy})


def session_lapsed(platform: str, *, saved_at: str | None, unit: str | None, signal: str, age: str, loses: str,
                   remedy: str, since: str, host: str | None = None) -> FindingInput:
    """A platform's login session stopped working: one finding per saved session (``saved_at``),
    whose content is fixed when the lapse is first seen, so it is sent once. ``host``: the
    collection host whose session it is (fleet mode, each host has its own)."""
    label = catalog.label(platform)
    where = f"（采集主机 {host}）" if host else ""
    return FindingInput(
        kind="session_lapsed",
        dedupe_key=f"session_lapsed:{platform}:{saved_at or 'cookies_file'}" + (f":{host}" if host else ""),
        title=f"{label}登录失效{where}", severity="warning", platform=platform, unit=unit,
        # ``reasons`` is what an alert lists; the rest is for the review site.
        details={"reasons": [f"{'采集主机 ' + host + ' 的' if host else ''}登录会话已失效（{signal}），会话已使用 {age}",
                             f"受影响的采集：{loses}", f"续期方法：{remedy}"],
                 "platform": label, "session_age": age, "saved_at": saved_at, "since": since,
                 "signal": signal, "loses": loses, "remedy": remedy, **({"host": host} if host else {})})


def compliance(platform: str, account_id: str, name: str, unit: str | None, *, post_id: str, url: str | None,
               check: str, check_label: str, passage: str, before: str, after: str, reason: str,
               text_sha256: str, created_at: str | None, edited: bool, run_id: int | None) -> FindingInput:
    """One problem (``check``: school_name, leader, word_list, advertising, link) in a registered
    account's post: ``passage`` is the offending text, ``before``/``after`` what surrounds it.
    One finding per post, check and passage: the same error kept through an edit is not new."""
    digest = hashlib.sha256(passage.encode()).hexdigest()[:12]
    return FindingInput(
        kind="compliance", dedupe_key=f"compliance:{platform}:{post_id}:{check}:{digest}",
        title=f"{catalog.label(platform)}账号「{name}」的帖子{check_label}：「{passage[:30]}」", severity="warning",
        platform=platform, account_id=account_id, account_name=name, unit=unit, crawl_run_id=run_id,
        details={"post_id": post_id, "url": url, "check": check, "passage": passage, "before": before,
                 "after": after, "text_sha256": text_sha256, "created_at": created_at, "edited": edited,
                 "reasons": [f"{reason}：……{before}【{passage}】{after}……"]})


def linkage_reminder(*, story_id: int, story_title: str, story_url: str | None, unit: str, deadline: str,
                     deadline_shown: str, accounts: list[str]) -> FindingInput:
    """The one reminder to ``unit`` that its ``accounts`` have not relayed key story
    ``story_id`` yet, before ``deadline``. Critical: a reminder held for tomorrow's digest or past
    quiet hours would arrive after the deadline it is about."""
    return FindingInput(
        kind="linkage_reminder", dedupe_key=f"linkage_reminder:{story_id}:{unit}",
        title=f"矩阵联动提醒：请于 {deadline_shown} 前转发「{story_title[:30]}」", severity="critical", unit=unit,
        details={"story_id": story_id, "story_title": story_title, "url": story_url, "deadline": deadline,
                 "accounts": accounts,
                 "reasons": [f"重点稿件「{story_title}」要求 {deadline_shown} 前转发，以下账号尚未转发："
                             + "、".join(accounts)]})


def takedown_overdue(*, case_id: int, finding_id: int, platform: str, account_id: str, account_name: str | None,
                     unit: str | None, reported_on: str, deadline: str, workdays: int,
                     reference: str | None) -> FindingInput:
    """A reported impersonator still there after the configured working days: one finding per
    case (its content is fixed), so the reminder is sent once; routing copies the central unit."""
    return FindingInput(
        kind="takedown_overdue", dedupe_key=f"takedown_overdue:{case_id}",
        title=f"{catalog.label(platform)}仿冒账号「{account_name or account_id}」举报 {workdays} 个工作日仍未下架",
        severity="warning", platform=platform, account_id=account_id, account_name=account_name, unit=unit,
        details={"case_id": case_id, "finding_id": finding_id, "reported_on": reported_on, "deadline": deadline,
                 "reference": reference,
                 "reasons": [f"{reported_on} 已向平台举报" + (f"（编号 {reference}）" if reference else "")
                             + f"，至 {deadline} 平台仍未处理",
                             "处理建议：在平台的投诉记录中催办，或补充材料后再次投诉；必要时向 12377 举报"]})
