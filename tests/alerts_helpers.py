"""Local stand-ins for the receivers: an SMTP server (aiosmtpd) and an HTTP server that plays
DingTalk, WeCom and Feishu bots, verifying their signatures like the real ones do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

DING_TOKEN = "dingtoken-SECRET-123456"
DING_SECRET = "SECdingsecret-abcdef"
WECOM_KEY = "wecomkey-SECRET-7890"
FEISHU_HOOK = "feishuhook-SECRET-4567"
FEISHU_SECRET = "feishusecret-xyz123"


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content)
        body = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
        self.messages.append({"rcpt": list(envelope.rcpt_tos), "subject": str(make_header(decode_header(msg["Subject"]))),
                              "body": body})
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp() -> tuple[Controller, SmtpSink]:
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, sink


class BotServer:
    """Records what each bot received; ``fail`` queues error answers per bot."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict]] = {"dingtalk": [], "wecom": [], "feishu": [], "webhook": []}
        self.fail: dict[str, list[dict]] = {"dingtalk": [], "wecom": [], "feishu": [], "webhook": []}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                url = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                bot, answer = server.judge(url.path, q, body)
                if bot and answer.get("errcode", answer.get("code")) == 0:
                    server.received[bot].append(body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def judge(self, path: str, q: dict, body: dict) -> tuple[str | None, dict]:
        if path == "/robot/send":
            if q.get("access_token") != DING_TOKEN:
                return "dingtalk", {"errcode": 300001, "errmsg": "token is not exist"}
            ts = q["timestamp"]
            expect = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256).digest()).decode()
            if q.get("sign") != expect:
                return "dingtalk", {"errcode": 310000, "errmsg": "sign not match"}
            if "监测" not in body["markdown"]["text"]:
                return "dingtalk", {"errcode": 310000, "errmsg": "keywords not in content"}
            return "dingtalk", self.fail["dingtalk"].pop(0) if self.fail["dingtalk"] else {"errcode": 0, "errmsg": "ok"}
        if path == "/cgi-bin/webhook/send":
            if q.get("key") != WECOM_KEY:
                return "wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}
            if len(body["markdown"]["content"].encode()) > 4096:
                return "wecom", {"errcode": 40058, "errmsg": "content exceed max length"}
            return "wecom", self.fail["wecom"].pop(0) if self.fail["wecom"] else {"errcode": 0, "errmsg": "ok"}
        if path == f"/open-apis/bot/v2/hook/{FEISHU_HOOK}":
            ts = int(body["timestamp"])
            expect = base64.b64encode(hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
            if body.get("sign") != expect:
                return "feishu", {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
            return "feishu", self.fail["feishu"].pop(0) if self.fail["feishu"] else {"code": 0, "msg": "success"}
        if path == "/hook":
            return "webhook", self.fail["webhook"].pop(0) if self.fail["webhook"] else {"code": 0}
        return None, {"errcode": 404}

    def stop(self) -> None:
        self.httpd.shutdown()
