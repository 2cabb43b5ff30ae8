"""A year (2025) of two units' accounts for the report tests; every figure the reports show is
worked out by hand in the tests from the values here."""

from __future__ import annotations

from watcher import registry as reg
from watcher.findings import FindingInput, record
from watcher.store import Store, reviews

ACCOUNTS = [
    # platform, id, name, unit, tier
    ("weibo", "A1", "北理工微博", "党委宣传部", 1),
    ("wechat", "A2", "北理工公众号", "党委宣传部", 1),
    ("weibo", "B1", "计院微博", "计算机学院", 2),
    ("douyin", "B2", "计院抖音", "计算机学院", 3),
]

POSTS = [
    # account, post id, created_at (as the platform gave it), reposts, comments, likes
    ("A1", "p0", "2024-12-31T23:59:00+08:00", 50, 50, 50),   # 2024: outside
    ("A1", "p1", "2025-01-01T07:30:00+08:00", 10, 5, 100),   # still 2024 in UTC, 2025 in China
    ("A1", "p2", "2025-03-15T12:00:00+08:00", 20, 10, 200),
    ("A1", "p3", "2025-12-31T23:30:00+08:00", 0, 0, 30),
    ("A1", "p4", "2026-01-01T00:10:00+08:00", 99, 99, 99),   # 2026: outside
    ("A2", "w1", "2025-05-01T09:00:00+08:00", None, None, None),  # WeChat: no counts observed
    ("B1", "b1", "2025-02-10T10:00:00+08:00", 1, 2, 3),
    ("B1", "b2", "2025-02-20 10:00", 3, 4, 5),                # naive: China time
    ("B1", "b3", "2025-11-01T10:00:00+08:00", 0, 0, 10),
    ("B2", "d1", "2024-06-01T10:00:00+08:00", 7, 7, 7),
]

SNAPSHOTS = [
    # account, taken_at (UTC), followers
    ("A1", "2024-12-20T00:00:00+00:00", 1000),
    ("A1", "2025-06-01T00:00:00+00:00", 1500),
    ("A1", "2025-12-30T00:00:00+00:00", 2000),
    ("A1", "2025-12-31T17:00:00+00:00", 9999),  # 2026-01-01 01:00 in China: after the year
    ("B1", "2025-03-01T00:00:00+00:00", 500),
    ("B1", "2025-10-01T00:00:00+00:00", 450),
    ("B2", "2024-01-01T00:00:00+00:00", 300),
]

FINDINGS = [
    # account, kind, created_at (UTC)
    ("A1", "deletion", "2025-05-01T02:00:00+00:00"),
    ("A1", "edit", "2025-06-01T02:00:00+00:00"),
    ("A1", "edit", "2024-12-31T17:00:00+00:00"),     # 2025-01-01 01:00 China: in the year
    ("A2", "dormant", "2025-11-01T02:00:00+00:00"),
    ("B1", "unfiled_change", "2025-08-01T02:00:00+00:00"),
    ("B1", "sentiment", "2026-01-05T02:00:00+00:00"),  # outside
]

UNITS = {a[1]: a[3] for a in ACCOUNTS}
PLATFORMS = {a[1]: a[0] for a in ACCOUNTS}


def seed_year(store: Store) -> None:
    reg.import_records(store, [reg.RegistryRecord(platform=p, account_id=i, account_name=n, unit=u, tier=t,
                                                  registered_date="2024-01-01",
                                                  head_name="张明", head_mobile="13800000001",
                                                  head_email="zhang@example.edu.cn")
                               for p, i, n, u, t in ACCOUNTS])
    reg.file_change(store, "weibo", "A1", "purpose", "学校官方信息发布", filed_date="2025-04-01")
    reg.file_change(store, "weibo", "B1", "purpose", "学院新闻", filed_date="2024-12-31")  # 2024: outside
    reg.file_change(store, "weibo", "B1", "tier", "3", filed_date="2025-07-01")
    reg.close_account(store, "douyin", "B2", closed_date="2025-06-30")
    with store.transaction():
        for acc, pid, created, r, c, lk in POSTS:
            store.conn.execute("""INSERT INTO posts (platform, post_id, account_id, text, created_at, reposts, comments,
                                  likes, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                               [PLATFORMS[acc], pid, acc, "正文", created, r, c, lk, created, created])
        for acc, taken, followers in SNAPSHOTS:
            store.conn.execute("INSERT INTO profile_snapshots (platform, account_id, taken_at, followers) VALUES (?, ?, ?, ?)",
                               [PLATFORMS[acc], acc, taken, followers])
    for n, (acc, kind, created) in enumerate(FINDINGS):
        fid = record(store, FindingInput(kind=kind, dedupe_key=f"{kind}:{acc}:{n}", title=f"{acc} {kind}",
                                         platform=PLATFORMS[acc], account_id=acc, account_name=acc,
                                         unit=UNITS[acc])).id
        with store.transaction():
            store.conn.execute("UPDATE findings SET created_at = ? WHERE id = ?", [created, fid])
    ids = {r.account_id: r.id for r in reg.list_accounts(store)}
    reviews.set_review(store, ids["A1"], 2025, "passed", reviewed_date="2025-12-20", note="材料齐全")
    reviews.set_review(store, ids["A2"], 2025, "rectify", reviewed_date="2025-12-22", note="半年未更新，限期一个月整改")
    reviews.set_review(store, ids["A1"], 2024, "passed", reviewed_date="2024-12-20")
