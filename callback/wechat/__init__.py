"""The WeChat official account (公众号): its HTTP API, its server messages, bindings and notifications.

- ``api.py``: WeChat's HTTP API through ``wechatpy`` (access token shared in the cache, OAuth
  code → openid, template messages), with its errors sorted into "retry" and "give up".
- ``server.py``: the signed callbacks WeChat sends to ``/wechat/`` — signature, replay guard,
  plaintext and safe (AES) mode, XML parsed by wechatpy (xmltodict refuses entity declarations).
- ``commands.py``: the text commands a citizen sends ("查询 <工单号> <查询码>", "我的工单").
- ``accounts.py``: an openid bound to a phone proven by an SMS code (``callback.otp``).
- ``notify.py``: job steps queueing and sending template messages (registered, replied, revisit due).

Off unless WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN are set (docs/citizens.md).
"""

from __future__ import annotations

from django.conf import settings


def enabled() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET and settings.WECHAT_TOKEN)


def safe_mode() -> bool:
    """The safe (encrypted) mode is possible: WECHAT_AES_KEY (EncodingAESKey) is set."""
    return enabled() and bool(settings.WECHAT_AES_KEY)


def takes_over(purpose: str) -> bool:
    """WeChat carries this notice for bound users: the account is on and its template is configured.

    Then a bound phone gets the notice by WeChat instead of SMS (callback/notifications.py).
    ``purpose`` is a ``WechatPurpose`` value: registered, replied, revisit.
    """
    template = {
        "registered": settings.WECHAT_TEMPLATE_REGISTERED,
        "replied": settings.WECHAT_TEMPLATE_REPLIED,
        "revisit": settings.WECHAT_TEMPLATE_REVISIT,
    }.get(purpose, "")
    return enabled() and bool(template)
