"""Serving the app: ``watcher web`` in the foreground, or a thread of the daemon."""

from __future__ import annotations

import threading

import uvicorn

from watcher.config import Config
from watcher.web.app import create_app


def server(cfg: Config, host: str | None = None, port: int | None = None) -> uvicorn.Server:
    return uvicorn.Server(server_config(cfg, host, port))


def server_config(cfg: Config, host: str | None = None, port: int | None = None) -> uvicorn.Config:
    # X-Forwarded-For is believed only from web.trusted_proxies; with none configured uvicorn
    # does not look at it at all (its own default trusts 127.0.0.1, or $FORWARDED_ALLOW_IPS,
    # which would let any local client, or a misconfigured environment, choose its address).
    proxies = cfg.web.trusted_proxies
    return uvicorn.Config(create_app(cfg), host=host or cfg.web.host, port=port or cfg.web.port,
                          log_config=None, access_log=False, proxy_headers=bool(proxies),
                          forwarded_allow_ips=list(proxies) if proxies else [])


class WebThread:
    def __init__(self, srv: uvicorn.Server) -> None:
        self.srv = srv
        self.thread = threading.Thread(target=srv.run, name="web", daemon=True)

    def stop(self) -> None:
        self.srv.should_exit = True
        self.thread.join(timeout=5)


def start_in_thread(cfg: Config) -> WebThread:
    srv = server(cfg)
    srv.install_signal_handlers = lambda: None  # the daemon owns the signals
    t = WebThread(srv)
    t.thread.start()
    return t
