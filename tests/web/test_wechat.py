"""The WeChat official account against a local fake of WeChat's HTTP API (tests/web/wechat_fake.py).

WeChat's side of the server endpoint is played by these tests: they sign (and in safe mode encrypt)
their requests exactly as WeChat's servers do. The web side is read through HTTP as in production.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import xmltodict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wechatpy.crypto import WeChatCrypto

from callback import revisits
from callback.models import CitizenSession, SmsMessage, SmsPurpose, SmsStatus, WechatBinding, WechatMessage
from callback.wechat import commands, notify
from hotline.models import Ticket
from hotline.services import dispatch, tickets
from tests.factories import dispatched_ticket, lead_assignment, new_ticket
from tests.web.wechat_fake import APP_ID, APP_SECRET, FakeWechat

pytestmark = pytest.mark.django_db
TOKEN = "lianxin-wechat-token"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
OPENID = "oWx1A5-citizen-0000000000001"
ACCOUNT = "gh_12345hotline"
PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _own_counters(settings):
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}


@pytest.fixture
def wechat(settings):
    fake = FakeWechat()
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = APP_ID, APP_SECRET
    settings.WECHAT_TOKEN, settings.WECHAT_AES_KEY = TOKEN, AES_KEY
    settings.WECHAT_API_BASE_URL = fake.url
    settings.WECHAT_TEMPLATE_REGISTERED = "tpl-registered-0001"
    settings.WECHAT_TEMPLATE_REPLIED = "tpl-replied-0002"
    settings.WECHAT_TEMPLATE_REVISIT = "tpl-revisit-0003"
    settings.PUBLIC_BASE_URL = "https://12345.xiangtan.example"
    yield fake
    fake.close()


def signed(timestamp: int | None = None, nonce: str | None = None, token: str = TOKEN) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def text_message(content: str, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{time.time_ns()}</MsgId></xml>"
    )


def post(body: str, params: dict | None = None, client: Client | None = None):
    query = "&".join(f"{k}={v}" for k, v in (params or signed()).items())
    return (client or Client()).post(f"/wechat/?{query}", data=body.encode(), content_type="text/xml")


def reply_text(response) -> str:
    assert response.status_code == 200, response.content
    reply = xmltodict.parse(response.content.decode())["xml"]
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT and reply["MsgType"] == "text"
    return reply["Content"]


def say(content: str, openid: str = OPENID) -> str:
    response = post(text_message(content, openid))
    reply = xmltodict.parse(response.content.decode())["xml"]
    assert reply["ToUserName"] == openid
    return reply["Content"]


# --- Off without its settings ------------------------------------------------------------------------


def test_without_its_settings_wechat_is_off_and_says_so(settings) -> None:
    settings.WECHAT_APP_ID = settings.WECHAT_APP_SECRET = settings.WECHAT_TOKEN = ""
    for response in (Client().get("/wechat/", signed() | {"echostr": "x"}), post(text_message("查询"))):
        assert response.status_code == 503 and "WeChat is off" in response.content.decode()
    page = Client().get("/wechat/menu/")
    assert page.status_code == 503 and "本网站未开通微信" in page.content.decode()
    assert notify.queue_notifications() == 0 and notify.send_due() == 0


# --- The server endpoint: signature, replay, echo, plaintext and safe mode --------------------------


def test_the_echo_check_answers_the_echostr_only_when_signed_with_our_token(wechat) -> None:
    ok = Client().get("/wechat/", signed() | {"echostr": "8734562719385"})
    assert ok.status_code == 200 and ok.content == b"8734562719385"
    bad = Client().get("/wechat/", signed(token="not-our-token") | {"echostr": "1"})
    assert bad.status_code == 403 and b"1" not in bad.content.replace(b"signature", b"")
    assert Client().get("/wechat/", {"echostr": "1"}).status_code == 403


def test_a_bad_signature_is_403_and_nothing_is_answered(wechat, agent) -> None:
    ticket = new_ticket(agent)
    params = signed() | {"signature": "0" * 40}
    response = post(text_message(f"查询 {ticket.number} {ticket.query_code}"), params)
    assert response.status_code == 403 and ticket.number not in response.content.decode()


def test_a_replayed_nonce_and_an_old_timestamp_are_refused(wechat, agent) -> None:
    ticket = new_ticket(agent)
    params = signed()
    message = text_message(f"查询 {ticket.number} {ticket.query_code}")
    assert post(message, params).status_code == 200
    replay = post(message, params)
    assert replay.status_code == 403 and b"replayed" in replay.content
    stale = post(message, signed(timestamp=int(time.time()) - 3600))
    assert stale.status_code == 403 and b"stale" in stale.content


def test_a_text_query_is_answered_with_the_status_and_the_link(wechat, agent) -> None:
    ticket = dispatched_ticket(agent)
    answer = reply_text(post(text_message(f"查询 {ticket.number} {ticket.query_code}")))
    assert "已转办" in answer and f"/t/{ticket.number}?c={ticket.query_code}" in answer
    assert "未查到" in say(f"查询 {ticket.number} 000000" if ticket.query_code != "000000" else "查询 1 1")
    assert "查询 工单号 查询码" in say("你好😀")  # anything else: the help text
    assert "查询 工单号 查询码" in say("１" * 1000)


def test_the_safe_mode_decrypts_the_message_and_encrypts_the_answer(wechat, agent) -> None:
    ticket = new_ticket(agent)
    box = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    params = signed()
    envelope = xmltodict.parse(
        box.encrypt_message(
            text_message(f"CX {ticket.number} {ticket.query_code}"), params["nonce"], params["timestamp"]
        )
    )["xml"]
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )
    query = params | {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"], "openid": OPENID}
    response = post(body, query)
    assert response.status_code == 200
    assert ticket.number.encode() not in response.content  # the answer is encrypted too
    answered = ET.fromstring(response.content)
    plain = box.decrypt_message(
        response.content.decode(),
        answered.findtext("MsgSignature"),
        answered.findtext("TimeStamp"),
        answered.findtext("Nonce"),
    )
    assert "已受理" in xmltodict.parse(plain)["xml"]["Content"]

    tampered = post(body, signed() | {"encrypt_type": "aes", "msg_signature": "0" * 40})
    assert tampered.status_code == 403
    garbage = post("<xml><Encrypt><![CDATA[bm90LWFlcw==]]></Encrypt></xml>", _aes_params("bm90LWFlcw=="))
    assert garbage.status_code == 400


def _aes_params(encrypt: str) -> dict:
    params = signed()
    parts = sorted([TOKEN, params["timestamp"], params["nonce"], encrypt])
    return params | {"encrypt_type": "aes", "msg_signature": hashlib.sha1("".join(parts).encode()).hexdigest()}


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + f"]><xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)


@pytest.mark.parametrize(
    "body",
    [BOMB, EXTERNAL, "<xml><ToUserName>a</ToUserName", "not xml at all", "", "<other/>", "\xff\xfe<xml/>"],
    ids=["entity-bomb", "external-entity", "truncated", "text", "empty", "no-message", "bad-encoding"],
)
def test_malformed_xml_and_entity_bombs_are_400_and_nothing_is_expanded(wechat, body) -> None:
    started = time.monotonic()
    response = post(body)
    assert response.status_code == 400, response.content
    assert time.monotonic() - started < 2
    assert b"root:" not in response.content and b"lollol" not in response.content


def test_an_entity_bomb_inside_the_safe_mode_envelope_is_refused_too(wechat) -> None:
    box = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    params = signed()
    envelope = xmltodict.parse(box.encrypt_message(BOMB, params["nonce"], params["timestamp"]))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    response = post(body, params | {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]})
    assert response.status_code == 400


def test_subscribing_gets_a_welcome_and_an_image_the_help(wechat) -> None:
    event = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    assert "感谢关注" in reply_text(post(event))
    image = (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>image</MsgType><PicUrl>http://x/y.jpg</PicUrl><MediaId>m</MediaId><MsgId>2</MsgId></xml>"
    )
    assert "我的工单" in reply_text(post(image))


# --- OAuth from the menu, binding a phone once, "我的工单" --------------------------------------------


def code_in_sms(phone: str = PHONE) -> str:
    sms = SmsMessage.objects.filter(to=f"+86{phone}", purpose=SmsPurpose.CITIZEN_OTP).order_by("-pk").first()
    return re.search(r"验证码为(\d{6})", sms.body).group(1)


def through_menu(wechat: FakeWechat, client: Client, openid: str = OPENID):
    """The menu link → WeChat's OAuth page (which asks nothing under snsapi_base) → back with a code."""
    to_wechat = client.get("/wechat/menu/")
    assert to_wechat.status_code == 302
    target = urlparse(to_wechat["Location"])
    assert target.netloc == "open.weixin.qq.com" and target.path == "/connect/oauth2/authorize"
    query = parse_qs(target.query)
    assert query["appid"] == [APP_ID] and query["scope"] == ["snsapi_base"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["https://12345.xiangtan.example/wechat/oauth/"]
    state = query["state"][0]
    return client.get("/wechat/oauth/", {"code": wechat.code_for(openid), "state": state})


def test_the_menu_binds_a_phone_once_with_the_sms_code_then_opens_my_tickets_without_one(wechat, agent) -> None:
    mine = new_ticket(agent)
    new_ticket(agent, phone="13900139000", content="别人的诉求。")
    assert "绑定手机号" in say("我的工单") and commands.MENU_PATH in say("我的工单")

    client = Client(REMOTE_ADDR="203.0.113.7")
    back = through_menu(wechat, client)
    assert back.status_code == 302 and back["Location"] == "/track/mine/"
    page = client.get("/track/mine/")
    assert 'data-testid="binding"' in page.content.decode()
    client.post("/track/mine/", {"phone": PHONE})
    assert client.post("/track/mine/verify/", {"phone": PHONE, "code": code_in_sms()}).status_code == 302
    assert WechatBinding.objects.get(openid=OPENID).phone == "+8613800138000"
    assert mine.number in client.get("/track/mine/").content.decode()

    listed = say("我的工单")
    assert mine.number in listed and "已受理" in listed and "13900139000" not in listed
    # The number alone is enough from a bound WeChat, for the phone's own tickets.
    assert "已受理" in say(f"查询 {mine.number}")

    # Another day, another browser: the menu opens the list at once, no code.
    later = Client(REMOTE_ADDR="203.0.113.8")
    sessions = CitizenSession.objects.count()
    again = through_menu(wechat, later)
    assert again["Location"] == "/track/mine/" and CitizenSession.objects.count() == sessions + 1
    assert mine.number in later.get("/track/mine/").content.decode()
    assert SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP).count() == 1

    assert "已解除" in say("解绑") and not WechatBinding.objects.exists()


