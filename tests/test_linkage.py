"""矩阵联动: a key story of the school's Weibo account and five second-tier accounts, three of
which relay it in time (a Weibo repost, a Bilibili video quoting its title, a WeChat article
reprinting it), one late (a Weibo post linking to it) and one never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from spiders.items import Post
from tests.conftest import write_config
from watcher import registry
from watcher.cli import main_group
from watcher.compliance import linkage
from watcher.config import load_config
from watcher.registry import RegistryRecord
from watcher.store import Store
from watcher.store import compliance as stored
from watcher.store.compliance import WatchedPost
from watcher.store.findings import list_findings
from watcher.store.posts import save_post

CENTRAL = "1891724861"
STORY = "5012345678901234"
TITLE = "北京理工大学举行2026年度科技工作大会"
# The story published two hours ago (posts are stored with the real clock as first seen).
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
CHINA = timedelta(hours=8)

ACCOUNTS = [  # platform, id, name, unit
    ("weibo", "5600000001", "北理工计算机学院", "计算机学院"),
    ("bilibili", "3000000002", "北理工研究生", "研究生院"),
    ("wechat", "gh_bit_gradnews", "北理工研究生新闻", "研究生院"),
    ("weibo", "5600000004", "北理工青年", "校团委"),
    ("weibo", "5600000005", "北理工志愿者", "校团委"),
]


def _when(hours: float) -> str:
    """A platform's time as the spiders store it: China time with its offset."""
    return (T0 + timedelta(hours=hours)).astimezone(timezone(CHINA)).isoformat()


def _post(platform: str, account: str, post_id: str, text: str, hours: float, raw: dict, url: str) -> Post:
    return Post(platform=platform, account_id=account, post_id=post_id, text=text, created_at=_when(hours), url=url,
                raw=raw)


def _weibo_mblog(mid: str, uid: str, text: str, **extra) -> dict:
    return {"id": mid, "mid": mid, "idstr": mid, "created_at": "Sun Dec 06 09:00:00 +0800 2026", "text": text,
            "user": {"id": int(uid), "screen_name": "x"}, "reposts_count": 0, "comments_count": 0,
            "attitudes_count": 0, **extra}


@pytest.fixture
def world(tmp_path):
    cfg = load_config(write_config(tmp_path / "c", compliance={"linkage": {"within": "24h", "remind_before": "6h"}}))
    store = Store.open(cfg.db_path)
    registry.add_account(store, RegistryRecord(platform="weibo", account_name="北京理工大学", account_id=CENTRAL,
                                               unit="党委宣传部", tier=1))
    for platform, account, name, unit in ACCOUNTS:
        registry.add_account(store, RegistryRecord(platform=platform, account_name=name, account_id=account,
                                                   unit=unit, tier=2))
    with store.transaction():
        save_post(store, _post("weibo", CENTRAL, STORY, f"【{TITLE}】12月6日上午，学校召开科技工作大会。", 0,
                               _weibo_mblog(STORY, CENTRAL, f"【{TITLE}】12月6日上午……", bid="Q9xYz1AbC"),
                               f"https://m.weibo.cn/detail/{STORY}"), None)
        # on time: a Weibo repost (the original in retweeted_status, the repost's own text is short)
        save_post(store, _post("weibo", "5600000001", "5012345678909001", "转发微博", 1,
                               _weibo_mblog("5012345678909001", "5600000001", "转发微博",
                                            retweeted_status=_weibo_mblog(STORY, CENTRAL, f"【{TITLE}】"))
                               , "https://m.weibo.cn/detail/5012345678909001"), None)
        # on time: a Bilibili video whose title quotes the story's
        save_post(store, _post("bilibili", "3000000002", "BV1xx411c7mD", f"{TITLE}｜现场视频\n大会现场",
                               2, {"bvid": "BV1xx411c7mD", "title": f"{TITLE}｜现场视频", "created": 0},
                               "https://www.bilibili.com/video/BV1xx411c7mD"), None)
        # on time: a WeChat article (as the account's article list gives it) reprinting the title
        save_post(store, _post("wechat", "gh_bit_gradnews", "2650001234_1", "转载｜" + TITLE.replace("2026", "2026 "),
                               5, {"aid": "2650001234_1", "title": "转载｜" + TITLE, "digest": "来源：北京理工大学",
                                   "link": "https://mp.weixin.qq.com/s/abcDEF"}, "https://mp.weixin.qq.com/s/abcDEF"),
                  None)
        # never: the fifth account posts, but other news (and before the story, an older post)
        save_post(store, _post("weibo", "5600000005", "5012345678907777", "【志愿服务】本周末招募志愿者", 3,
                               _weibo_mblog("5012345678907777", "5600000005", "【志愿服务】本周末招募志愿者"),
                               "https://m.weibo.cn/detail/5012345678907777"), None)
    story = linkage.add_story(cfg, store, f"https://m.weibo.cn/detail/{STORY}", actor="宣传部复核员",
                              now=T0 + timedelta(minutes=10))
    yield cfg, store, story
    store.close()


