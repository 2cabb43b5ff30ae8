"""Watch integrity: every real change reported once, none lost, no false alarms.

Analysis runs in-process on what ingest stored from real-shaped items (a registered Weibo
account: signed sinaimg avatar URLs, follower counts that move every answer, pages of three
posts); a crawl that was killed, blocked or answered 503 is what it leaves in the database:
the pages it committed and a run that is not ``ok``. A restart is a new Store (and
``catch_up``, which the daemon runs at start).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from alerts import dispatch
from spiders.items import DiscoveredAccount, Post, ProfileSnapshot
from watcher import ingest, registry
from watcher.store import Store, utcnow
from watcher.store.accounts import Account
from watcher.store.findings import list_findings
from watcher.watch import avatars
from watcher.watch.analyze import analyse_timeline, catch_up, confirm_pending, due_pending

UID = "1891724861"
PAGE = 3
SINA = "https://tvax{host}.sinaimg.cn/{size}/70c1f4f3ly8hq2kz9x0j1j20u00u0dhb.jpg?KID=imgbed,tva&Expires={exp}&ssig={sig}"


def signed(n: int, file: str = "70c1f4f3ly8hq2kz9x0j1j20u00u0dhb") -> str:
    """The same sinaimg avatar as Weibo serves it on answer ``n``: another host, size and signature."""
    size = ["crop.0.0.1080.1080.180", "crop.0.0.640.640.1024", "180", "large"][n % 4]
    return (SINA.replace("70c1f4f3ly8hq2kz9x0j1j20u00u0dhb", file)
            .format(host=n % 4 + 1, size=size, exp=1732345678 + 3600 * n, sig=f"AbC{n}dEf%2B{n * 7}xYz"))


def picture(path: Path, kind: str, size: int = 180) -> Path:
    """A small avatar; ``kind`` picks the picture, ``size`` only its rendition."""
    img = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(img)
    if kind == "emblem":
        d.ellipse([size * 0.1, size * 0.1, size * 0.9, size * 0.9], fill=(0, 70, 140))
        d.rectangle([size * 0.4, size * 0.2, size * 0.6, size * 0.8], fill="white")
    else:
        d.polygon([(0, size), (size / 2, 0), (size, size)], fill=(200, 30, 30))
        d.rectangle([0, 0, size * 0.3, size * 0.3], fill="black")
    img.save(path, "JPEG", quality=85)
    return path


class Weibo:
    """One registered Weibo account as the platform shows it, newest post first."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.answers = 0
        self.name = "北京理工大学"
        self.avatar_file = "70c1f4f3ly8hq2kz9x0j1j20u00u0dhb"
        self.images = {self.avatar_file: picture(tmp / "emblem.jpg", "emblem")}
        self.posts = [(str(i), datetime(2026, 11, 1 + i, 10, tzinfo=UTC), f"北理工通知第{i}号") for i in range(12, 0, -1)]
        self.fetches: list[str] = []

    def snapshot(self) -> ProfileSnapshot:
        self.answers += 1
        followers = f"{152.3 + self.answers / 10:.1f}万"  # what the API answers, parsed as the spider does
        return ProfileSnapshot(platform="weibo", account_id=UID, name=self.name, bio="北京理工大学官方微博",
                               avatar_url=signed(self.answers, self.avatar_file), verified=True,
                               verified_reason="北京理工大学官方微博", followers=int(float(followers[:-1]) * 10_000),
                               following=420, posts_count=23110 + self.answers)

    def page(self, n: int) -> list[Post]:
        rows = self.posts[(n - 1) * PAGE:n * PAGE]
        return [Post("weibo", UID, pid, text, created.isoformat(), url=f"https://m.weibo.cn/detail/{pid}")
                for pid, created, text in rows]

    def fetch(self, url: str) -> Path | None:
        """The CDN: the image behind any size, host or signature of a file name."""
        self.fetches.append(url)
        for file, path in self.images.items():
            if f"/{file}." in url:
                return path
        return None

    def delete(self, pid: str) -> None:
        self.posts = [p for p in self.posts if p[0] != pid]

    def edit(self, pid: str, text: str) -> None:
        self.posts = [(p, c, text if p == pid else t) for p, c, t in self.posts]

    def publish(self, pid: str, text: str) -> None:
        newest = self.posts[0][1] if self.posts else datetime(2026, 11, 1, tzinfo=UTC)
        self.posts.insert(0, (pid, newest + timedelta(hours=1), text))


