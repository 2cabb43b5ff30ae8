"""A fake platform: a real HTTP server on 127.0.0.1 serving recorded, real-shaped responses.

    fake = FakePlatform(FIXTURES / "weibo")
    fake.route("/api/container/getIndex", {"containerid": "100103type=3&q=北理工", "page": "1"}, "search_p1.json")
    fake.route("/statuses/show", {"id": "49001"}, status=200, body='{"ok":0,"msg":"该微博已被删除"}')
    fake.route("/api/x", {}, redirect="/signin/login")      # a login wall
    with fake: run spiders against fake.base_url
    fake.route("/graphql", body_contains='"operationName":"visionSearchUser"', file="search.json")  # POST
    fake.dataset = "second"  # files are looked up in <dir>/second/ first: data that changes

A request whose path and query contain a route's path and parameters gets that route's answer
(most specific route first); anything else is a 404 recorded in ``fake.unmatched``.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Route:
    path: str
    params: dict[str, str]
    file: str | None = None
    body: str | None = None
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    redirect: str | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow platform)
    body_contains: str | None = None  # POST routes: a string the request body must contain


class FakePlatform:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.routes: list[Route] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.posted: list[tuple[str, str]] = []  # (path, body) of every POST
        self.unmatched: list[str] = []
        self.dataset: str | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                fake.posted.append((urllib.parse.urlparse(self.path).path, body))
                self.do_GET(body)

            def do_GET(self, body: str | None = None):  # noqa: N802
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                fake.requests.append((url.path, query, dict(self.headers)))
                route = fake.find(url.path, query, body)
                if route is None:
                    fake.unmatched.append(self.path)
                    self.send_response(404)
                    self.end_headers()
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.redirect:
                    self.send_response(302)
                    self.send_header("Location", route.redirect)
                    self.end_headers()
                    return
                body = fake.body(route)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, params: dict[str, str] | None = None, file: str | None = None, **kw) -> Route:
        r = Route(path, params or {}, file, **kw)
        self.routes.append(r)
        return r

    def find(self, path: str, query: dict[str, str], body: str | None = None) -> Route | None:
        fits = [r for r in self.routes if r.path == path and all(query.get(k) == v for k, v in r.params.items())
                and (r.body_contains is None or (body is not None and r.body_contains in body))]
        return max(fits, key=lambda r: len(r.params)) if fits else None

    def body(self, route: Route) -> bytes:
        if route.body is not None:
            return route.body.encode()
        for d in ([self.directory / self.dataset] if self.dataset else []) + [self.directory]:
            if (d / route.file).exists():
                return (d / route.file).read_bytes()
        raise FileNotFoundError(route.file)

    def __enter__(self) -> FakePlatform:
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
