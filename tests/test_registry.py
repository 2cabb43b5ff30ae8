import csv

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from tests.conftest import EXAMPLE_REGISTRY
from watcher import registry as reg
from watcher.cli import main_group

EN_HEADER = ["platform", "account_name", "account_id", "unit", "tier", "status", "head_email"]


def _csv(path, header, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_import_example_with_chinese_headers(store):
    counts = reg.import_file(store, EXAMPLE_REGISTRY)
    assert counts["added"] == 9
    row = reg.find_account(store, "weibo", "1891724861")
    assert row.account_name == "北京理工大学" and row.tier == 1 and row.unit == "党委宣传部"
    assert row.head_mobile == "13800000001"
    assert reg.find_account(store, "weibo", "2200000456").status == "closed"
    assert len(reg.active_accounts(store)) == 8


def test_import_english_headers_and_gbk(tmp_path, store):
    p = _csv(tmp_path / "en.csv", EN_HEADER,
             [["bilibili", "北理工团委", "123", "校团委", "3", "active", "tw@example.edu.cn"],
              ["B站", "北理工机电", "456", "机电学院", "二级", "正常", ""]], encoding="gb18030")
    assert reg.import_file(store, p)["added"] == 2
    assert reg.find_account(store, "bilibili", "456").tier == 2


def test_import_xlsx(tmp_path, store):
    wb = Workbook()
    ws = wb.active
    ws.append(["平台", "账号名称", "账号ID", "开设单位", "级别", "粉丝数", "备案日期"])
    ws.append(["抖音", "北理工", 60000001, "党委宣传部", "一级", "1.5万", "2024/3/1"])
    ws.append(["微信公众号", "北理工图书馆", "gh_lib", "图书馆", 2, 1200, None])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    assert reg.import_file(store, p)["added"] == 2
    row = reg.find_account(store, "douyin", "60000001")
    assert row.followers == 15000 and row.registered_date == "2024-03-01"


def test_bad_rows_are_all_reported_and_nothing_is_imported(tmp_path, store):
    p = _csv(tmp_path / "bad.csv", ["平台", "账号名称", "账号ID", "开设单位", "级别", "负责人邮箱"], [
        ["微博", "北理工", "1", "宣传部", "一级", ""],          # line 2 ok
        ["脸书", "北理工", "2", "宣传部", "一级", ""],          # line 3 bad platform
        ["微博", "", "3", "宣传部", "一级", ""],                # line 4 missing name
        ["微博", "北理工", "4", "宣传部", "四级", "not-mail"],  # line 5 bad tier + email
        ["微博", "北理工", "1", "宣传部", "一级", ""],          # line 6 duplicate of line 2
    ])
    with pytest.raises(reg.RegistryImportError) as e:
        reg.import_file(store, p)
    text = e.value.render()
    for line in ("第 3 行", "第 4 行", "第 5 行", "第 6 行"):
        assert line in text
    assert "第 2 行" not in text.replace("与第 2 行重复", "")
    assert "脸书" in text and "级别" in text and "邮箱" in text
    assert store.scalar("SELECT COUNT(*) FROM registry_accounts") == 0


def test_missing_required_column(tmp_path, store):
    p = _csv(tmp_path / "h.csv", ["平台", "账号名称"], [["微博", "x"]])
    with pytest.raises(reg.RegistryImportError) as e:
        reg.import_file(store, p)
    assert "表头" in e.value.render() and "账号ID" in e.value.render()


def test_change_filing_and_close_keep_history(store):
    reg.import_file(store, EXAMPLE_REGISTRY)
    reg.file_change(store, "weibo", "1891724861", "account_name", "北京理工大学官微", filed_date="2026-10-09")
    reg.file_change(store, "weibo", "1891724861", "avatar", "new-emblem.png", filed_date="2026-10-10")
    row = reg.find_account(store, "weibo", "1891724861")
    assert row.account_name == "北京理工大学官微"
    changes = [f for f in reg.filings_for(store, row.id) if f.kind == "change"]
    assert [(f.field, f.old_value, f.new_value, f.filed_date) for f in changes] == [
        ("account_name", "北京理工大学", "北京理工大学官微", "2026-10-09"),
        ("avatar", None, "new-emblem.png", "2026-10-10"),
    ]
    reg.close_account(store, "weibo", "1891724861", closed_date="2026-11-01", note="合并")
    row = reg.find_account(store, "weibo", "1891724861")
    assert row.status == "closed" and row.closed_date == "2026-11-01"
    assert reg.filings_for(store, row.id)[-1].kind == "close"
    with pytest.raises(reg.RegistryError):
        reg.file_change(store, "weibo", "1891724861", "bio", "x")


def test_export_reimports_unchanged(tmp_path, store):
    reg.import_file(store, EXAMPLE_REGISTRY)
    for ext in ("csv", "xlsx"):
        out = tmp_path / f"out.{ext}"
        assert reg.export_file(store, out) == 9
        assert reg.import_file(store, out)["unchanged"] == 9


def test_cli_import_reports_errors_and_lists(tmp_path, config_path):
    bad = _csv(tmp_path / "bad.csv", ["平台", "账号名称", "账号ID", "开设单位", "级别"], [["微博", "x", "1", "u", "9"]])
    r = CliRunner().invoke(main_group, ["registry", "import", str(bad), "--config", str(config_path)])
    assert r.exit_code == 1 and "第 2 行" in r.output
    r = CliRunner().invoke(main_group, ["registry", "import", "--config", str(config_path)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main_group, ["registry", "list", "--json", "--config", str(config_path)])
    assert r.exit_code == 0 and "gh_bit_grad" in r.output
    r = CliRunner().invoke(main_group, ["registry", "add", "--platform", "知乎", "--name", "北理工研究生会",
                                        "--id", "bit-gsu", "--unit", "研究生院", "--tier", "三级",
                                        "--config", str(config_path)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main_group, ["registry", "add", "--platform", "知乎", "--name", "x",
                                        "--id", "y", "--unit", "u", "--tier", "5", "--config", str(config_path)])
    assert r.exit_code == 2 and "级别" in r.output
