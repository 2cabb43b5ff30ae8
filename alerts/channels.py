"""Delivery to one channel, counted as sent only when the receiver confirms it.

Why not apprise for these: apprise 2.2.0 treats an HTTP 200 from DingTalk, WeCom or Feishu as
success, but those bots answer 200 with ``errcode``/``code`` ≠ 0 when they drop a message
(DingTalk 310000 bad signature or missing keyword, 130101 rate limit; WeCom 45009; Feishu 19021),
and its email notifier returns a bare boolean that hides which recipients the server refused.
Each bot here is one signed JSON POST whose answer we check ourselves, and mail goes through the
standard library's SMTP client, whose answer names every refused recipient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import smtplib
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from alerts.secrets import Credentials, redact, remember, remember_url
from watcher.config import ChannelConfig, SmtpConfig
from watcher.fetchguard import network_problem, problem_detail

# Platform text must stay text in every receiver. ASCII brackets are what links, images,
# autolinks, HTML tags and Feishu's <at> mentions are made of; their full-width forms read the
# same to a Chinese reader and no renderer parses them, whether or not it honours backslash
# escapes. The other markdown marks are backslash-escaped (CommonMark).
_MARKUP = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞"})
_MD_MARKS = re.compile(r"([\\`*_~#|])")
_MD_LINE_START = re.compile(r"(?m)^(\s*)([-+=]|\d+\.)")
# The text's live links: only allowed hosts are left undefanged by alerts.messages.
_LIVE_URL = re.compile(r"(?i)\bhttps?://[^\s<>\[\]()\"'`]+")


def plain_for_chat(text: str) -> str:
    """Feishu text messages and DingTalk titles: no markup characters at all."""
    return text.translate(_MARKUP)


def _md_escape(text: str) -> str:
    text = _MD_MARKS.sub(r"\\\1", text.translate(_MARKUP))
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def markdown_for_chat(text: str) -> str:
    """DingTalk and WeCom markdown: everything escaped except the live links themselves, which
    the clients link as they are (escaping inside them would break them)."""
    out: list[str] = []
    pos = 0
    for m in _LIVE_URL.finditer(text):
        out += [_md_escape(text[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(_md_escape(text[pos:]))
    return "".join(out)


class DeliveryError(Exception):
    """The receiver did not accept the message; the text is safe to log (secrets redacted)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


@dataclass
class Outgoing:
    title: str
    text: str          # markdown-ish plain text, Chinese
    recipients_hint: str = ""
    # E-mail only (the 舆情日报): an HTML body beside the text one, and files as (name, bytes, MIME type).
    html: str | None = None
    attachments: tuple[tuple[str, bytes, str], ...] = ()


# Operators read a delivery's last error (web page, `watcher alerts status`): what went wrong in
# Chinese, then the library's own short detail; never a Python exception name.
def smtp_problem(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPAuthenticationError):
        what = "登录被拒（用户名或密码错误）"
    elif isinstance(e, smtplib.SMTPSenderRefused):
        what = "发件人地址被拒"
    elif isinstance(e, smtplib.SMTPDataError):
        what = "服务器拒收邮件内容"
    elif isinstance(e, smtplib.SMTPNotSupportedError):
        what = "服务器不支持所需功能（如 STARTTLS 或登录）"
    elif isinstance(e, smtplib.SMTPServerDisconnected):
        what = "服务器断开了连接"
    elif isinstance(e, smtplib.SMTPException):
        what = "邮件服务器应答错误"
    else:
        return network_problem(e)
    return what + problem_detail(e)


def _post(url: str, payload: dict[str, Any], timeout: float) -> tuple[httpx.Response, dict[str, Any] | None]:
    """POST JSON; the response and its JSON object (None when the body is not JSON)."""
    try:
        resp = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as e:
        raise DeliveryError(f"连接失败：{network_problem(e)}") from e
    if resp.status_code >= 300:
        raise DeliveryError(f"HTTP {resp.status_code}：{resp.text[:200]}")
    try:
        data = resp.json()
    except ValueError:
        return resp, None
    return resp, data if isinstance(data, dict) else {"_raw": data}


