"""What the official account answers to a citizen's text (docs/citizens.md, "WeChat").

- "查询 <工单号> <查询码>" and its variants: ``callback.queries.answer_text`` — the SMS query's
  parser, lookup and throttle, with the openid as the sender (its own buckets) and the bound
  phone, if any, as the sender's phone (so "查询 <工单号>" alone works for one's own ticket).
- "我的工单": the bound phone's tickets (newest first, as on /track/mine/) and the link to the
  page through WeChat's OAuth; without a binding, the link that binds the phone with an SMS code.
- "解绑": forget the binding. Anything else: a short help text.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.utils import translation

from callback import queries
from callback.wechat import accounts
from hotline import public

# Served by web's "wechat-menu" route (a test holds them equal): WeChat OAuth, then /track/mine/.
MENU_PATH = "/wechat/menu/"
MINE_WORDS = {"我的工单", "我的", "wdgd"}
UNBIND_WORDS = {"解绑", "解除绑定"}
LISTED = 5  # a chat message is read on a phone: the newest few, the page has them all
HELP_TEXT = (
    "您好，这里是12345热线。\n"
    "查询进度：回复“查询 工单号 查询码”，如“查询 2026112900001 209672”。\n"
    "查看本人全部工单：回复“我的工单”。\n"
    "反映问题请拨打12345。"
)
WELCOME_TEXT = "感谢关注12345热线。\n" + HELP_TEXT.split("\n", 1)[1]


def menu_link() -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{MENU_PATH}" if base else ""


def reply_to(openid: str, text: object) -> str:
    """The answer to one text message from ``openid`` (never raises for odd input)."""
    text = text if isinstance(text, str) else ""
    word = "".join(unicodedata.normalize("NFKC", text[:40]).split()).lower()
    if word in MINE_WORDS:
        return my_tickets_text(openid)
    if word in UNBIND_WORDS:
        if accounts.unbind(openid):
            return "已解除微信与手机号的绑定，不再向您推送工单进度。"
        return "您的微信尚未绑定手机号。"
    phone = accounts.phone_of(openid) or ""
    answered = queries.answer_text(text, phone, sender=f"wechat:{openid}")
    return answered if answered is not None else HELP_TEXT


def my_tickets_text(openid: str) -> str:
    phone = accounts.phone_of(openid)
    link = menu_link()
    if phone is None:
        text = "查看本人全部工单，请先用短信验证码绑定手机号（只需一次）"
        return text + (f"：{link}" if link else "，请点击菜单“我的工单”。")
    listed = public.tickets_of_phone(phone)
    if not listed:
        return "您绑定的手机号下暂无工单。"
    with translation.override("zh-hans"):
        lines = [f"{t.number} {t.stage.word}" for t in listed[:LISTED]]
    more = f"\n共{len(listed)}件，" if len(listed) > LISTED else "\n"
    return "您的工单（最新在前）：\n" + "\n".join(lines) + more + (f"详情：{link}" if link else "详情请点击菜单。")
