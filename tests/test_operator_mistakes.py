"""Operator mistakes end in a Chinese message and an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import write_config
from watcher.cli import main_group
from watcher.config import load_config
from watcher.daemon import Daemon


def check(path: Path, env: dict[str, str] | None = None):
    return CliRunner().invoke(main_group, ["check-config", "-c", str(path)], env=env)


def _refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    for w in words:
        assert w in result.output, result.output


def test_a_config_saved_as_gbk_is_refused_with_the_remedy(tmp_path):
    path = write_config(tmp_path)
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    _refused(check(path), "不是 UTF-8 编码", "GBK", "iconv")


def test_a_gbk_config_on_reload_keeps_the_daemon_on_the_old_one(tmp_path):
    path = write_config(tmp_path)
    daemon = Daemon(path, load_config(path))
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    assert daemon.reload() is False and daemon.cfg.school.name == "北京理工大学"


def test_a_bom_is_harmless(tmp_path):
    path = write_config(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert check(path).exit_code == 0


def test_a_key_written_twice_is_refused(tmp_path):
    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\ndata_dir: /elsewhere\n", encoding="utf-8")
    _refused(check(path), "data_dir", "重复", "覆盖")


@pytest.mark.parametrize(("school", "where"), [
    ({"name": "  ", "names": {"full": ["北京理工大学"]}}, "school.name: 格式不符"),
    ({"name": "", "names": {"full": ["北京理工大学"]}}, "school.name: 不能为空"),
    ({"name": "北京理工大学", "names": {"full": ["北京理工大学"], "short": ["北理工", ""]}}, "school.names.short: 第 2 个名称为空"),
    ({"name": "北京理工大学", "names": {"full": []}}, "school.names.full"),
])
def test_empty_school_name_or_protected_names_are_refused(tmp_path, school, where):
    _refused(check(write_config(tmp_path, school=school)), where)


def test_a_logo_that_is_not_an_image_is_refused(tmp_path):
    path = write_config(tmp_path)
    (tmp_path / "logos" / "emblem.png").write_text("not a picture", encoding="utf-8")
    _refused(check(path), "school.logos[0]", "不是可读取的图片（文件内容不是 PNG、JPEG 等图片格式）")


def test_secrets_named_but_not_provided_are_refused_at_check_time(tmp_path):
    raw_units = yaml.safe_load(write_config(tmp_path / "probe").read_text(encoding="utf-8"))["units"]
    raw_units[0]["channels"].append({"type": "dingtalk", "url_env": "CW_TEST_DINGTALK_URL"})
    path = write_config(tmp_path / "a", units=raw_units,
                        alerts={"smtp": {"host": "127.0.0.1", "password_env": "CW_TEST_SMTP_PASSWORD"}})
    _refused(check(path, env={"CW_TEST_DINGTALK_URL": "", "CW_TEST_SMTP_PASSWORD": ""}),
             "units[0].channels[1].url_env: CW_TEST_DINGTALK_URL 未设置", "alerts.smtp.password_env")
    assert check(path, env={"CW_TEST_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=x",
                            "CW_TEST_SMTP_PASSWORD": "secret"}).exit_code == 0
    creds = tmp_path / "credentials.env"
    creds.write_text("CW_TEST_DINGTALK_URL=https://oapi.dingtalk.com/robot/send?access_token=x\n"
                     "CW_TEST_SMTP_PASSWORD=secret\n", encoding="utf-8")
    from_file = write_config(tmp_path / "b", units=raw_units,
                             alerts={"smtp": {"host": "127.0.0.1", "password_env": "CW_TEST_SMTP_PASSWORD"},
                                     "credentials_file": str(creds)})
    assert check(from_file, env={"CW_TEST_DINGTALK_URL": "", "CW_TEST_SMTP_PASSWORD": ""}).exit_code == 0


def test_a_credentials_file_that_does_not_exist_is_refused(tmp_path):
    path = write_config(tmp_path, alerts={"credentials_file": "/nonexistent/credentials.env"})
    _refused(check(path), "alerts.credentials_file: 文件不存在")


def test_a_corrupt_xlsx_is_a_chinese_error_not_a_traceback(cfg, tmp_path):
    broken = tmp_path / "台账.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is no workbook")
    r = CliRunner().invoke(main_group, ["registry", "import", str(broken), "-c", str(cfg.source)])
    assert r.exit_code != 0 and "无法读取该 XLSX 文件" in r.output and "另存为" in r.output, r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)


def test_a_data_dir_that_is_a_file(tmp_path):
    path = write_config(tmp_path, data_dir="datafile")
    (tmp_path / "datafile").write_text("oops", encoding="utf-8")
    r = CliRunner().invoke(main_group, ["findings", "list", "-c", str(path)])
    assert r.exit_code == 4 and "同名文件" in r.output and "datafile" in r.output, r.output


@pytest.mark.parametrize(("error", "words"), [
    (OSError(28, "No space left on device", "/var/lib/campus-watcher/watcher.db"), "磁盘已满"),
    (OSError(30, "Read-only file system", "/var/lib/campus-watcher"), "文件系统只读"),
    (OSError(13, "Permission denied", "/var/lib/campus-watcher"), "没有权限"),
])
def test_a_full_or_read_only_data_dir(cfg, monkeypatch, error, words):
    from watcher.cli import common

    def fail(*_a, **_k):
        raise error

    monkeypatch.setattr(common.Store, "open", fail)
    r = CliRunner().invoke(main_group, ["findings", "list", "-c", str(cfg.source)])
    assert r.exit_code == 4 and words in r.output and error.filename in r.output, r.output


@pytest.mark.parametrize(("message", "words"), [
    ("database is locked", "数据库被占用，等待超时"),
    ("database or disk is full", "磁盘已满"),
    ("attempt to write a readonly database", "数据库只读"),
])
def test_database_errors_of_the_machine(cfg, monkeypatch, message, words):
    import sqlite3

    from watcher.cli import crawl_cmd

    def fail(*_a, **_k):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(crawl_cmd.stored_findings, "list_findings", fail)
    r = CliRunner().invoke(main_group, ["findings", "list", "-c", str(cfg.source)])
    assert r.exit_code == 4 and words in r.output, r.output

