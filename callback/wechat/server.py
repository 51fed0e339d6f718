"""What WeChat sends to /wechat/: checked, decrypted and parsed here; the web view only routes it.

Every request carries ``signature = sha1(sorted(token, timestamp, nonce))``; it is compared in
constant time, then the timestamp must be within WECHAT_MAX_SKEW_SECONDS and the (timestamp,
nonce) pair new — kept in the cache that long, so a captured request cannot be played again. In
safe mode (``encrypt_type=aes``) the body is AES-encrypted with the EncodingAESKey and signed again
(``msg_signature``); wechatpy decrypts it and checks the app id inside. The XML is parsed by
wechatpy with xmltodict, which refuses any entity declaration: an XML entity bomb ("billion
laughs") or an external entity is a :class:`Malformed`, before anything is expanded.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from xml.parsers.expat import ExpatError

from django.conf import settings
from django.core.cache import cache
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply

from callback.wechat import safe_mode

MAX_BODY = 64 * 1024  # WeChat's messages are a few hundred bytes


class Refused(Exception):
    """Not from WeChat (403: bad signature, stale or replayed) or not a message we can read (400)."""

    status = 403

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Malformed(Refused):
    status = 400


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def verify(params, now: float | None = None) -> None:
    """Raise :class:`Refused` unless the query string is signed with our token, fresh and not seen before."""
    signature, timestamp, nonce = (str(params.get(k, "")) for k in ("signature", "timestamp", "nonce"))
    expected = sign(settings.WECHAT_TOKEN, timestamp, nonce)
    if not hmac.compare_digest(expected.encode(), signature.encode()[:80]):
        raise Refused("bad signature")
    now = time.time() if now is None else now
    skew = settings.WECHAT_MAX_SKEW_SECONDS
    if not timestamp.isdigit() or abs(now - int(timestamp)) > skew:
        raise Refused("stale timestamp")
    seen = hashlib.sha256(f"{timestamp}\x00{nonce}".encode()).hexdigest()
    # cache.add is atomic (SET NX on Redis): of two identical requests only the first gets through.
    if not cache.add(f"wechat:nonce:{seen}", 1, timeout=2 * skew + 60):
        raise Refused("replayed nonce")


def crypto() -> WeChatCrypto:
    return WeChatCrypto(settings.WECHAT_TOKEN, settings.WECHAT_AES_KEY, settings.WECHAT_APP_ID)


def read(body: bytes, params) -> tuple[BaseMessage, WeChatCrypto | None]:
    """The message in a POST body (after :func:`verify`), and the crypto to answer with in safe mode."""
    if len(body) > MAX_BODY:
        raise Malformed("too large")
    box = None
    text = body.decode("utf-8", errors="strict") if body else ""
    try:
        if params.get("encrypt_type") == "aes":
            if not safe_mode():
                raise Malformed("safe mode is not configured")
            box = crypto()
            text = box.decrypt_message(text, params.get("msg_signature", ""), params["timestamp"], params["nonce"])
        message = parse_message(text)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise Refused("bad message signature") from exc
    except Refused:
        raise
    except (ValueError, ExpatError, KeyError, TypeError, AttributeError, UnicodeError) as exc:
        # ValueError covers xmltodict's "entities are disabled" (a bomb) and bad base64/AES padding.
        raise Malformed(f"not a WeChat message: {type(exc).__name__}") from exc
    if message is None or not getattr(message, "source", None):
        raise Malformed("not a WeChat message")
    return message, box


def answer(message: BaseMessage, text: str, box: WeChatCrypto | None, params) -> str:
    """The passive reply (XML), encrypted again in safe mode."""
    xml = TextReply(message=message, content=text).render()
    if box is None:
        return xml
    return box.encrypt_message(xml, params.get("nonce", ""), params.get("timestamp"))