def crawl(store: Store, weibo: Weibo, *, pages: int = 2, stored_pages: int | None = None, status: str = "ok",
          reason: str | None = None) -> int:
    """A timeline crawl: the profile, then ``pages`` pages, each committed as the pipeline does.
    ``stored_pages`` fewer than ``pages`` is a crawl cut short (killed, a 503 on the next page);
    a blocked timeline stores nothing (the pipeline drops half a timeline)."""
    cur = store.conn.execute("INSERT INTO crawl_runs (platform, mode, target, status, started_at) "
                             "VALUES ('weibo', 'timeline', ?, 'running', ?)", [UID, utcnow()])
    run_id = int(cur.lastrowid)
    if status != "blocked":
        ingest.save_batch(store, [weibo.snapshot()], run_id)
        for n in range(1, (pages if stored_pages is None else stored_pages) + 1):
            ingest.save_batch(store, weibo.page(n), run_id)
    with store.transaction():
        store.conn.execute("UPDATE crawl_runs SET status = ?, reason = ?, finished_at = ? WHERE id = ?",
                           [status, reason, utcnow(), run_id])
    return run_id


class Platform:
    """The check: what the platform says of one post; ``wall`` makes it answer nothing."""

    def __init__(self, weibo: Weibo) -> None:
        self.weibo = weibo
        self.wall = False
        self.asked: list[str] = []

    def __call__(self, platform: str, account_id: str, post: str) -> bool | None:
        self.asked.append(post)
        if self.wall:
            return None
        return any(p[0] == post for p in self.weibo.posts)


@pytest.fixture
def weibo(tmp_path):
    return Weibo(tmp_path)


@pytest.fixture
def reg_store(store, cfg):
    registry.import_file(store, cfg.registry_path)
    return store


def _round(cfg, store, weibo, platform, *, now=None, **kw):
    run_id = crawl(store, weibo, **kw)
    return analyse_timeline(cfg, store, run_id, checker=platform, fetch_avatar=weibo.fetch, now=now)


def _kinds(store, kind):
    return list_findings(store, kind=kind, limit=1000)


# -- avatars and metrics ----------------------------------------------------------------------------


