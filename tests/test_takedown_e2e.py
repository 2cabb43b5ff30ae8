"""From detection to removal, end to end against a fake Weibo: a discovery round finds two
suspects; a complaint pack is built for one (its manifest verifies with sha256sum, Chromium opens
its page and reads the category and the evidence); both are reported; the watch rounds re-check
them; the platform removes one two rounds later and its case closes itself as 已下架 with the
measured time; the other, past its deadline, raises its reminder once. Real crawl processes, one
browser launch."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from alerts import dispatch
from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from tests.weibo_shapes import posts, profile, serve_accounts
from watcher import registry
from watcher.rounds import plan
from watcher.rounds.engine import run_round
from watcher.store import Store, deliveries
from watcher.store import cases as stored_cases
from watcher.store.findings import evidence_for, get, list_findings
from watcher.takedown import cases, pack
from watcher.watch import evidence
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

SUSPECT, OTHER = "7712345601", "7712345602"
NAMES = {SUSPECT: "北京理工大学招生办", OTHER: "北理工招生咨询"}


def _search() -> str:
    users = [{"card_type": 10, "user": {"id": int(a), "screen_name": n, "verified": False,
                                        "description": "北京理工大学2027年招生咨询，报名请私信",
                                        "followers_count": "3.2万", "profile_url": f"https://m.weibo.cn/u/{a}"}}
             for a, n in NAMES.items()]
    return json.dumps({"ok": 1, "data": {"cardlistInfo": {"page": None},
                                         "cards": [{"card_type": 11, "card_group": users}]}}, ensure_ascii=False)


def _fake() -> FakePlatform:
    fake = FakePlatform(FIXTURES / "weibo")
    fake.route("/api/container/getIndex", {"containerid": "100103type=3&q=北理工"}, body=_search())
    for a, name in NAMES.items():
        fake.route("/api/container/getIndex", {"type": "uid", "value": a}, body=profile(a, name))
        fake.route("/api/container/getIndex", {"value": a, "containerid": f"107603{a}", "page": "1"},
                   body=posts(a, [f"{a}001"]))
    return fake


def _watch_round(cfg, store) -> None:
    targets = plan.watch_round_targets(cfg, store, "weibo")
    assert SUSPECT in targets or OTHER in targets
    assert run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in targets]).status == "ok"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _open_in_chromium(html) -> str:
    with tempfile.TemporaryDirectory(prefix="cw-test-") as profile_dir:
        done = subprocess.run([CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={profile_dir}",
                               "--dump-dom", html.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_suspect_reported_removed_two_rounds_later_and_an_overdue_case_reminded_once(tmp_path):
    fake = _fake()
    with fake:
        cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
        with Store.open(cfg.db_path) as s:
            registry.import_file(s, cfg.registry_path)
            serve_accounts(fake, plan.watch_targets(cfg, s, "weibo"))
        assert run_round(cfg, "weibo", "discover", [Target.for_mode("discover", "北理工")]).status == "ok"
        with Store.open(cfg.db_path) as s:
            found = {f.account_id: f for f in list_findings(s, kind="impersonation")}
            assert set(found) == {SUSPECT, OTHER}
            f = found[SUSPECT]
            # the evidence job's screenshot (its own browser, not started here) stands in as a file
            evidence.keep(cfg, s, f.id, "screenshot", _png(), ".png", url=f.details["profile_url"],
                          content_type="image/png")

            # the complaint pack: the raw answer is kept on the way, every file hashed
            p = pack.build(cfg, s, f.id, tmp_path / "out")
        assert p.category == "冒充他人"
        assert {x.label for x in p.files} >= {"平台原始数据（JSON）", "账号主页截图"}
        unpacked = tmp_path / "unpacked"
        with zipfile.ZipFile(p.zip_path) as z:
            z.extractall(unpacked)
        folder = unpacked / p.folder.name
        check = subprocess.run(["sha256sum", "-c", pack.MANIFEST], cwd=folder, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count(": OK") == len((folder / pack.MANIFEST).read_text().splitlines()) >= 5
        dom = _open_in_chromium(folder / pack.HTML_NAME)
        assert "冒充他人" in dom and "微博投诉" in dom and "授 权 书" in dom
        for x in p.files:
            assert x.name in dom and x.sha256 in dom
        assert "名称含本校全称「北京理工大学」" in dom  # the matcher's reason, in the complaint

        # both reported: one two hours ago, the other twelve days ago (past 5 working days)
        now = datetime.now(UTC).replace(microsecond=0)
        with Store.open(cfg.db_path) as s:
            main = cases.report(cfg, s, f, reference="WB-20261207-001", actor="reviewer",
                                now=(now - timedelta(hours=2)).isoformat())
            late = cases.report(cfg, s, found[OTHER], reference="WB-20261125-009", actor="reviewer",
                                now=(now - timedelta(days=12)).isoformat())
            assert get(s, f.id).status == "reported"
            _watch_round(cfg, s)  # round 1: both still there
            c = stored_cases.get(s, main)
            assert c.status == "open" and c.checks == 1 and NAMES[SUSPECT] in c.last_check
        # round 2: the platform has removed the suspect
        fake.find("/api/container/getIndex", {"type": "uid", "value": SUSPECT}).body = \
            '{"ok":0,"msg":"用户不存在","errno":"20003"}'
        with Store.open(cfg.db_path) as s:
            _watch_round(cfg, s)
            c = stored_cases.get(s, main)
            assert c.status == "removed" and c.outcome == "gone" and c.checks == 2
            assert c.hours_to_removal == cases.hours_between(c.reported_at, c.removed_at)
            assert 2.0 <= c.hours_to_removal < 2.5
            assert get(s, f.id).status == "resolved"
            assert [e.kind for e in evidence_for(s, f.id)][-1] == "removal"  # the platform's answer kept
            assert stored_cases.get(s, late).status == "open"
            # the removed account is no longer planned; the open one still is
            assert plan.watch_round_targets(cfg, s, "weibo")[-1:] == [OTHER]

            assert cases.sweep(cfg, s)["reminded"] == [late]
            assert cases.sweep(cfg, s)["reminded"] == []
            overdue = list_findings(s, kind="takedown_overdue")
            assert len(overdue) == 1 and overdue[0].details["case_id"] == late
            planned = dispatch.plan(cfg, s, now)
            assert planned >= 1 and deliveries.for_finding(s, overdue[0].id)
            assert dispatch.plan(cfg, s, now + timedelta(minutes=1)) == 0  # once

            month = [r for r in cases.figures(s) if r.platform == "weibo"]
            assert sum(r.reported for r in month) == 2 and sum(r.removed for r in month) == 1
            assert sum(r.still_open for r in month) == 1
            assert any(r.median == c.hours_to_removal for r in month)
