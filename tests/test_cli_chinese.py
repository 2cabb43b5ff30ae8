"""The command line speaks Chinese: click's usage, help and errors; platforms by any name."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from watcher import registry
from watcher.cli import main_group
from watcher.cli.common import PlatformType
from watcher.store import Store


def run(*args: str, **kw):
    return CliRunner().invoke(main_group, list(args), **kw)


@pytest.mark.parametrize(("args", "expected"), [
    (["nosuch"], "错误：没有命令 'nosuch'。"),
    (["demo", "--port", "abc"], "错误：'--port' 的值无效：'abc' 不是有效的整数。"),
    (["users", "add", "x", "--role", "nope"], "'nope' 不是有效的角色，可选：管理员、宣传部复核员、单位复核员"),
    (["users", "add", "x"], "错误：缺少选项 '--role'"),
    (["registry", "show", "脸书", "1"], "平台 '脸书' 无法识别"),
    (["match", "--nope"], "错误：没有选项 '--nope'。"),
])
def test_usage_errors_in_chinese(args, expected):
    r = run(*args)
    assert r.exit_code == 2 and expected in r.output, r.output
    assert "用法:" in r.output and "查看帮助" in r.output
    assert not any(w in r.output for w in ("Error:", "Usage:", "Try '", "Invalid value", "No such"))


def test_help_in_chinese():
    r = run("--help")
    assert r.exit_code == 0 and "选项" in r.output and "显示此帮助并退出" in r.output and "显示版本并退出" in r.output
    assert "Show this message" not in r.output and "Show the version" not in r.output


def test_registry_show_takes_the_platform_in_chinese(cfg):
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    for name in ("微博", "weibo", "新浪微博"):
        r = run("registry", "show", name, "1891724861", "-c", str(cfg.source))
        assert r.exit_code == 0 and "北京理工大学" in r.output, r.output


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_platform_parameter_takes_any_name_of_the_platform():
    platform_params = [(path, p.name) for path, command in _commands(main_group) for p in command.params
                       if p.name in ("platform", "platforms")]
    assert len(platform_params) >= 8
    for path, command in _commands(main_group):
        for p in command.params:
            if p.name in ("platform", "platforms"):
                assert isinstance(p.type, PlatformType), " ".join(path)


def test_registry_review_takes_the_platform_in_chinese(cfg):
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    r = run("registry", "review", "微信公众号", "gh_bit_official", "--year", "2025", "--status", "合格",
            "--date", "2025-12-20", "-c", str(cfg.source))
    assert r.exit_code == 0 and "2025 年审 合格（2025-12-20）" in r.output, r.output


def test_findings_list_takes_the_units_name_id_or_alias(cfg):
    from watcher.findings import FindingInput, record

    with Store.open(cfg.db_path) as s:
        record(s, FindingInput(kind="edit", dedupe_key="edit:1", title="学院的帖子被修改", unit="计算机学院"))
        record(s, FindingInput(kind="edit", dedupe_key="edit:2", title="研究生院的帖子被修改", unit="研究生院"))
    for unit in ("计算机学院", "cs", "计算机"):
        r = run("findings", "list", "--unit", unit, "-c", str(cfg.source))
        assert r.exit_code == 0 and "学院的帖子被修改" in r.output and "研究生院的" not in r.output, r.output
    r = run("findings", "list", "--unit", "不存在的学院", "-c", str(cfg.source))
    assert r.exit_code == 2 and "没有单位「不存在的学院」" in r.output and "计算机学院" in r.output


def _all_help():
    yield (), run("--help").output
    for path, _command in _commands(main_group):
        yield path, run(*path, "--help").output
    for name, command in main_group.commands.items():
        if isinstance(command, click.Group):
            yield (name,), run(name, "--help").output


def test_no_help_page_shows_an_english_metavar():
    """[OPTIONS] COMMAND [ARGS]..., TEXT, INTEGER RANGE, PLATFORM ACCOUNT_ID: click's words for
    the usage line and option types, said in Chinese."""
    import re

    english = re.compile(r"\[OPTIONS\]|\bCOMMAND\b|\[ARGS\]|\bTEXT\b|\bINTEGER\b|\bFLOAT\b|\bRANGE\b|\bBOOLEAN\b|"
                         r"\bPLATFORM\b|\bACCOUNT_ID\b|\bUSERNAME\b|\bFILENAME\b|\bPATH\b")
    for path, text in _all_help():
        assert text.startswith("用法:"), (path, text)
        assert not english.search(text), (path, english.search(text).group(0), text)
    assert "registry file-change [选项] 平台 账号ID" in run("registry", "file-change", "--help").output


def test_registry_words_in_and_out(cfg):
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    c = ("-c", str(cfg.source))
    assert run("registry", "file-change", "微博", "1891724861", "--field", "负责人手机", "--value", "13900000000", *c).exit_code == 0
    assert run("registry", "close", "微博", "1891724861", *c).exit_code == 0
    listed = run("registry", "list", "--status", "已注销", *c).output
    assert "北京理工大学" in listed and "已注销" in listed
    assert "在用" in run("registry", "list", "--status", "active", *c).output
    bad = run("registry", "list", "--status", "删了", *c)
    assert bad.exit_code == 2 and "可选：在用、已注销" in bad.output
    shown = run("registry", "show", "微博", "1891724861", *c).output
    assert "状态：已注销" in shown and "级别：一级" in shown and "平台：微博" in shown
    assert "负责人手机：13800000001 → 13900000000" in shown and "注销  状态：在用 → 已注销" in shown
    assert "经办：台账导入" in shown and "经办：命令行" in shown
    for word in ("active", "closed", "register", "head_mobile", "weibo", "import", "cli"):
        assert word not in shown, word
    assert "已撤销注销" in run("registry", "reopen", "微博", "1891724861", *c).output


def test_a_missing_config_file_is_said_in_chinese(tmp_path):
    r = run("check-config", "-c", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "文件不存在" in r.output and "No such file" not in r.output


def test_a_scan_with_no_registry_says_to_import_it(tmp_path):
    from tests.conftest import write_config

    # a site to watch that nothing listens on: the round fails at once, offline
    path = write_config(tmp_path, platforms={"website": {"enabled": True, "retries": 0, "sites": [
        {"id": "www", "name": "学校主页", "url": "http://127.0.0.1:9/"}]}})
    r = run("scan", "--watch", "-c", str(path))
    assert r.exit_code == 0, r.output
    assert "备案台账尚未导入，巡检没有目标" in r.output and "watcher registry import" in r.output