def _late_relay(store: Store) -> None:
    """The fourth account links to the story, six hours after the deadline."""
    with store.transaction():
        save_post(store, _post("weibo", "5600000004", "5012345678905555", "学校科技工作大会召开，详见 网页链接", 30.2,
                               _weibo_mblog("5012345678905555", "5600000004",
                                            f'学校科技工作大会召开，详见 <a href="https://m.weibo.cn/detail/{STORY}">网页链接</a>'),
                               "https://m.weibo.cn/detail/5012345678905555"), None)


def test_three_of_five_relay_one_late_one_never_and_one_reminder(world, tmp_path):
    cfg, store, story = world
    assert story.title == TITLE
    deadline = linkage.parse_time(story.deadline)
    assert deadline == T0 + timedelta(minutes=10, hours=24)

    # before the reminder time nobody is reminded
    assert linkage.remind_due(cfg, store, now=T0 + timedelta(hours=3)) == 0
    # at the reminder time the unit with laggards (both of 校团委's accounts) gets one reminder
    at = T0 + timedelta(hours=19)
    assert linkage.remind_due(cfg, store, now=at) == 1
    assert linkage.remind_due(cfg, store, now=at + timedelta(minutes=10)) == 0
    with Store.open(cfg.db_path) as again:  # a restart: the reminder is in the store
        assert linkage.remind_due(cfg, again, now=at + timedelta(hours=1)) == 0
    reminders = list_findings(store, kind="linkage_reminder")
    assert len(reminders) == 1 and reminders[0].unit == "校团委"
    assert reminders[0].details["accounts"] == ["微博「北理工志愿者」", "微博「北理工青年」"]
    assert "北京时间" in reminders[0].title

    _late_relay(store)
    report = linkage.build_report(cfg, store, story, now=deadline + timedelta(hours=7))
    table = {(r.unit, r.account.account_id): (r.status_label, r.relay.how_label if r.relay else None,
                                               r.relay.post_id if r.relay else None) for r in report.rows}
    assert table == {
        ("计算机学院", "5600000001"): ("按时转发", "转发", "5012345678909001"),
        ("研究生院", "3000000002"): ("按时转发", "引用标题", "BV1xx411c7mD"),
        ("研究生院", "gh_bit_gradnews"): ("按时转发", "引用标题", "2650001234_1"),
        ("校团委", "5600000004"): ("逾期转发", "链接", "5012345678905555"),
        ("校团委", "5600000005"): ("未转发", None, None),
    }
    relay_times = {r.account.account_id: r.relay.at for r in report.rows if r.relay}
    assert relay_times["5600000001"] == T0 + timedelta(hours=1)
    assert dict(report.by_unit())["校团委"] == {"on_time": 0, "late": 1, "pending": 0, "missing": 1, "unobservable": 0}
    svg = str(linkage.chart_svg(report))
    assert svg.startswith("<svg") and "校团委 未转发：1" in svg and "<script" not in svg

    res = CliRunner().invoke(main_group, ["linkage", "show", str(story.id), "--config", str(cfg.source)])
    assert res.exit_code == 0, res.output
    assert TITLE in res.output and "北京时间" in res.output
    lines = {line.split()[2]: line for line in res.output.splitlines() if line.startswith(("计算机学院", "研究生院", "校团委"))}
    # the command reads the real clock: the deadline is still ahead, so the fifth is 待转发 yet
    assert "按时转发" in lines["北理工计算机学院"] and "逾期转发" in lines["北理工青年"] and "待转发" in lines["北理工志愿者"]
    assert "校团委：▓░" in res.output


def test_adding_a_story_is_checked(world):
    cfg, store, story = world
    with pytest.raises(linkage.LinkageError, match="已是重点稿件"):
        linkage.add_story(cfg, store, f"https://m.weibo.cn/detail/{STORY}", actor="x")
    with pytest.raises(linkage.LinkageError, match="找不到帖子"):
        linkage.add_story(cfg, store, "https://m.weibo.cn/detail/4999999999999999", actor="x")
    with pytest.raises(linkage.LinkageError, match="未知的单位：宣传处"):
        linkage.add_story(cfg, store, "https://www.bilibili.com/video/BV1xx411c7mD", units=["宣传处"], actor="x")
    # units by id or alias; the story's own account and other units' accounts are not expected
    s2 = linkage.add_story(cfg, store, "https://www.bilibili.com/video/BV1xx411c7mD", units=["youth", "cs"],
                           within=3600, actor="x")
    assert s2.units == ["校团委", "计算机学院"]
    assert {r.account.account_id for r in linkage.build_report(cfg, store, s2).rows} == {
        "5600000001", "5600000004", "5600000005"}
    res = CliRunner().invoke(main_group, ["linkage", "add", "https://m.weibo.cn/detail/1", "--within", "soon",
                                          "--config", str(cfg.source)])
    assert res.exit_code == 2 and "时限" in res.output and "Traceback" not in res.output


