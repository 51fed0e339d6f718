"""A WeChat user (openid) bound to the phone it proved with an SMS code (``callback.otp``).

Bound once, the citizen's "我的工单" and the menu's link to /track/mine/ need no code again, and
status notifications go to that openid. Binding again moves the openid to the new phone.
"""

from __future__ import annotations

from callback.models import WechatBinding


def bind(openid: str, phone: str) -> WechatBinding:
    binding, _ = WechatBinding.objects.update_or_create(openid=openid, defaults={"phone": phone})
    return binding


def phone_of(openid: str) -> str | None:
    return WechatBinding.objects.filter(openid=openid).values_list("phone", flat=True).first()


def unbind(openid: str) -> bool:
    """Forget the binding (the citizen's "解绑"): personal data, so the row goes."""
    return WechatBinding.objects.filter(openid=openid).delete()[0] > 0
