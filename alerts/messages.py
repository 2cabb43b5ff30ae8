"""Alert texts in Chinese: what happened, which account, why, what the rules ask, where to look."""

from __future__ import annotations

from typing import Any

from alerts.channels import Outgoing
from watcher.config import PLATFORM_LABELS, Config
from watcher.findings import KIND_LABELS

# What the school's rules ask the unit to do, per kind of finding.
ACTIONS: dict[str, str] = {
    "impersonation": "请核实：如属本单位账号，请在 3 个工作日内补办备案；如非本校账号，请向平台举报仿冒并保留证据，"
                     "必要时要求对方删除或更名。",
    "deletion": "请说明删帖原因；如系误删或被平台处理，请向宣传部报告。",
    "edit": "请核实修改内容是否经审核，并说明修改原因。",
    "profile_change": "账号名称/头像/简介发生变更，请在规定时限内办理变更备案。",
    "unfiled_change": "账号资料变更已超过规定时限仍未备案，请立即补办变更备案并作出说明。",
    "account_gone": "账号已无法访问（删除、封禁或改名），请说明情况；如已停用请办理注销备案。",
    "dormant": "账号长期未更新，请恢复运营或办理注销备案（列入年度审核）。",
    "sentiment": "请关注相关舆情，必要时会同宣传部研判处置。",
    "sentiment_spike": "提及本校的内容短时激增，请宣传部研判。",
    "crawl_blocked": "平台采集受阻（登录、验证码或风控），请检查 Cookie/代理配置。",
}


def _account(f: dict[str, Any]) -> str:
    platform = PLATFORM_LABELS.get(f.get("platform") or "", f.get("platform") or "")
    d = f.get("details") or {}
    parts = [p for p in (platform, f"「{f['account_name']}」" if f.get("account_name") else "",
                         f"ID {f['account_id']}" if f.get("account_id") else "") if p]
    link = d.get("profile_url") or d.get("url")
    return " ".join(parts) + (f"\n链接：{link}" if link else "")


def finding_text(cfg: Config, f: dict[str, Any], role: str = "责任单位") -> str:
    d = f.get("details") or {}
    lines = [f"【{KIND_LABELS.get(f['kind'], f['kind'])}】{f['title']}"]
    if f.get("platform") or f.get("account_name"):
        lines.append(f"账号：{_account(f)}")
    reasons = d.get("reasons") or []
    if reasons:
        lines.append("理由：" + "；".join(str(r) for r in reasons))
    if d.get("diff"):
        lines.append("改动：\n" + str(d["diff"])[:1500])
    lines.append(f"处置要求：{ACTIONS.get(f['kind'], '请核实处理。')}")
    base = cfg.alerts.base_url.rstrip("/")
    lines.append(f"复核与证据：{base}/findings/{f['id']}")
    if role == "抄送":
        lines.append("（抄送宣传部）")
    if f.get("revision", 1) > 1:
        lines.append(f"（第 {f['revision']} 版：内容已更新）")
    return "\n".join(lines)


def single(cfg: Config, f: dict[str, Any], unit_name: str, role: str) -> Outgoing:
    level = "【紧急】" if f.get("severity") == "critical" else ""
    return Outgoing(f"{level}campus-watcher：{KIND_LABELS.get(f['kind'], f['kind'])} — {f.get('account_name') or f['title']}",
                    f"{unit_name}：\n" + finding_text(cfg, f, role))


def digest(cfg: Config, findings: list[tuple[dict[str, Any], str]], unit_name: str) -> Outgoing:
    body = [f"{unit_name}：本期共有 {len(findings)} 条监测发现。", ""]
    for i, (f, role) in enumerate(findings, start=1):
        body.append(f"{i}. " + finding_text(cfg, f, role))
        body.append("")
    return Outgoing(f"campus-watcher 汇总：{len(findings)} 条监测发现", "\n".join(body).rstrip())
