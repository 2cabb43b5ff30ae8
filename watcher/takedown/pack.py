"""The complaint pack (投诉材料包) for one impersonation finding: what the platform's complaint
channel asks for, ready to upload or print.

The pack is a folder and its ZIP::

    投诉材料.html      the printable pack: channel and category, complaint text, the account,
                       why it impersonates the school, evidence list, registry extract, letter
    投诉正文.txt        the complaint text, to paste into the platform's form
    台账摘录.csv        the school's registered accounts it copies (no personal contacts)
    evidence/…          the finding's evidence files, copied from the data dir as kept
    seal.*              the seal image, when configured
    SHA256SUMS          every file above with its SHA-256, checked by ``sha256sum -c SHA256SUMS``

Everything the platform wrote (names, bios) is escaped by the template; nothing is fetched: the
evidence is what the watcher kept when it found the account (``watcher.watch.evidence``), and
files are copied only from the finding's own evidence folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import mimetypes
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from spiders import catalog
from watcher import registry, timefmt
from watcher.config import Config
from watcher.reports import render
from watcher.store import Store
from watcher.store import cases as stored_cases
from watcher.store import findings as stored_findings
from watcher.store.findings import Evidence, Finding
from watcher.store.registry import RegistryAccount
from watcher.takedown import channels
from watcher.watch import evidence as evidence_mod

HERE = Path(__file__).parent
ENV = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
ENV.filters["local"] = timefmt.local_time
ENV.filters["platform"] = catalog.label
ENV.filters["registry_status"] = lambda v: REGISTRY_STATUS.get(v, v)
HTML_NAME = "投诉材料.html"
TEXT_NAME = "投诉正文.txt"
REGISTRY_NAME = "台账摘录.csv"
MANIFEST = "SHA256SUMS"
EVIDENCE_LABELS = {"raw": "平台原始数据（JSON）", "screenshot": "账号主页截图", "avatar": "账号头像",
                   "removal": "平台下架答复（JSON）"}
FRAUD_WORDS = ("转账", "缴费", "汇款", "收款", "付款", "押金", "代办", "退费", "加微信", "加v", "vx")
REGISTRY_STATUS = {"active": "正常", "closed": "已注销"}
REGISTRY_COLUMNS = ("平台", "账号名称", "账号ID", "账号类型", "主办单位", "开通日期", "备案日期", "状态")


class PackError(ValueError):
    """A finding no pack can be made for (says why in Chinese)."""


@dataclass
class PackFile:
    name: str
    label: str
    sha256: str
    size: int
    captured_at: str | None = None
    url: str | None = None
    image: bool = False


@dataclass
class Pack:
    finding: Finding
    folder: Path
    zip_path: Path
    html_path: Path
    pdf_path: Path | None
    category: str
    files: list[PackFile] = field(default_factory=list)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _copied_evidence(cfg: Config, ev: Evidence, dest: Path) -> Path | None:
    """Copy one evidence file into the pack; only from the finding's own evidence folder (a path
    in the table that points elsewhere is not followed)."""
    root = (cfg.data_path / "evidence" / str(ev.finding_id)).resolve()
    src = (cfg.data_path / ev.path).resolve()
    if root not in src.parents or not src.is_file():
        return None
    out = dest / "evidence" / src.name
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, out)
    return out


def copied_accounts(cfg: Config, store: Store, f: Finding) -> list[RegistryAccount]:
    """The registered accounts the suspect copies: the school's registered accounts on the same
    platform (its unit's first: the official ones a user should have found instead), then those
    elsewhere whose name holds what the matcher matched."""
    matched = str(f.details.get("matched") or "")
    active = registry.active_accounts(store)
    named = [a for a in active if matched and (a.account_name == matched or matched in a.account_name)]
    same_unit = [a for a in active if f.unit and a.unit == f.unit and a.platform == f.platform]
    same_platform = [a for a in active if a.platform == f.platform]
    out = list({a.id: a for a in [*same_unit, *same_platform, *named]}.values())
    return out[:30]


def fraud_hint(f: Finding) -> bool:
    text = f"{f.account_name or ''}{f.details.get('bio') or ''}".lower()
    return any(w in text for w in FRAUD_WORDS)


def complaint_text(cfg: Config, f: Finding, official: list[RegistryAccount], category: str) -> str:
    """The complaint, in the school's voice, to paste into the platform's form."""
    school = cfg.school.name
    issuer = cfg.takedown.issuer or school
    label = catalog.label(f.platform)
    reasons = [str(r) for r in f.details.get("reasons") or []]
    lines = [
        f"投诉人：{issuer}（权利人：{school}）",
        f"投诉类别：{category}",
        f"被投诉账号：{label}「{f.account_name}」（账号 ID：{f.account_id}）"
        + (f"，主页：{f.details['profile_url']}" if f.details.get("profile_url") else ""),
        "",
        f"{school}是依法设立的高等学校，对“{school}”名称及其简称享有名称权。"
        f"经核查，上述账号并非{school}或其所属单位开设、备案的官方账号，"
        f"却使用本校名称{('「' + str(f.details['matched']) + '」') if f.details.get('matched') else ''}"
        "作为账号名称或简介，足以使公众误认为其是本校官方账号，构成冒充/仿冒。",
    ]
    if reasons:
        lines += ["", "判定依据："] + [f"{i}. {r}" for i, r in enumerate(reasons, 1)]
    if official:
        lines += ["", "本校备案的官方账号（见附件台账摘录）："]
        lines += [f"- {catalog.label(a.platform)}「{a.account_name}」（ID：{a.account_id}，{a.unit}）"
                  for a in official[:10]]
    lines += ["", "请贵平台依据平台规则与《互联网用户账号信息管理规定》对该账号予以处理（注销、封禁或责令改名）。"
              "附件包括授权书、账号主页截图、平台原始数据及其 SHA-256 校验值。"]
    if cfg.takedown.contact:
        lines.append(f"联系人：{cfg.takedown.contact}")
    return "\n".join(lines)


def _registry_csv(official: list[RegistryAccount]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(REGISTRY_COLUMNS)
    for a in official:
        w.writerow([registry.csv_escape(v) for v in (catalog.label(a.platform), a.account_name, a.account_id,
                                                       a.account_type or "", a.unit, a.opened_date or "",
                                                       a.registered_date or "", REGISTRY_STATUS.get(a.status, a.status))])
    return "\ufeff" + buf.getvalue()  # BOM: Excel opens UTF-8 CSV as such


def _seal(cfg: Config, dest: Path) -> str | None:
    if cfg.takedown.seal_image is None:
        return None
    src = cfg.resolve_path(cfg.takedown.seal_image)
    if not src.is_file():
        raise PackError(f"配置 takedown.seal_image 指向的公章图片不存在：{src}；请检查路径，或删去该项")
    name = "seal" + (src.suffix.lower() or ".png")
    shutil.copyfile(src, dest / name)
    return name


def build(cfg: Config, store: Store, finding_id: int, out_dir: Path, *, pdf: bool = False,
          now: datetime | None = None) -> Pack:
    """Write the pack of finding ``finding_id`` under ``out_dir`` (a folder and its ZIP)."""
    f = stored_findings.get(store, finding_id)
    if f is None:
        raise PackError(f"没有编号为 {finding_id} 的发现")
    if f.kind != "impersonation" or not f.platform or not f.account_id:
        raise PackError(f"发现 #{f.id} 不是仿冒账号，无需投诉材料包")
    now = now or datetime.now(UTC)
    if not any(e.kind == "raw" for e in stored_findings.evidence_for(store, f.id)):
        # The platform's answer not kept yet (the evidence job has not run): the stored record
        # now, without a screenshot (that is the evidence job's, with its own browser).
        evidence_mod.capture(cfg, store, f, shots=False)
    stamp = now.astimezone(timefmt.zone()).strftime("%Y%m%d-%H%M%S")
    folder = out_dir / f"投诉材料-{f.id}-{f.platform}-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    files: list[PackFile] = []
    for ev in stored_findings.evidence_for(store, f.id):
        copied = _copied_evidence(cfg, ev, folder)
        if copied is None:
            continue
        media = ev.content_type or mimetypes.guess_type(copied.name)[0] or ""
        files.append(PackFile(f"evidence/{copied.name}", EVIDENCE_LABELS.get(ev.kind, ev.kind), _sha(copied),
                              copied.stat().st_size, ev.captured_at, ev.url, media.startswith("image/")))
    official = copied_accounts(cfg, store, f)
    category = channels.category(f.platform, office=bool(f.details.get("office")), fraud=fraud_hint(f))
    text = complaint_text(cfg, f, official, category)
    (folder / TEXT_NAME).write_text(text + "\n", encoding="utf-8")
    (folder / REGISTRY_NAME).write_text(_registry_csv(official), encoding="utf-8")
    seal = _seal(cfg, folder)
    cases = stored_cases.for_finding(store, f.id)
    html = ENV.get_template("complaint.html").render(
        f=f, cfg=cfg, school=cfg.school.name, issuer=cfg.takedown.issuer or cfg.school.name,
        platform=catalog.label(f.platform), channel=channels.channel(f.platform), category=category,
        national=channels.NATIONAL, fraud=channels.FRAUD, text=text, official=official, files=files, seal=seal,
        cases=cases, today=now.astimezone(timefmt.zone()).date(), zone=timefmt.zone_label(),
        manifest=MANIFEST, registry_name=REGISTRY_NAME, text_name=TEXT_NAME,
        reasons=[str(r) for r in f.details.get("reasons") or []])
    html_path = folder / HTML_NAME
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = render.print_pdf(html_path, folder / "投诉材料.pdf")
    _manifest(folder)
    zip_path = folder.with_suffix(".zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return Pack(f, folder, zip_path, html_path, pdf_path, category, files)


def _manifest(folder: Path) -> None:
    """``SHA256SUMS`` in the format ``sha256sum -c`` reads: hash, two spaces, relative path."""
    lines = [f"{_sha(p)}  {p.relative_to(folder).as_posix()}" for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != MANIFEST]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify(folder: Path) -> list[str]:
    """The files of an unpacked pack whose hash differs from its manifest (empty: intact)."""
    bad = []
    for line in (folder / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        path = folder / name
        if not path.is_file() or _sha(path) != digest:
            bad.append(name)
    return bad


def summary(p: Pack) -> dict[str, Any]:
    return {"finding": p.finding.id, "zip": str(p.zip_path), "html": str(p.html_path),
            "pdf": str(p.pdf_path) if p.pdf_path else None, "category": p.category,
            "evidence": [{"file": x.name, "sha256": x.sha256} for x in p.files]}
