"""A local HTTP server that answers as WeChat's API does (api.weixin.qq.com), for the WeChat tests.

The shapes are WeChat's own: ``GET /cgi-bin/token`` (access token), ``GET /sns/oauth2/access_token``
(OAuth code → openid), ``POST /cgi-bin/message/template/send`` (template message). WeChat answers
HTTP 200 with ``errcode``/``errmsg`` in the JSON for its errors. Each test may queue the answers it
wants for the template sends (``answers``) and sees every request (``requests``).
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

APP_ID, APP_SECRET = "wx1234567890abcdef", "0123456789abcdef0123456789abcdef"


class FakeWechat:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []  # for template sends, in order
        self.codes: dict[str, str] = {}  # OAuth code → openid (each usable once)
        self.tokens: list[str] = []  # access tokens handed out; only the last one is valid
        self.msgid = 200228332
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                self._handle(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _handle(self, body: bytes):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                record = {"method": self.command, "path": url.path, "query": query}
                if body:
                    record["json"] = json.loads(body.decode())
                fake.requests.append(record)
                status, answer = fake.route(self.command, url.path, query, record.get("json"))
                payload = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; encoding=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def code_for(self, openid: str) -> str:
        """What WeChat appends to the OAuth redirect for this user."""
        code = secrets.token_hex(16)
        self.codes[code] = openid
        return code

    def sent(self) -> list[dict]:
        return [r["json"] for r in self.requests if r["path"] == "/cgi-bin/message/template/send"]

    @staticmethod
    def error(code: int, message: str) -> tuple[int, dict]:
        return 200, {"errcode": code, "errmsg": f"{message} rid: 6571a3f1-1d2c3b4a-5e6f7a8b"}

    def route(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, dict]:
        if path == "/cgi-bin/token" and method == "GET":
            if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                return self.error(40125, "invalid appsecret, view more at http://t.cn/RAEkdVq")
            self.tokens.append(secrets.token_urlsafe(48))
            return 200, {"access_token": self.tokens[-1], "expires_in": 7200}
        if path == "/sns/oauth2/access_token" and method == "GET":
            if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                return self.error(40125, "invalid appsecret")
            openid = self.codes.pop(query.get("code", ""), None)
            if openid is None or query.get("grant_type") != "authorization_code":
                return self.error(40029, "invalid code")
            return 200, {
                "access_token": secrets.token_urlsafe(48),
                "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(48),
                "openid": openid,
                "scope": "snsapi_base",
            }
        if path == "/cgi-bin/message/template/send" and method == "POST":
            if not self.tokens or query.get("access_token") != self.tokens[-1]:
                return self.error(40001, "invalid credential, access_token is invalid or not latest")
            if self.answers:
                return self.answers.pop(0)
            self.msgid += 1
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": self.msgid}
        return 404, {"errcode": -1, "errmsg": "not found"}