def _story(platform: str, post_id: str) -> stored.Story:
    return stored.Story(id=1, platform=platform, post_id=post_id, account_id="1", url=None, title=TITLE,
                        published_at=T0.isoformat(), deadline=T0.isoformat(), remind_at=T0.isoformat(), units=None,
                        tiers=[2], created_by="x", created_at=T0.isoformat())


def _watched(platform: str, raw: dict, text: str = "") -> WatchedPost:
    import json

    return WatchedPost(platform=platform, post_id="9", account_id="2", text=text, created_at=None,
                       first_seen=T0.isoformat(), url=None, raw=json.dumps(raw, ensure_ascii=False))


def test_bilibili_dynamic_forward_is_a_repost():
    """A forward as x/polymer/web-dynamic/v1/feed/space shows it: the original in ``orig``."""
    forward = {"id_str": "930000000000000002", "type": "DYNAMIC_TYPE_FORWARD", "visible": True,
               "modules": {"module_author": {"mid": 3000000002, "name": "北理工研究生", "pub_ts": 1765000000},
                           "module_dynamic": {"desc": {"text": "转发动态"}, "major": None}},
               "orig": {"id_str": "930000000000000001", "type": "DYNAMIC_TYPE_AV",
                        "modules": {"module_author": {"mid": 1880487363, "name": "北京理工大学"},
                                    "module_dynamic": {"major": {"type": "MAJOR_TYPE_ARCHIVE", "archive": {
                                        "aid": "113000000000001", "bvid": "BV1ab411c7zz", "title": TITLE}}}}}}
    video_story = _story("bilibili", "BV1ab411c7zz")
    assert linkage.relay_of(video_story, _watched("bilibili", forward), {"BV1ab411c7zz"}, None) == "repost"
    dynamic_story = _story("bilibili", "930000000000000001")
    assert linkage.relay_of(dynamic_story, _watched("bilibili", forward), {"930000000000000001"}, None) == "repost"
    other = {**forward, "orig": {**forward["orig"], "id_str": "930000000000000999", "modules": {}}}
    assert linkage.relay_of(dynamic_story, _watched("bilibili", other), {"930000000000000001"}, None) is None


def test_short_titles_are_not_quotes_and_weibo_short_ids_resolve():
    assert linkage.story_title("#开学季# 开学啦\n今天") == "开学啦"
    assert linkage.story_title("【喜报】我校获奖") == "喜报"
    # base62 in groups of four from the right, seven digits each
    assert linkage.weibo_mid("1") == "1" and linkage.weibo_mid("a0000") == "100000000" and linkage.weibo_mid("Z10") == "234546"


def test_web_story_page_and_form(world):
    from fastapi.testclient import TestClient

    from tests.web_helpers import PASSWORD, csrf
    from watcher.web import auth
    from watcher.web.app import create_app

    cfg, store, story = world
    auth.add_user(store, "xcb", PASSWORD, "central")
    auth.add_user(store, "cs", PASSWORD, "unit", "计算机学院")
    client = TestClient(create_app(cfg))

    def login(name: str) -> str:
        token = csrf(client.get("/login").text)
        client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
        return csrf(client.get("/").text)

    login("cs")
    assert client.get(f"/linkage/{story.id}").status_code == 403
    client.cookies.clear()
    token = login("xcb")
    page = client.get(f"/linkage/{story.id}").text
    assert TITLE in page and "<svg" in page and "北京时间" in page and "按时转发" in page and "引用标题" in page
    r = client.post("/linkage", data={"url": "https://www.bilibili.com/video/BV1xx411c7mD", "within": "12h",
                                      "units": "计算机学院", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/linkage/2"
    assert "北理工计算机学院" in client.get("/linkage/2").text
    bad = client.post("/linkage", data={"url": "https://evil.example/<script>", "csrf_token": token})
    assert "找不到帖子" in bad.text and "<script>" not in bad.text


def test_assessment_report_has_a_linkage_column(world):
    from watcher.reports import assess
    from watcher.timefmt import local_date

    cfg, store, story = world
    _late_relay(store)
    day = local_date(T0)
    a = assess.build(cfg, store, day - timedelta(days=1), day + timedelta(days=2))
    column = {s.figures.account.account_id: dict(zip(assess.ACCOUNT_COLUMNS, assess.account_row(s), strict=True))[
        assess.LINKAGE_COLUMN] for s in a.accounts}
    assert column == {"5600000001": "1/0/1", "3000000002": "1/0/1", "gh_bit_gradnews": "1/0/1",
                      "5600000004": "0/1/1", "5600000005": "0/0/1", CENTRAL: "无任务"}
    assert assess.LINKAGE_COLUMN in assess.render_html(a)
