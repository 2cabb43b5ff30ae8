from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import EXAMPLE_CONFIG
from watcher.cli import main_group
from watcher.config import ConfigError, load_config, parse_duration


def run(*args: str):
    return CliRunner().invoke(main_group, list(args))


def test_example_config_is_valid():
    result = run("check-config", "--config", str(EXAMPLE_CONFIG))
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output
    assert "北京理工大学" in result.output


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for cmd in ("check-config", "registry", "run"):
        assert cmd in result.output


def _broken(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    raw["registry"] = str(EXAMPLE_CONFIG.parent / "registry.example.csv")
    raw["school"]["logos"] = [str(EXAMPLE_CONFIG.parent / "logos" / "emblem.png")]
    mutate(raw)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "mutate, key_path",
    [
        (lambda r: r["platforms"]["weibo"].update(rate="fast"), "platforms.weibo.rate"),
        (lambda r: r["schedule"].update(crawl_concurrency="two"), "schedule.crawl_concurrency"),
        (lambda r: r["school"]["names"].update(full="北京理工大学"), "school.names.full"),
        (lambda r: r["units"][1].update(channels=[{"type": "email"}]), "units[1].channels[0]"),
        (lambda r: r.update(colour="blue"), "colour"),
        (lambda r: r["platforms"].update(myspace={}), "platforms"),
        (lambda r: r["periods"][0].update(yearly_start="June"), "periods[0].yearly_start"),
    ],
)
def test_wrong_values_exit_2_and_name_the_key_path(tmp_path, mutate, key_path):
    p = _broken(tmp_path, mutate)
    result = run("check-config", "--config", str(p))
    assert result.exit_code == 2
    assert str(p) in result.output
    assert key_path in result.output


def test_yaml_syntax_error_names_the_line(tmp_path):
    p = tmp_path / "syntax.yaml"
    p.write_text("school:\n  name: [unclosed\nunits: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "行" in e.value.errors[0]


def test_missing_files_are_reported(tmp_path):
    p = _broken(tmp_path, lambda r: r.update(registry="nope.csv"))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert any("registry" in err and "不存在" in err for err in e.value.errors)


def test_relative_paths_resolve_against_the_config_file(config_path):
    cfg = load_config(config_path)
    assert cfg.registry_path == (config_path.parent / "registry.csv").resolve()
    assert cfg.data_path == (config_path.parent / "data").resolve()


def test_base_url_override(config_path):
    cfg = load_config(config_path)
    cfg.platforms["bilibili"].base_url = "http://127.0.0.1:9/"
    urls = cfg.platform("bilibili").urls("bilibili")
    assert set(urls.values()) == {"http://127.0.0.1:9"}


@pytest.mark.parametrize("value, seconds", [(90, 90), ("10m", 600), ("6h", 21600), ("1d", 86400)])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


def test_bad_duration():
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r["platforms"]["weibo"].update(rate="fast"), "platforms.weibo.rate: 应为数字（实际为 'fast'）"),
    (lambda r: r["platforms"]["weibo"].update(pages=99), "platforms.weibo.pages: 应不大于 50"),
    (lambda r: r["platforms"]["weibo"].update(enabled="maybe"), "platforms.weibo.enabled: 应为 true 或 false"),
    (lambda r: r["units"][1].update(policy="weekly"), "units[1].policy: 应为以下之一：'immediate' or 'digest'"),
    (lambda r: r["platforms"]["weibo"].update(proxy="socks5://10.0.0.2:1080"), "platforms.weibo.proxy: 格式不符"),
])
def test_validation_errors_in_chinese_with_key_path_and_expectation(tmp_path, mutate, expected):
    with pytest.raises(ConfigError) as e:
        load_config(_broken(tmp_path, mutate))
    assert any(line.startswith(expected) for line in e.value.errors), e.value.errors
    assert not any("Input should" in line or "String should" in line for line in e.value.errors)


def test_check_config_flags_a_watch_interval_the_registry_cannot_keep(tmp_path):
    """300 Weibo accounts every 10 minutes: the estimate, why it cannot be met, and what can."""
    from tests.conftest import write_config

    path = write_config(tmp_path, platforms={"weibo": {"enabled": True, "interval": 3, "per_minute": 20}},
                        schedule={"watch_every": "10m"}, periods=[])
    rows = ["平台,账号名称,账号ID,开设单位,级别"] + [f"微博,北京理工大学学院{i},{100000 + i},党委宣传部,二级" for i in range(300)]
    (tmp_path / "registry.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("check-config", "--config", str(path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "微博的巡检安排无法满足" in out.splitlines()[0]
    assert "微博：巡检 300 个目标，每轮约 600–1200 次请求、约 1 小时（每次请求约 3.0 秒）" in out
    assert "长于间隔 10 分钟，下一轮到期时上一轮仍在进行，会被跳过" in out
    # pages: 3 cannot fit even one round in the day's 1,500 requests; pages: 1 fits once a day
    assert "不够一轮巡检的 1200 次" in out
    assert "platforms.weibo.pages: 1，当前 3）：每轮约 600 次请求、约 30 分钟，此时 schedule.watch_every 可改为 1d" in out
    assert "crawl.redis_url" in out


def test_check_config_offers_the_shortest_interval_that_fits(tmp_path):
    from tests.conftest import write_config
    from watcher import capacity

    path = write_config(tmp_path, platforms={"weibo": {"enabled": True, "interval": 3, "per_minute": 20}},
                        schedule={"watch_every": "10m"}, periods=[])
    cfg = load_config(path)
    est = capacity.estimate_platform(cfg, "weibo", 40)  # 160 requests a round, 8 minutes
    assert est.round_high == 160 and not est.fits
    # the round fits in 10 minutes; the budget left after discovery and mentions does not
    assert est.workable == 6 * 3600 and "schedule.watch_every 改为 6h" in est.text()  # 86400 × 160 / 756 ≈ 5.1 h
    assert capacity.estimate_platform(cfg, "weibo", 0).fits


@pytest.mark.parametrize(("text", "words"), [
    ("a: 1\n\tb: 2\n", "制表符"),
    ("a: b: c\n", "未加引号的冒号"),
    ("a:\n  b: 1\n c: 2\n", "缩进不一致"),
    ('p: "C:\\x"\n', "无效的转义"),
    ("x: [\n", "缺少值"),
])
def test_yaml_syntax_errors_are_said_in_chinese(tmp_path, text, words):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    rendered = e.value.render()
    assert "YAML 语法错误（第" in rendered and words in rendered, rendered
    assert not any(w in rendered for w in ("found", "expected", "mapping values"))
