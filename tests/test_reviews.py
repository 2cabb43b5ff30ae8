"""Annual review status (年审): the CLI, and the registry import/export that carries it."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from watcher import registry as reg
from watcher.cli import main_group
from watcher.store import reviews


def _run(config_path, *args):
    return CliRunner().invoke(main_group, [*args, "--config", str(config_path)])


def test_review_cli_sets_lists_and_keeps_history(config_path, cfg, store):
    reg.import_file(store, cfg.registry_path)
    res = _run(config_path, "registry", "review", "weibo", "1891724861", "--year", "2025", "--status", "已提交",
               "--date", "2025/12/5")
    assert res.exit_code == 0, res.output
    assert "2025 年审 已提交（2025-12-05）" in res.output
    res = _run(config_path, "registry", "review", "weibo", "1891724861", "--year", "2025", "--status", "passed",
               "--note", "材料齐全")
    assert res.exit_code == 0, res.output
    res = _run(config_path, "registry", "reviews", "--year", "2025", "--json")
    rows = {r["account_id"]: r for r in json.loads(res.output)}
    assert rows["1891724861"]["status_label"] == "合格" and rows["1891724861"]["note"] == "材料齐全"
    assert rows["gh_bit_official"]["status_label"] == "未提交"  # nothing recorded yet
    rid = reg.find_account(store, "weibo", "1891724861").id
    assert [(h.old_status, h.new_status) for h in reviews.history(store, rid)] == [(None, "submitted"),
                                                                                        ("submitted", "passed")]


@pytest.mark.parametrize("args, message", [
    (["--status", "优秀"], "年审状态 '优秀' 无法识别"),
    (["--status", "合格", "--date", "12月5日"], "无法识别，应为 YYYY-MM-DD"),
])
def test_review_cli_refuses_bad_input_in_chinese(config_path, cfg, store, args, message):
    reg.import_file(store, cfg.registry_path)
    res = _run(config_path, "registry", "review", "weibo", "1891724861", "--year", "2025", *args)
    assert res.exit_code == 2 and message in res.output
    assert "Traceback" not in res.output


def test_export_carries_reviews_and_reimports_them(cfg, store, tmp_path):
    reg.import_file(store, cfg.registry_path)
    rid = reg.find_account(store, "weibo", "1891724861").id
    reviews.set_review(store, rid, 2024, "passed", reviewed_date="2024-12-20")
    reviews.set_review(store, rid, 2025, "rectify", reviewed_date="2025-12-20", note="限期一个月")
    out = tmp_path / "out.csv"
    reg.export_file(store, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    row = next(r for r in rows if r["账号ID"] == "1891724861")
    assert (row["年审年度"], row["年审状态"], row["年审状态日期"], row["年审备注"]) == ("2025", "限期整改", "2025-12-20",
                                                                              "限期一个月")
    assert reg.import_file(store, out)["reviews"] == 0  # an export re-imports unchanged
    # a department fills in the column and imports it back
    row["年审状态"] = "合格"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert reg.import_file(store, out)["reviews"] == 1
    assert reviews.get_review(store, rid, 2025).label == "合格"


def test_import_refuses_a_review_without_year(cfg, store, tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("平台,账号名称,账号ID,开设单位,级别,年审状态\n微博,北理工,123,党委宣传部,一级,合格\n", encoding="utf-8")
    with pytest.raises(reg.RegistryImportError) as e:
        reg.import_file(store, src)
    assert "第 2 行" in e.value.render() and "年审年度为空" in e.value.render()


def test_public_page_shows_reviews_closed_accounts_and_nothing_personal(tmp_path):
    from tests.conftest import write_config
    from watcher.config import load_config
    from watcher.store import Store
    from watcher.web.publish import publish

    cfg = load_config(write_config(tmp_path / "c", review={"report_address": "jubao@example.edu.cn"}))
    with Store.open(cfg.db_path) as store:
        reg.import_file(store, cfg.registry_path)
        ids = {r.account_id: r.id for r in reg.list_accounts(store)}
        reviews.set_review(store, ids["1891724861"], 2025, "passed", note="负责人张明已签字")
        reviews.set_review(store, ids["gh_bit_official"], 2025, "failed")
        reviews.set_review(store, ids["gh_bit_official"], 2024, "passed")
        publish(cfg, store, tmp_path / "pub")
        registry_text = " ".join(str(v) for r in reg.list_accounts(store) for v in vars(r).values() if v)
        active_units = {r.unit for r in reg.active_accounts(store)}
    page = (tmp_path / "pub" / "index.html").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "pub" / "accounts.json").read_text(encoding="utf-8"))
    accounts = {a["account_id"]: a for a in data["accounts"]}
    assert (accounts["1891724861"]["review_year"], accounts["1891724861"]["review"]) == (2025, "合格")
    assert (accounts["gh_bit_official"]["review_year"], accounts["gh_bit_official"]["review"]) == (2025, "不合格")
    closed = accounts["2200000456"]
    assert closed["status"] == "已注销" and closed["review"] is None
    # an account in use with nothing recorded for 2025 reads 未提交, marked, as its unit is below
    assert (accounts["5612340001"]["review_year"], accounts["5612340001"]["review"]) == (2025, "未提交")
    assert accounts["5612340001"]["review_flagged"] and not accounts["1891724861"]["review_flagged"]
    assert '<td class="flag">2025 未提交</td>' in page and '<td class="flag">2025 不合格</td>' in page
    assert "<td>北理工招生</td>" in page and '<td class="status">已注销' in page
    # every other unit's accounts have no 2025 record: 未提交; 党委宣传部 has one 不合格 and the rest 未提交
    assert "2025 年度年审未提交或不合格的单位" in page
    assert set(data["units_flagged"]) == active_units
    assert data["units_flagged"]["党委宣传部"].count("不合格") == 1 and "合格" not in data["units_flagged"]["党委宣传部"]
    assert "不合格 1 个" in page and "未提交" in page
    assert 'href="mailto:jubao@example.edu.cn"' in page and "举报疑似仿冒账号" in page
    # nothing personal: no phone, e-mail or name of a person from the registry, no reviewer's note
    for secret in ("13800000001", "010-68910000", "xcb@example.edu.cn", "张明", "李华", "王芳", "已签字"):
        assert secret in registry_text + "负责人张明已签字"
        assert secret not in page and secret not in json.dumps(data, ensure_ascii=False)
    assert "<style" not in page and "<script>" not in page  # CSP: style and script in files


def test_review_a_whole_unit_at_once_and_show_it(config_path, cfg, store):
    reg.import_file(store, cfg.registry_path)
    active = [r for r in reg.list_accounts(store, unit="党委宣传部", status="active")]
    res = _run(config_path, "registry", "review", "--unit", "党委宣传部", "--year", "2025", "--status", "已提交",
               "--date", "2025-12-10")
    assert res.exit_code == 0, res.output
    assert res.output.count("2025 年审 已提交（2025-12-10）") == len(active) > 1
    by_id = reviews.reviews_for_year(store, 2025)
    assert {r.id for r in active} == set(by_id)
    shown = _run(config_path, "registry", "show", "weibo", "1891724861")
    assert "年审：" in shown.output and "2025  已提交  2025-12-10" in shown.output
    data = json.loads(_run(config_path, "registry", "show", "weibo", "1891724861", "--json").output)
    assert data["reviews"][0]["label"] == "已提交"
    for args in ([], ["weibo", "1891724861", "--unit", "党委宣传部"], ["weibo"]):
        bad = _run(config_path, "registry", "review", *args, "--year", "2025", "--status", "合格")
        assert bad.exit_code == 2 and "二者选一" in bad.output
    assert _run(config_path, "registry", "review", "--unit", "不存在的单位", "--year", "2025",
                "--status", "合格").exit_code == 1


def test_xlsx_export_carries_reviews_and_reimports_unchanged(cfg, store, tmp_path):
    from openpyxl import load_workbook

    reg.import_file(store, cfg.registry_path)
    rid = reg.find_account(store, "weibo", "1891724861").id
    reviews.set_review(store, rid, 2025, "failed", reviewed_date="2025-12-21", note="发布差错未更正")
    out = tmp_path / "out.xlsx"
    reg.export_file(store, out)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    row = dict(zip(rows[0], next(r for r in rows if r[3] == "1891724861"), strict=True))
    assert (row["年审年度"], row["年审状态"], row["年审状态日期"]) == (2025, "不合格", "2025-12-21")
    counts = reg.import_file(store, out)
    assert counts["reviews"] == 0 and counts["updated"] == 0
