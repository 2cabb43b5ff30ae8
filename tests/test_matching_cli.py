import json

from click.testing import CliRunner

from watcher.cli import main_group
from watcher.config import load_config
from watcher.store import Store, utcnow


def _run(config_path, lines):
    return CliRunner().invoke(main_group, ["match", "--config", str(config_path)], input="\n".join(lines) + "\n")


def test_contract_one_line_out_per_line_in(config_path):
    r = _run(config_path, [
        json.dumps({"platform": "weibo", "account_id": "1891724861", "name": "北京理工大学"}),
        json.dumps({"platform": "douyin", "account_id": "9", "name": "北理工计算机学院", "bio": "", "extra": 1}),
        json.dumps({"platform": "douyin", "account_id": "10", "name": "南京工业大学"}),
    ])
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["verdict"] for o in out] == ["registered", "suspect", "clear"]
    for o in out:
        assert {"platform", "account_id", "name", "verdict", "score", "matched", "unit", "reasons", "algo"} <= set(o)
    assert out[1]["unit"] == "计算机学院" and out[1]["extra"] == 1


def test_bad_lines_are_reported_and_the_rest_processed(config_path):
    r = _run(config_path, ["{oops", json.dumps({"platform": "weibo", "name": "x"}),
                           json.dumps({"platform": "weibo", "account_id": "1", "name": "北理工"})])
    assert r.exit_code == 1
    assert "第 1 行" in r.stderr and "第 2 行" in r.stderr and "account_id" in r.stderr
    assert len(r.stdout.splitlines()) == 1


def test_reviewer_allow_rule_is_honoured(config_path):
    cfg = load_config(config_path)
    line = json.dumps({"platform": "douyin", "account_id": "77", "name": "北理工摄影爱好者"})
    assert json.loads(_run(config_path, [line]).stdout)["verdict"] == "suspect"
    with Store.open(cfg.db_path) as s:
        s.db["name_rules"].insert({"kind": "allow", "name": "北理工摄影爱好者", "actor": "t", "created_at": utcnow()})
    assert json.loads(_run(config_path, [line]).stdout)["verdict"] == "clear"


def test_a_line_that_breaks_the_matcher_costs_only_itself(config_path):
    import io

    from watcher.cli.match_cmd import build_matcher, run_match

    matcher = build_matcher(load_config(config_path))
    judge = matcher._analyse

    def fragile(c, *args, **kw):
        if "炸" in c.name:
            raise RuntimeError("boom")
        return judge(c, *args, **kw)

    matcher._analyse = fragile
    lines = [json.dumps({"platform": "douyin", "account_id": str(i), "name": n})
             for i, n in enumerate(["北理工表白墙", "北理工炸了", "北理工二手"])]
    out, err = io.StringIO(), io.StringIO()
    assert run_match(matcher, io.StringIO("\n".join(lines) + "\n"), out, err) == 1
    assert [json.loads(x)["account_id"] for x in out.getvalue().splitlines()] == ["0", "2"]
    assert "第 2 行" in err.getvalue() and "boom" in err.getvalue()


def _run_bytes(config_path, data: bytes):
    return CliRunner().invoke(main_group, ["match", "--config", str(config_path)], input=data)


def test_platform_in_chinese_and_an_unknown_platform_is_a_line_error(config_path):
    r = _run(config_path, [json.dumps({"platform": "微博", "account_id": "1891724861", "name": "北京理工大学"}, ensure_ascii=False),
                           json.dumps({"platform": "脸书", "account_id": "1", "name": "北理工"}, ensure_ascii=False),
                           json.dumps({"platform": "B站", "account_id": "2", "name": "北理工表白墙"}, ensure_ascii=False)])
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["verdict"] for o in out] == ["registered", "suspect"] and out[0]["platform"] == "微博"
    assert r.exit_code == 1 and "第 2 行" in r.stderr and "脸书" in r.stderr and "无法识别" in r.stderr


def test_bytes_that_are_not_utf8_a_bom_and_deep_nesting_cost_only_their_line(config_path):
    good = json.dumps({"platform": "weibo", "account_id": "1891724861", "name": "北京理工大学"}, ensure_ascii=False)
    data = ("\ufeff" + good + "\n").encode() + '{"platform":"weibo","account_id":"3","name":"北理工"}\n'.encode("gbk") \
        + ("[" * 100_000 + "]" * 100_000 + "\n").encode() + (good + "\n").encode()
    r = _run_bytes(config_path, data)
    assert r.exit_code == 1
    assert [json.loads(x)["verdict"] for x in r.stdout.splitlines()] == ["registered", "registered"]
    assert "第 2 行：不是 UTF-8 编码" in r.stderr and "第 3 行：JSON 嵌套层数过多" in r.stderr
    assert "Traceback" not in r.output
