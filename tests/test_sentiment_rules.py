"""The rules people write (watcher.opinion.rules) and ``watcher sentiment test``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from tests.conftest import write_config
from watcher.cli.common import main_group
from watcher.config import ConfigError, load_config
from watcher.opinion.rules import RuleError, default_rules, parse_rules

RULES = """\
# 食堂与宿舍的投诉
[后勤投诉] 级别=critical 单位=后勤保障部
北京理工大学
北理工
+食堂|宿舍|/澡堂|浴室/
!招聘

[学术诚信] severity=warning unit=科研院
北理工
+/(论文|数据)(造假|抄袭)/

[BIT 英文]
BIT
"""


@pytest.mark.parametrize("text, groups", [
    ("北理工食堂吃出虫子", ["后勤投诉"]),
    ("北京理工大学宿舍停电三天", ["后勤投诉"]),
    ("北理工澡堂没有热水", ["后勤投诉"]),               # a required /regex/ alternative
    ("北理工食堂招聘厨师", []),                           # the exclusion wins
    ("北理工今天运动会", []),                             # the subject without a required word
    ("食堂的饭太难吃了", []),                             # a required word without the subject
    ("网传北理工某教授论文造假", ["学术诚信"]),
    ("北理工食堂阿姨说有人论文抄袭", ["后勤投诉", "学术诚信"]),
    ("BIT lab accident", ["BIT 英文"]),
    ("orbit and Bitcoin", []),                            # ASCII words match whole words only
    ("ＢＩＴ 全角也算", ["BIT 英文"]),                   # full-width folds to half-width
])
def test_groups_match_with_and_or_not(text, groups):
    rules = parse_rules(RULES, "rules.txt")
    assert [m.group.name for m in rules.matches(text)] == groups


def test_a_group_carries_severity_and_unit_and_explains_itself():
    rules = parse_rules(RULES, "rules.txt")
    m = rules.matches("北京理工大学宿舍又停电")[0]
    assert (m.group.severity, m.group.unit) == ("critical", "后勤保障部")
    assert m.reason() == "规则组「后勤投诉」：提及「北京理工大学」，且含「宿舍」"
    miss = rules.explain("北理工食堂招聘")[0]
    assert not miss.matched and "含排除词「招聘」" in miss.why_not()
    assert "缺少必含词 +/(论文|数据)(造假|抄袭)/" in rules.explain("北理工运动会")[1].why_not()


def test_headerless_groups_separated_by_blank_lines_as_in_trendradar():
    rules = parse_rules("北理工\n+食堂\n\n北京理工大学\n!招聘\n", "f.txt")
    assert [g.name for g in rules.groups] == ["规则组1", "规则组2"]
    assert [m.group.name for m in rules.matches("北理工食堂")] == ["规则组1"]
    assert rules.matches("北京理工大学招聘") == []


def test_the_longer_name_covers_its_abbreviation():
    rules = default_rules(["北京理工大学"], ["北理工", "北理"], ["BIT"])
    assert rules.matches("北京理工大学招生")[0].words == ["北京理工大学"]
    assert rules.groups[0].name == "本校提及"


@pytest.mark.parametrize("text, error", [
    ("", "没有任何规则组"),
    ("# 只有注释\n", "没有任何规则组"),
    ("[组\n北理工\n", "第 1 行：组标题应写成"),
    ("[]\n北理工\n", "第 1 行"),
    ("[组] 级别=很高\n北理工\n", "第 1 行：级别「很高」无效"),
    ("[组] 颜色=红\n北理工\n", "第 1 行：未知的设置「颜色」"),
    ("[组] 级别\n北理工\n", "第 1 行：无法理解「级别」"),
    ("[组]\n北理工\n/[未闭合/\n", "第 3 行：正则表达式 /[未闭合/ 无效"),
    ("[组]\n/北理工\n", "第 2 行：正则表达式 /北理工 缺少结尾的 /"),
    ("[组]\n北理工\n+\n", "第 3 行：+ 后应有必含词"),
    ("[组]\n北理工\n+食堂||宿舍\n", "第 3 行：+ 后应有必含词"),
    ("[组]\n北理工\n!\n", "第 3 行：! 后应有排除词"),
    ("[组]\n!招聘\n", "规则组「组」没有关键词"),
    ("[组]\n北理工\n[组]\n北京理工大学\n", "规则组名「组」重复"),
    ("[组]\n//\n", "第 2 行：正则表达式为空"),
])
def test_bad_rules_are_refused_with_file_and_line(text, error):
    with pytest.raises(RuleError) as e:
        parse_rules(text, "rules.txt")
    assert "rules.txt" in str(e.value) and error in str(e.value)


def test_a_bad_rules_file_in_the_config_is_a_config_error(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "rules.txt").write_text("[组] 级别=很高\n北理工\n", encoding="utf-8")
    path = write_config(tmp_path / "conf", sentiment={"rules": "rules.txt"})
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "sentiment.rules" in e.value.render() and "第 1 行" in e.value.render()


def test_cli_test_with_text_shows_groups_and_polarity(cfg, tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text(RULES, encoding="utf-8")
    r = CliRunner().invoke(main_group, ["sentiment", "test", str(rules), "--config", str(cfg.source),
                                        "--text", "北理工食堂吃出虫子，太恶心了", "--text", "北理工运动会开幕"])
    assert r.exit_code == 0, r.output
    assert "✔ 规则组「后勤投诉」：提及「北理工」，且含「食堂」" in r.output
    assert "风险词「吃出」、「虫子」" in r.output and "负面，将生成舆情发现" in r.output
    assert "✘ 规则组「后勤投诉」未命中：缺少必含词 +食堂|宿舍|/澡堂|浴室/" in r.output


def test_cli_test_since_reads_stored_posts(cfg, store, tmp_path):
    now = datetime.now(UTC)
    store.db["posts"].insert_all([
        {"platform": "weibo", "post_id": "1", "account_id": "u", "text": "北京理工大学宿舍停电三天没人管",
         "created_at": (now - timedelta(days=1)).isoformat(), "first_seen": now.isoformat(),
         "last_seen": now.isoformat(), "url": "https://m.weibo.cn/detail/1"},
        {"platform": "weibo", "post_id": "2", "account_id": "u", "text": "北理工运动会",
         "created_at": (now - timedelta(days=2)).isoformat(), "first_seen": now.isoformat(),
         "last_seen": now.isoformat()},
        {"platform": "weibo", "post_id": "3", "account_id": "u", "text": "北理工宿舍很温馨",
         "created_at": (now - timedelta(days=30)).isoformat(), "first_seen": now.isoformat(),
         "last_seen": now.isoformat()},
    ])
    rules = tmp_path / "rules.txt"
    rules.write_text(RULES, encoding="utf-8")
    r = CliRunner().invoke(main_group, ["sentiment", "test", str(rules), "--since", "7d", "--config", str(cfg.source)])
    assert r.exit_code == 0, r.output
    assert "北京理工大学宿舍停电三天没人管" in r.output and "https://m.weibo.cn/detail/1" in r.output
    assert "北理工运动会" not in r.output          # not matched: listed only with --all
    assert "温馨" not in r.output                  # older than 7 days
    assert "共 2 条帖子，命中 1 条" in r.output


@pytest.mark.parametrize("args, message", [
    ([], "请给出 --text"),
    (["--since", "一周"], "无法识别"),
])
def test_cli_test_refuses_bad_input(cfg, tmp_path, args, message):
    rules = tmp_path / "rules.txt"
    rules.write_text(RULES, encoding="utf-8")
    r = CliRunner().invoke(main_group, ["sentiment", "test", str(rules), "--config", str(cfg.source), *args])
    assert r.exit_code == 2 and message in r.output


def test_cli_test_names_the_bad_line(cfg, tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text("[组]\n北理工\n+\n", encoding="utf-8")
    r = CliRunner().invoke(main_group, ["sentiment", "test", str(rules), "--text", "x", "--config", str(cfg.source)])
    assert r.exit_code == 2 and "第 3 行" in r.output and "Traceback" not in r.output


def test_the_example_rules_file_parses_and_means_what_it_says():
    from pathlib import Path

    from watcher.opinion.rules import load_rules

    rules = load_rules(Path(__file__).parent.parent / "config" / "sentiment_rules.example.txt")
    names = lambda text: [m.group.name for m in rules.matches(text)]  # noqa: E731
    assert names("北理工食堂吃出一只虫子") == ["后勤投诉", "食品安全"]
    assert names("北理工食堂招聘厨师") == []
    assert names("网传北京理工大学某教授论文造假") == ["学术诚信"]
    assert names("北理工导师长期压榨研究生") == ["师德师风"]
    assert {g.unit for g in rules.groups} >= {"后勤保障部", "科学技术研究院"}