def test_coming_from_the_menu_with_a_live_session_binds_that_phone_at_once(wechat, agent) -> None:
    client = Client()
    client.post("/track/mine/", {"phone": PHONE})
    client.post("/track/mine/verify/", {"phone": PHONE, "code": code_in_sms()})
    assert through_menu(wechat, client)["Location"] == "/track/mine/"
    assert WechatBinding.objects.get(openid=OPENID).phone == "+8613800138000"


def test_a_forged_state_or_a_bad_code_does_not_bind_anything(wechat) -> None:
    client = Client()
    client.get("/wechat/menu/")
    assert client.get("/wechat/oauth/", {"code": wechat.code_for(OPENID), "state": "forged"}).status_code == 400
    assert Client().get("/wechat/oauth/", {"code": "x", "state": "x"}).status_code == 400  # no state cookie
    to_wechat = client.get("/wechat/menu/")
    state = parse_qs(urlparse(to_wechat["Location"]).query)["state"][0]
    refused = client.get("/wechat/oauth/", {"code": "not-a-code", "state": state})
    assert refused.status_code == 502 and "微信暂时无法确认您的身份" in refused.content.decode()
    assert "lx_wx_openid" not in refused.cookies and "lx_citizen" not in refused.cookies


def test_made_up_oauth_codes_from_one_address_are_throttled(wechat, monkeypatch) -> None:
    from web.views import wechat as view

    monkeypatch.setattr(view, "OAUTH_FAILURES_PER_ADDRESS", 3)
    client = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(3):
        state = parse_qs(urlparse(client.get("/wechat/menu/")["Location"]).query)["state"][0]
        assert client.get("/wechat/oauth/", {"code": "made-up", "state": state}).status_code == 502
    state = parse_qs(urlparse(client.get("/wechat/menu/")["Location"]).query)["state"][0]
    asked = len(wechat.requests)
    throttled = client.get("/wechat/oauth/", {"code": wechat.code_for(OPENID), "state": state})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert len(wechat.requests) == asked  # WeChat was not asked