def test_resigned_avatars_and_moving_followers_make_no_finding_and_no_alert(tmp_path, cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    for _ in range(3):
        _round(cfg, store, weibo, platform)
    store.close()
    with Store.open(cfg.db_path) as store:  # a restart
        catch_up(cfg, store)
        _round(cfg, store, weibo, platform)
        assert _kinds(store, "profile_change") == []
        assert store.scalar("SELECT COUNT(*) FROM findings") == 0
        assert dispatch.plan(cfg, store, datetime.now(UTC)) == 0
        # followers went to the account's history
        followers = [r["followers"] for r in store.query("SELECT followers FROM profile_snapshots ORDER BY id")]
        assert followers == [1524000, 1525000, 1526000, 1527000]
        # the image was downloaded once; later answers named the same upload
        assert len(weibo.fetches) == 1


def test_a_new_avatar_image_is_one_change_showing_both_images(tmp_path, cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    _round(cfg, store, weibo, platform)
    weibo.avatar_file = "006Xy3Zgly1hw5n2newavatarj30u00u0"
    weibo.images[weibo.avatar_file] = picture(tmp_path / "new.jpg", "other")
    _round(cfg, store, weibo, platform)
    _round(cfg, store, weibo, platform)  # re-signed again: still the one change
    changes = _kinds(store, "profile_change")
    assert len(changes) == 1
    d = changes[0].details
    assert d["field"] == "avatar" and "感知哈希距离" in d["compared_by"]
    assert d["old_image"].endswith("emblem.jpg") and d["new_image"].endswith("new.jpg")
    assert "70c1f4f3ly8hq2kz9x0j1j20u00u0dhb" in d["reasons"][0] and "006Xy3Zgly1hw5n2newavatarj30u00u0" in d["reasons"][0]
    assert "emblem.jpg" in d["reasons"][0] and "new.jpg" in d["reasons"][0]


def test_same_picture_uploaded_again_is_no_change(tmp_path, cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    _round(cfg, store, weibo, platform)
    weibo.avatar_file = "006Xy3Zgly1hw5reuploadj30u00u0"  # a new upload of the same picture, larger
    weibo.images[weibo.avatar_file] = picture(tmp_path / "again.jpg", "emblem", size=640)
    _round(cfg, store, weibo, platform)
    assert _kinds(store, "profile_change") == []


def test_a_name_stored_before_the_cleaning_edge_is_no_change_when_it_comes_back_cleaned(cfg, reg_store, weibo):
    """Snapshots written before platform text was cleaned at the edge may hold a decomposed (NFD)
    name or a control character; the same name cleaned is not a rename, a real rename still is."""
    store, platform = reg_store, Platform(weibo)
    weibo.name = "北京理工大学\u0007 Cafe\u0301"  # as an old crawl stored it: a bell, é decomposed
    _round(cfg, store, weibo, platform)
    weibo.name = "北京理工大学 Café"  # what the cleaning edge writes now
    _round(cfg, store, weibo, platform)
    assert _kinds(store, "profile_change") == []
    weibo.name = "北京理工大学 Café 官方"
    _round(cfg, store, weibo, platform)
    assert [c.details.get("new") for c in _kinds(store, "profile_change")] == ["北京理工大学 Café 官方"]


def test_without_images_the_url_decides_without_its_signature(tmp_path, cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    weibo.images.clear()  # the CDN refuses us
    for _ in range(3):
        _round(cfg, store, weibo, platform)
    assert _kinds(store, "profile_change") == []
    weibo.avatar_file = "006Xy3Zgly1hw5n2newavatarj30u00u0"
    _round(cfg, store, weibo, platform)
    changes = _kinds(store, "profile_change")
    assert len(changes) == 1 and "地址" in changes[0].details["compared_by"]


@pytest.mark.parametrize(("a", "b"), [
    (signed(1), signed(2)),
    (signed(3), signed(8)),
    ("https://i0.hdslb.com/bfs/face/4f2c1d9e0a.jpg@100w_100h_1c.webp", "https://i2.hdslb.com/bfs/face/4f2c1d9e0a.jpg"),
    ("https://p3-pc.douyinpic.com/aweme/100x100/aweme-avatar/tos-cn-i-0813_oQx.jpeg?from=2956013662",
     "https://p26-pc.douyinpic.com/aweme/720x720/aweme-avatar/tos-cn-i-0813_oQx.jpeg?from=116350172"),
    ("https://p3.toutiaoimg.com/img/user-avatar/7d1c2b~300x300.image", "https://p6.toutiaoimg.com/img/user-avatar/7d1c2b~120x120.image"),
    ("https://picx.zhimg.com/v2-abc123_l.jpg?source=32738c0c", "https://pic1.zhimg.com/v2-abc123_xl.jpg?source=1940ef5c"),
    ("//sns-avatar-qc.xhscdn.com/avatar/1040g2jo3119?imageView2/2/w/120/format/jpg",
     "https://sns-avatar-qc.xhscdn.com/avatar/1040g2jo3119?imageView2/2/w/360/format/webp"),
])
def test_avatar_key_ignores_signature_host_number_and_size(a, b):
    assert avatars.avatar_key(a) == avatars.avatar_key(b)


def test_avatar_key_sees_a_new_upload():
    assert avatars.avatar_key(signed(1)) != avatars.avatar_key(signed(1, "006Xy3Zgly1hw5n2newavatarj30u00u0"))
    assert avatars.avatar_key("https://i0.hdslb.com/bfs/face/aaa.jpg") != avatars.avatar_key("https://i0.hdslb.com/bfs/face/bbb.jpg")


def test_rediscovery_with_new_followers_and_signatures_sends_nothing_new(cfg, reg_store):
    from watcher.crawling.discovery import judge

    store = reg_store

    def seen(n: int, name: str = "北理工表白墙") -> Account:
        a = DiscoveredAccount(platform="weibo", account_id="7788123456", name=name, bio="北理工的同学们看过来",
                              avatar_url=signed(n, "006aBcDely8h0fakeavatarj30"), verified=False,
                              followers=int(float(f"{1.2 + n / 10:.1f}") * 10_000), keyword="北理工")
        ingest.save_batch(store, [a], None)
        return Account.from_row(store.one("SELECT * FROM accounts WHERE account_id = '7788123456'"))

    judge(cfg, store, [seen(1)])
    assert dispatch.plan(cfg, store, datetime.now(UTC)) >= 1
    planned = store.scalar("SELECT COUNT(*) FROM deliveries")
    for n in range(2, 5):  # three more discovery rounds, a restart among them
        judge(cfg, store, [seen(n)])
    imp = _kinds(store, "impersonation")
    assert len(imp) == 1 and imp[0].revision == 1
    assert imp[0].details["followers"] == 16000  # shown as of the last round
    assert dispatch.plan(cfg, store, datetime.now(UTC)) == 0 and store.scalar("SELECT COUNT(*) FROM deliveries") == planned
    judge(cfg, store, [seen(5, "北理工表白墙官方")])  # what a reviewer acts on: a new revision
    assert _kinds(store, "impersonation")[0].revision == 2


# -- nothing lost ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("how", "stored_pages", "status", "reason"), [
    ("killed -9 after page 1", 1, "failed", "采集进程已不存在（被强制终止），本次结果不完整"),
    ("HTTP 503 on page 2", 1, "failed", "HTTP 503"),
    ("login wall", 0, "blocked", "微博要求登录"),
])
def test_deletion_and_edit_during_a_broken_round_are_reported_once_later(cfg, reg_store, weibo, how, stored_pages,
                                                                         status, reason):
    store, platform = reg_store, Platform(weibo)
    _round(cfg, store, weibo, platform)                         # posts 12 … 7 seen
    weibo.delete("11")
    weibo.edit("9", "北理工通知第9号（更正：时间改为下午三点）")
    crawl(store, weibo, stored_pages=stored_pages, status=status, reason=reason)  # no analysis: not ok
    store.close()
    with Store.open(cfg.db_path) as store:                      # a restart between rounds
        catch_up(cfg, store)
        _round(cfg, store, weibo, platform)
        _round(cfg, store, weibo, platform)
        deletions, edits = _kinds(store, "deletion"), _kinds(store, "edit")
        assert [d.details["post_id"] for d in deletions] == ["11"], how
        assert [e.details["post_id"] for e in edits] == ["9"], how
        assert "+北理工通知第9号（更正：时间改为下午三点）" in edits[0].details["diff"]
        d = deletions[0].details
        assert d["last_seen"] <= d["first_missed"] <= d["confirmed_at"]
        assert "北京时间" in d["reasons"][0]
        assert all(f.revision == 1 for f in deletions + edits)
        assert platform.asked == ["11"]  # the deleted post was the only one ever in doubt


def test_a_wall_on_the_check_keeps_the_post_pending_until_it_lifts(cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    t0 = datetime.now(UTC)
    _round(cfg, store, weibo, platform, now=t0)
    weibo.delete("10")
    platform.wall = True
    _round(cfg, store, weibo, platform, now=t0 + timedelta(hours=1))
    post = store.one("SELECT * FROM posts WHERE post_id = '10'")
    assert post["status"] == "pending" and post["check_attempts"] == 1 and _kinds(store, "deletion") == []
    assert due_pending(store, "weibo", UID, t0 + timedelta(hours=1, minutes=5)) == []       # backing off
    assert [p.post_id for p in due_pending(store, "weibo", UID, t0 + timedelta(hours=2))] == ["10"]
    store.close()
    platform.wall = False                                       # lifted one round later, after a restart
    with Store.open(cfg.db_path) as store:
        assert store.one("SELECT status FROM posts WHERE post_id = '10'")["status"] == "pending"
        _round(cfg, store, weibo, platform, now=t0 + timedelta(hours=2))
        _round(cfg, store, weibo, platform, now=t0 + timedelta(hours=3))
        deletions = _kinds(store, "deletion")
        assert [d.details["post_id"] for d in deletions] == ["10"] and deletions[0].revision == 1


def test_a_check_that_keeps_failing_backs_off_and_never_concludes(cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    t0 = datetime.now(UTC)
    _round(cfg, store, weibo, platform, now=t0)
    weibo.delete("12")
    _round(cfg, store, weibo, platform, now=t0, pages=1)  # marks 12 pending and checks it
    assert _kinds(store, "deletion") and store.one("SELECT status FROM posts WHERE post_id = '12'")["status"] == "deleted"

    def broken(platform, account_id, post):
        raise RuntimeError("check crawl crashed")

    weibo.delete("10")
    crawl_id = crawl(store, weibo)
    analyse_timeline(cfg, store, crawl_id, checker=broken, fetch_avatar=weibo.fetch, now=t0)
    delays = []
    for i in range(1, 5):
        p = store.one("SELECT * FROM posts WHERE post_id = '10'")
        assert p["status"] == "pending" and p["check_attempts"] == i
        delays.append(datetime.fromisoformat(p["next_check_at"]) - t0)
        t0 = datetime.fromisoformat(p["next_check_at"])
        confirm_pending(cfg, store, "weibo", UID, broken, now=t0)
    assert delays == sorted(delays) and delays[0] < delays[-1]   # exponential back-off
    assert [d.details["post_id"] for d in _kinds(store, "deletion")] == ["12"]


def test_posts_pushed_to_later_pages_and_a_pinned_post_are_never_deleted(cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    pinned = ("1", datetime(2026, 11, 2, 10, tzinfo=UTC), "置顶：北京理工大学简介")
    weibo.posts = [pinned] + [p for p in weibo.posts if p[0] != "1"]
    _round(cfg, store, weibo, platform, pages=1)               # 1 (pinned), 12, 11
    for i in range(13, 19):                                     # six new posts a round pushes the rest down
        weibo.posts.insert(1, (str(i), datetime(2026, 11, 20, i, tzinfo=UTC), f"北理工新闻{i}"))
        _round(cfg, store, weibo, platform, pages=1)
    assert _kinds(store, "deletion") == []
    assert store.scalar("SELECT COUNT(*) FROM posts WHERE status != 'live'") == 0
    # each post that left the first page was asked about once, never again; the pinned one never
    assert sorted(platform.asked) == sorted(set(platform.asked)) and "1" not in platform.asked


def test_an_edit_is_compared_with_the_last_reported_version_whatever_run_stored_it(cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    _round(cfg, store, weibo, platform)
    weibo.edit("12", "第二版")
    crawl(store, weibo, stored_pages=1, status="failed", reason="HTTP 503")   # stored, never analysed
    weibo.edit("12", "第三版")
    _round(cfg, store, weibo, platform)
    _round(cfg, store, weibo, platform)
    edits = _kinds(store, "edit")
    assert len(edits) == 1
    assert (edits[0].details["old_text"], edits[0].details["new_text"]) == ("北理工通知第12号", "第三版")


# -- analysis a crash cut short ---------------------------------------------------------------------


def test_catch_up_judges_accounts_stored_but_never_judged_and_finishes_a_timeline(cfg, reg_store, weibo):
    store, platform = reg_store, Platform(weibo)
    cur = store.conn.execute("INSERT INTO crawl_runs (platform, mode, target, status, started_at) "
                             "VALUES ('weibo', 'discover', '北理工', 'failed', ?)", [utcnow()])
    ingest.save_batch(store, [DiscoveredAccount(platform="weibo", account_id="7788999000", name="北理工二手交易群",
                                                bio="北理工校内二手", followers=3000)], int(cur.lastrowid))
    _round(cfg, store, weibo, platform)
    weibo.name = "北京理工大学官方"
    crawl(store, weibo)                                         # ok, but the daemon died before analysing it
    store.close()
    with Store.open(cfg.db_path) as store:
        counts = catch_up(cfg, store)
        assert counts == {"judged": 1, "analysed": 1}
        assert store.one("SELECT verdict FROM accounts WHERE account_id = '7788999000'")["verdict"] == "suspect"
        assert [f.account_id for f in _kinds(store, "impersonation")] == ["7788999000"]
        assert [f.details["new"] for f in _kinds(store, "profile_change")] == ["北京理工大学官方"]
        assert catch_up(cfg, store) == {"judged": 0, "analysed": 0}   # the next start has nothing to do
        _round(cfg, store, weibo, platform)
        assert len(_kinds(store, "profile_change")) == 1


def test_catch_up_leaves_a_reported_impersonators_recheck_to_its_case(cfg, reg_store, weibo):
    """A daemon that died between storing a reported impersonator's re-check and concluding its
    case: at start, that run is not analysed as the watch of one of our accounts."""
    from watcher.store import cases as stored_cases
    from watcher.store.findings import FindingInput, record

    store = reg_store
    finding = record(store, FindingInput(kind="impersonation", dedupe_key=f"impersonation:weibo:{UID}", title="疑似仿冒",
                                         platform="weibo", account_id=UID, account_name=weibo.name))
    stored_cases.open_case(store, finding_id=finding.id, platform="weibo", account_id=UID,
                           account_name=weibo.name, unit=None, reference="WB-1", actor="xcb", deadline="2026-12-31")
    crawl(store, weibo)
    weibo.name = "北理工官方二手群"  # the impersonator renamed itself; the daemon dies before the case sees it
    crawl(store, weibo)
    assert catch_up(cfg, store)["analysed"] == 0
    assert _kinds(store, "profile_change") == []


def test_upgrade_recomputes_fingerprints_so_it_resends_nothing(tmp_path):
    """A finding recorded before metrics left the fingerprint must not come back as "第 2 版"
    when the upgraded daemon records it again with a new follower count."""
    import hashlib

    from watcher.findings import FindingInput, record
    from watcher.store import dumps, schema

    details = {"reasons": ["名称含本校简称「北理工」（精确）"], "score": 72, "matched": "北理工", "followers": 12000,
               "avatar_url": signed(1, "006aBcDely8h0fakeavatarj30")}
    old_fp = hashlib.sha256(dumps(["impersonation", "疑似仿冒：微博「北理工表白墙」", "warning", "北理工表白墙", None,
                                   details]).encode()).hexdigest()
    s = Store(tmp_path / "old.db", migrate=False)
    schema.migrate(s.db, upto={"watch": 1})
    s.conn.execute("""INSERT INTO findings (kind, severity, title, details, dedupe_key, fingerprint, revision, status,
                      account_name, created_at, updated_at) VALUES ('impersonation', 'warning', '疑似仿冒：微博「北理工表白墙」',
                      ?, 'impersonation:weibo:7788123456', ?, 1, 'open', '北理工表白墙', 'x', 'x')""", [dumps(details), old_fp])
    s.close()
    with Store.open(tmp_path / "old.db") as s:
        again = record(s, FindingInput(kind="impersonation", dedupe_key="impersonation:weibo:7788123456",
                                       title="疑似仿冒：微博「北理工表白墙」", account_name="北理工表白墙",
                                       details={**details, "followers": 15200, "score": 74,
                                                "avatar_url": signed(2, "006aBcDely8h0fakeavatarj30")}))
        assert (again.changed, again.revision) == (False, 1)
        assert s.one("SELECT details FROM findings")["details"].count("15200") == 1