def _post_json(url: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    resp, data = _post(url, payload, timeout)
    if data is None:
        raise DeliveryError(f"应答不是 JSON：{resp.text[:200]}")
    return data


def _check_code(data: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key in data:
            if data[key] in (0, "0"):
                return
            raise DeliveryError(f"接收方拒收：{key}={data[key]} {data.get('errmsg') or data.get('msg') or data.get('StatusMessage') or ''}")
    raise DeliveryError(f"应答中没有 {'/'.join(keys)}：{str(data)[:200]}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Sender:
    """Sends to the channels of the config; ``clock`` is injectable for signatures in tests."""

    def __init__(self, smtp: SmtpConfig, credentials: Credentials, timeout: float = 15.0, clock: Any = time.time) -> None:
        self.smtp = smtp
        self.credentials = credentials
        self.timeout = timeout
        self.clock = clock

    def _url(self, ch: ChannelConfig) -> str:
        url = self.credentials.get(ch.url_env) or ch.url
        if not url:
            raise DeliveryError(f"{ch.type} 渠道没有 webhook 地址（环境变量 {ch.url_env} 未设置）")
        remember_url(url)
        return url

    def _secret(self, ch: ChannelConfig) -> str | None:
        secret = self.credentials.get(ch.secret_env) or ch.secret
        remember(secret)
        return secret

    def send(self, ch: ChannelConfig, msg: Outgoing) -> str:
        """Deliver; returns a short confirmation, raises DeliveryError otherwise."""
        return getattr(self, f"_send_{ch.type}")(ch, msg)

    def _send_email(self, ch: ChannelConfig, msg: Outgoing) -> str:
        cfg = self.smtp
        mail = EmailMessage()
        mail["From"] = cfg.sender
        mail["To"] = ", ".join(ch.to)
        # A header is one line: a line break from platform data would make it raise (or, in a
        # lax library, start a header of the attacker's choosing).
        mail["Subject"] = " ".join(str(msg.title).split())
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain="campus-watcher")
        mail.set_content(msg.text, charset="utf-8")
        if msg.html:
            mail.add_alternative(msg.html, subtype="html", charset="utf-8")
        for name, data, mime in msg.attachments:
            maintype, _, subtype = mime.partition("/")
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        password = self.credentials.get(cfg.password_env)
        remember(password)
        try:
            if cfg.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            with client:
                if cfg.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if cfg.username and password:
                    client.login(cfg.username, password)
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"邮件服务器拒收全部收件人：{', '.join(e.recipients)}") from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP 发送失败：{smtp_problem(e)}") from e
        if refused:
            accepted = [r for r in ch.to if r not in refused]
            return f"SMTP 已接收 {len(accepted)} 个收件人，拒收：{', '.join(refused)}"
        return f"SMTP 已接收（{len(ch.to)} 个收件人）"

    def _send_dingtalk(self, ch: ChannelConfig, msg: Outgoing) -> str:
        url = self._url(ch)
        secret = self._secret(ch)
        if secret:
            ts = int(self.clock() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={urllib.parse.quote_plus(dingtalk_sign(secret, ts))}"
        text = markdown_for_chat(msg.text)
        if ch.keyword and ch.keyword not in text:
            # A DingTalk bot with a keyword rule silently drops messages without it.
            text = f"{text}\n\n【{markdown_for_chat(ch.keyword)}】"
        data = _post_json(url, {"msgtype": "markdown", "markdown": {"title": plain_for_chat(msg.title), "text": text}},
                          self.timeout)
        _check_code(data, "errcode")
        return "钉钉机器人已接收（errcode=0）"

    def _send_wecom(self, ch: ChannelConfig, msg: Outgoing) -> str:
        data = _post_json(self._url(ch), {"msgtype": "markdown", "markdown": {
            "content": f"**{markdown_for_chat(msg.title)}**\n{markdown_for_chat(msg.text)}"}},
                          self.timeout)
        _check_code(data, "errcode")
        return "企业微信机器人已接收（errcode=0）"

    def _send_feishu(self, ch: ChannelConfig, msg: Outgoing) -> str:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": plain_for_chat(f"{msg.title}\n{msg.text}")}}
        secret = self._secret(ch)
        if secret:
            ts = int(self.clock())
            payload = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}
        data = _post_json(self._url(ch), payload, self.timeout)
        _check_code(data, "code", "StatusCode")
        return "飞书机器人已接收（code=0）"

    def _send_webhook(self, ch: ChannelConfig, msg: Outgoing) -> str:
        resp, data = _post(self._url(ch), {"title": msg.title, "text": msg.text}, self.timeout)
        # A generic receiver may answer with any body; an errcode/code in it must still be 0.
        if data is not None and any(k in data for k in ("errcode", "code")):
            _check_code(data, "errcode", "code")
        return f"Webhook 已接收（HTTP {resp.status_code}）"