def test_the_pending_openid_cookie_cannot_be_forged(wechat, agent) -> None:
    client = Client()
    client.cookies["lx_wx_openid"] = "oAttacker"
    client.post("/track/mine/", {"phone": PHONE})
    assert client.post("/track/mine/verify/", {"phone": PHONE, "code": code_in_sms()}).status_code == 302
    assert not WechatBinding.objects.exists()


def test_the_menu_path_is_the_route() -> None:
    assert reverse("web:wechat-menu") == commands.MENU_PATH


# --- Notifications: template messages, queued and retried like SMS -----------------------------------


def bind(openid: str = OPENID, phone: str = "+8613800138000") -> None:
    WechatBinding.objects.create(openid=openid, phone=phone)


def test_registered_replied_and_revisit_due_reach_a_bound_user_once_each(wechat, agent, dispatcher, yuhu) -> None:
    bind()
    ticket = dispatched_ticket(agent)
    new_ticket(agent, phone="13900139000")  # not bound: nothing for it
    assert notify.queue_notifications() == 1
    assert notify.queue_notifications() == 0  # a rerun stores nothing twice
    assert notify.send_due() == 1
    (sent,) = wechat.sent()
    assert sent["touser"] == OPENID and sent["template_id"] == "tpl-registered-0001"
    assert sent["data"]["keyword1"]["value"] == ticket.number and sent["data"]["keyword2"]["value"] == "已转办"
    assert sent["url"] == f"https://12345.xiangtan.example/t/{ticket.number}?c={ticket.query_code}"
    message = WechatMessage.objects.get()
    assert message.status == SmsStatus.SENT and message.msgid == str(wechat.msgid)

    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理。")
    tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True)
    revisits.schedule_pending_revisits(timezone.now())
    assert notify.queue_notifications() == 2
    notify.send_due()
    assert [s["template_id"] for s in wechat.sent()] == ["tpl-registered-0001", "tpl-replied-0002", "tpl-revisit-0003"]
    assert wechat.sent()[1]["data"]["keyword2"]["value"] == "回访中"
    assert notify.queue_notifications() == 0
    assert len([r for r in wechat.requests if r["path"] == "/cgi-bin/token"]) == 1  # one token, shared


