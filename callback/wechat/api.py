"""WeChat's HTTP API through wechatpy, pointed at WECHAT_API_BASE_URL (a local fake in tests).

The access token (2,000 a day per account) is kept in Django's cache, so every process and worker
shares one (Redis when set). wechatpy fetches a new one when WeChat says the old one expired
(40001/40014/42001) and retries the call once.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.session import SessionStorage

# WeChat's errcodes that will not get better by retrying the same message.
PERMANENT = {
    40003,  # invalid openid
    40036,  # invalid template_id size
    40037,  # invalid template_id
    43004,  # require subscribe: the user left the account
    43101,  # user refused (subscribe messages)
    47003,  # argument invalid (a template field)
}


@dataclass
class WechatError(Exception):
    code: str
    message: str
    retry: bool

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class CacheStorage(SessionStorage):
    """wechatpy's session storage on Django's cache (shared by every process when it is Redis)."""

    def get(self, key, default=None):
        return cache.get(f"wechat:{key}", default)

    def set(self, key, value, ttl=None):
        # WeChat gives 7,200 s; keep it a little shorter so a token is never used at its last second.
        cache.set(f"wechat:{key}", value, timeout=max(1, int(ttl) - 120) if ttl else None)

    def delete(self, key):
        cache.delete(f"wechat:{key}")


def _base() -> str:
    return settings.WECHAT_API_BASE_URL.rstrip("/") + "/"


class Client(WeChatClient):
    def __init__(self) -> None:
        super().__init__(
            settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, session=CacheStorage(), timeout=settings.WECHAT_TIMEOUT
        )
        self.API_BASE_URL = _base() + "cgi-bin/"

    def fetch_access_token(self):
        """GET /cgi-bin/token as wechatpy does, but at our base URL and with a timeout."""
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        response = self._http.get(_base() + "cgi-bin/token", params=params, timeout=self.timeout)
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self, response=response)
        self.session.set(self.access_token_key, result["access_token"], int(result.get("expires_in", 7200)))
        return result


class OAuth(WeChatOAuth):
    def __init__(self, redirect_uri: str = "", state: str = "") -> None:
        super().__init__(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri, "snsapi_base", state)
        self.API_BASE_URL = _base()

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", settings.WECHAT_TIMEOUT)
        return super()._request(method, url_or_endpoint, **kwargs)


def authorize_url(redirect_uri: str, state: str) -> str:
    """Where the menu sends the citizen: WeChat asks nothing (snsapi_base) and comes back with a code."""
    return OAuth(redirect_uri, state).authorize_url


def openid_for_code(code: str) -> str:
    """The openid for an OAuth code (one use, five minutes). Raises :class:`WechatError`."""
    try:
        return str(OAuth().fetch_access_token(code)["openid"])
    except WeChatOAuthException as exc:
        raise WechatError(str(exc.errcode), str(exc.errmsg)[:300], retry=False) from exc
    except (requests.RequestException, KeyError, ValueError) as exc:
        raise WechatError("network", str(exc)[:300], retry=True) from exc


def send_template(openid: str, template_id: str, data: dict, url: str = "") -> str:
    """Send one template message. Returns WeChat's msgid; raises :class:`WechatError`."""
    try:
        result = Client().message.send_template(openid, template_id, data, url=url or None)
    except WeChatClientException as exc:
        code = exc.errcode
        if code is None:  # an HTTP error: WeChat or the network is having trouble
            return _raise(WechatError("http", str(exc)[:300], retry=True), exc)
        return _raise(WechatError(str(code), str(exc.errmsg)[:300], retry=int(code) not in PERMANENT), exc)
    except requests.RequestException as exc:
        return _raise(WechatError("network", str(exc)[:300], retry=True), exc)
    return str(result.get("msgid", "")) if isinstance(result, dict) else ""


def _raise(error: WechatError, cause: Exception) -> str:
    raise error from cause
