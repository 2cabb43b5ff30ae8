"""错敏检查 on real-shaped posts of registered accounts: each problem one finding with its passage,
routed to the account's unit; the same wrong forms quoted in a correction are no finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spiders.items import Post
from tests.conftest import write_config
from watcher import registry
from watcher.compliance.checks import Checker
from watcher.config import ComplianceConfig, load_config
from watcher.registry import RegistryRecord
from watcher.store import Store
from watcher.store.findings import list_findings
from watcher.store.posts import save_post
from watcher.watch.analyze import analyse_account

UID = "5612340001"
NOW = datetime.now(UTC)
COMPLIANCE = {
    "leaders": [{"name": "张军", "title": "校长", "outdated_titles": ["副校长", "常务副校长"]},
                {"name": "王晓锋", "title": "党委书记"}],
    "word_lists": [{"name": "广告法极限用语", "words": ["国内第一", "全网最低"]}],
}

POSTS = {  # post id → Weibo text (as html_text leaves it)
    "101": "【喜报】北京理工大字学子在全国大学生数学建模竞赛中获一等奖 #北理工# ",
    "102": "12月1日，副校长张军出席第十届校园科技节开幕式并致辞。",
    "103": "北理工文创新品上线！\n扫码购买或加微信 bitshop2026 享限时优惠，包邮到家。",
    "104": "【更正】我号12月1日推文中“北京理工大字”应为“北京理工大学”，“副校长张军”应为“校长张军”；"
           "文末“扫码购买或加微信”为误发，已删除。特此更正并致歉。",
    "105": "学校前身是1940年创建于延安的自然科学院，1952年定名为北京工业学院，1988年更名为北京理工大学。",
    "106": "北京化工大学与北京理工大学签署战略合作协议，校长张军出席。",
}


def _mblog(mid: str, text: str) -> dict:
    return {"id": mid, "mid": mid, "created_at": "Sun Dec 06 09:00:00 +0800 2026", "text": text,
            "user": {"id": int(UID), "screen_name": "北理工计算机学院"}, "reposts_count": 3, "comments_count": "12",
            "attitudes_count": 40, "source": "微博网页版"}


@pytest.fixture
def checker(cfg):
    return Checker(cfg.model_copy(update={"compliance": ComplianceConfig.model_validate(COMPLIANCE)}))


@pytest.fixture
def world(tmp_path):
    cfg = load_config(write_config(tmp_path / "c", compliance=COMPLIANCE))
    store = Store.open(cfg.db_path)
    registry.add_account(store, RegistryRecord(platform="weibo", account_name="北理工计算机学院", account_id=UID,
                                               unit="计算机学院", tier=2))
    yield cfg, store
    store.close()


def _save(store: Store, posts: dict[str, str]) -> None:
    with store.transaction():
        for pid, text in posts.items():
            save_post(store, Post(platform="weibo", account_id=UID, post_id=pid, text=text,
                                  created_at=(NOW - timedelta(hours=1)).isoformat(),
                                  url=f"https://m.weibo.cn/detail/{pid}", raw=_mblog(pid, text)), None)


def test_each_problem_is_one_finding_with_its_passage_and_corrections_are_not(world):
    cfg, store = world
    _save(store, POSTS)
    counts = analyse_account(cfg, store, "weibo", UID, run_id=1, now=NOW)  # the watch's own hook
    assert counts["compliance"] == 3
    found = {f.details["post_id"]: f for f in list_findings(store, kind="compliance")}
    assert set(found) == {"101", "102", "103"}  # not the correction, the history, nor another school
    assert found["101"].details["passage"] == "北京理工大字"
    assert found["101"].details["reasons"] == ["校名疑似写错：「北京理工大字」应为「北京理工大学」：……【喜报】【北京理工大字】学子在全国大学生数学建模竞赛中……"]
    assert found["102"].details["passage"] == "副校长张军"
    assert "现任「校长」" in found["102"].details["reasons"][0]
    assert found["103"].details["passage"] == "扫码购买或加微信 bitshop2026 享限时优惠，包邮"
    assert all(f.unit == "计算机学院" for f in found.values())
    # analysed again (a second run): nothing new
    assert analyse_account(cfg, store, "weibo", UID, run_id=2, now=NOW)["compliance"] == 0
    # an edit that keeps the error is the same finding; an edit that adds one is a new one
    _save(store, {"101": POSTS["101"] + "（图）", "106": POSTS["106"] + "我校科研实力国内第一。"})
    assert analyse_account(cfg, store, "weibo", UID, run_id=3, now=NOW)["compliance"] == 1
    assert [f.revision for f in list_findings(store, kind="compliance") if f.details["post_id"] == "101"] == [1]
    words = list_findings(store, kind="compliance", search=None)
    assert any(f.details["passage"] == "国内第一" and "「广告法极限用语」" in f.details["reasons"][0]
               and f.details["edited"] for f in words)


def test_old_posts_first_seen_are_not_new(world):
    cfg, store = world
    with store.transaction():
        save_post(store, Post(platform="weibo", account_id=UID, post_id="9", text=POSTS["101"],
                              created_at="2021-05-01T10:00:00+08:00", raw=_mblog("9", POSTS["101"])), None)
    assert analyse_account(cfg, store, "weibo", UID, run_id=1, now=NOW)["compliance"] == 0


@pytest.mark.parametrize(("text", "check", "passage"), [
    ("北京里工大学2026年迎新典礼隆重举行", "school_name", "北京里工大学"),              # homophone
    ("北京工理大学研究生招生简章发布", "school_name", "北京工理大学"),                  # swapped
    ("北京工业学院2026级新生报到", "school_name", "北京工业学院"),                    # old name as current
    ("Welcome to Beijing Institute of Techology!", "school_name", "Beijing Institute of Techology"),
    ("校长张君出席开幕式", "leader", "校长张君"),
    ("党委常委、常务副校长张军主持会议", "leader", "常务副校长张军"),
    ("详见 http://shop.example.net/bit 了解", "link", "http://shop.example.net/bit"),
    ("本店代购正品，私信下单", "advertising", "代购正品，私信下单"),
])
def test_problems(checker, text, check, passage):
    issues = checker.check(text)
    assert [(i.check, i.passage) for i in issues] == [(check, passage)]


@pytest.mark.parametrize("text", [
    "北京化工大学、南京理工大学与北京理工大学举行交流",          # other schools, not typos
    "学校原名北京工业学院，1988年更名。",                       # history
    "时任副校长张军出席了会议",                                 # a past title
    "所谓“国内第一”的说法并不准确",                             # quoted
    "学费优惠政策见招生网 https://admission.bit.edu.cn/ 及 http://t.cn/A6abcd",  # 优惠政策, allowed hosts
    "北京理工大学珠海学院举行毕业典礼",                          # configured other institution
    "“北京理工大字”系笔误，应为“北京理工大学”",
])
def test_no_noise(checker, text):
    assert checker.check(text) == []


def test_long_hostile_text_is_bounded(checker):
    text = "北京理工大学" * 100_000 + "北京理工大字"
    assert checker.check(text) == []  # past the first MAX_TEXT characters: not read


def test_check_command(tmp_path):
    from click.testing import CliRunner

    from watcher.cli import main_group

    path = write_config(tmp_path / "c", compliance=COMPLIANCE)
    res = CliRunner().invoke(main_group, ["compliance", "check", "--text", POSTS["102"], "--text", POSTS["104"],
                                          "--config", str(path)])
    assert res.exit_code == 0, res.output
    assert "领导姓名或职务有误：12月1日，【副校长张军】出席第十届校园科技节开幕式并致" in res.output
    assert res.output.count("未发现问题") == 1