def test_a_transient_error_is_retried_later_and_a_permanent_one_fails_for_good(wechat, agent, settings) -> None:
    bind()
    bind("oWx1A5-second-phone", "+8613900139000")
    new_ticket(agent)
    new_ticket(agent, phone="13900139000")
    wechat.answers += [FakeWechat.error(45009, "reach max api daily quota limit"), (500, {})]
    notify.queue_notifications()
    assert notify.send_due() == 2
    retried = WechatMessage.objects.filter(status=SmsStatus.QUEUED)
    assert retried.count() == 2 and all(m.next_attempt_at > timezone.now() for m in retried)
    assert {m.error_code for m in retried} == {"45009", "http"}
    later = timezone.now() + timedelta(seconds=settings.SMS_RETRY_SECONDS + 1)
    assert notify.send_due(later) == 2
    assert WechatMessage.objects.filter(status=SmsStatus.SENT).count() == 2

    bind("oWx1A5-left-the-account", "+8613700137000")
    new_ticket(agent, phone="13700137000")
    notify.queue_notifications()
    wechat.answers.append(FakeWechat.error(43004, "require subscribe"))
    notify.send_due()
    failed = WechatMessage.objects.get(openid="oWx1A5-left-the-account")
    assert failed.status == SmsStatus.FAILED and failed.error_code == "43004"
    assert notify.send_due(timezone.now() + timedelta(days=1)) == 0


def test_an_expired_access_token_is_fetched_again_and_the_message_sent(wechat, agent) -> None:
    bind()
    new_ticket(agent)
    notify.queue_notifications()
    notify.send_due()  # fetches the first token
    wechat.tokens.append("rotated-by-another-client")  # WeChat now knows only a newer token
    new_ticket(agent, content="第二件。")
    notify.queue_notifications()
    assert notify.send_due() == 1
    assert WechatMessage.objects.filter(status=SmsStatus.SENT).count() == 2
    assert len([r for r in wechat.requests if r["path"] == "/cgi-bin/token"]) == 2


def test_a_worker_killed_after_the_claim_sends_the_message_once_after_the_lease(wechat, agent, settings) -> None:
    bind()
    new_ticket(agent)
    notify.queue_notifications()
    assert notify.claim(timezone.now()) != []  # ... and this worker dies before calling WeChat
    assert notify.send_due() == 0 and notify.recover() == 0
    later = timezone.now() + timedelta(seconds=settings.SMS_LEASE_SECONDS + 1)
    assert notify.recover(later) == 1
    assert notify.send_due(later) == 1 and len(wechat.sent()) == 1


def test_a_do_not_call_number_gets_no_wechat_message_either(wechat, agent) -> None:
    from callback.models import DoNotCall

    bind()
    DoNotCall.objects.create(phone="+8613800138000")
    new_ticket(agent)
    assert notify.queue_notifications() == 0


def test_a_caller_who_asked_for_no_messages_gets_no_wechat_message_either(wechat, agent) -> None:
    bind()
    ticket = new_ticket(agent)
    ticket.caller.no_messages = True
    ticket.caller.save(update_fields=["no_messages"])
    assert notify.queue_notifications() == 0


def test_xml_parsing_refuses_entities_whatever_the_installed_xmltodict() -> None:
    with pytest.raises(ValueError):
        xmltodict.parse(BOMB)


def test_an_aes_key_of_the_wrong_length_stops_the_start_with_a_clear_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")} | {"WECHAT_AES_KEY": "too-short"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "EncodingAESKey: 43 characters" in done.stderr


def test_the_admin_lists_wechat_messages_and_bindings_read_only(wechat, agent, client) -> None:
    from tests.conftest import make_user

    bind()
    new_ticket(agent)
    notify.queue_notifications()
    admin_user = make_user("admin_sun", "admin", "XT12345")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    listing = client.get("/admin/callback/wechatmessage/")
    assert listing.status_code == 200 and "registered" in listing.content.decode()
    assert client.get("/admin/callback/wechatbinding/").status_code == 200
    assert client.get("/admin/callback/wechatmessage/add/").status_code == 403
