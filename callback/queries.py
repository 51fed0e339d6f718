"""A citizen's text message asking for a ticket's progress, and what the hotline texts back.

For any channel that carries text (SMS here, WeChat in ``web``)::

    answer_text(text: str, sender_phone: str, sender: str = "") -> str | None

``text`` is the message as received: any length, any characters (it never raises for bad
input). ``sender_phone`` is the sender's phone, normalised to E.164
(``hotline.lib.phones.normalize_phone``), or "" when the channel has none (a WeChat user who has
not bound a phone). ``sender`` names the sender for the per-sender throttle when the phone is
not the name (e.g. ``"wechat:<openid>"``); by default the phone is. Returns the reply to send,
or None when the text is not a query — the channel answers that its own way (SMS: a revisit
answer, else :data:`HELP_TEXT`).

Queries understood (docs/callbacks.md, "Queries by SMS"), full-width digits, letters and spaces
folded first, any spaces, punctuation or words between the parts after 查询/CX (spaces,
punctuation and the labels 工单号/查询码 only, without it):

- ``查询 <工单号> <查询码>``, ``CX <工单号> <查询码>`` (any case), or the two numbers alone;
- ``查询 <工单号>``, ``CX <工单号>`` or the number alone: answered only to the ticket's own phone.

The lookup is the /track/ page's (``hotline.public.find_for_citizen``): a wrong code, an unknown
number and someone else's number alone get the same answer and count as one failure against the
ticket number and the sender, with the page's limits and buckets (:mod:`callback.throttle`); while
either is full even the right code is refused. A merged ticket answers with the ticket it went
into; a discarded one says 已撤销, as the page does.

:func:`reply_to_sms` is the inbound SMS's whole answer: an opt-out (TD/退订,
``callback.notifications.opt_out``) is confirmed, else the query is answered, else the revisit
survey's answer (``callback.revisits.answer_survey``), else the help text — at most
``SMS_REPLIES_PER_SENDER_HOUR`` replies an hour to one number.
"""

from __future__ import annotations

import hmac
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from callback import notifications, revisits
from callback.models import SmsMessage, SmsPurpose
from callback.sms.services import store_inbound
from callback.throttle import DAY, Bucket, Throttled, check, count
from hotline import public
from hotline.lib.phones import mask_phone
from hotline.models import Ticket

log = logging.getLogger("lianxin.public")

HELP_TEXT = "【12345】查询工单进度请回复：查询 工单号 查询码，如“查询 2026112900001 209672”。反映问题请拨打12345。"
UNREADABLE_TEXT = "【12345】未能识别工单号（13位）或查询码（6位）。请回复：查询 工单号 查询码。"
NOT_FOUND_TEXT = "【12345】未查到该工单，请核对工单号和查询码。忘记查询码请拨打12345。"
THROTTLED_TEXT = "【12345】查询失败次数过多，请稍后再试，或拨打12345。"

# A query is short; a longer text is something else (and is not normalised at all).
MAX_QUERY_CHARS = 120
_COMMAND = re.compile(r"\s*(查询|CX)", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
# The words around the numbers when the registration SMS is copied back: 工单号…，查询码….
_LABELS = re.compile(r"工单号?|查询码|编号")
# Compared against when the number is unknown (an E.164 mobile is 14 long).
_NO_PHONE = "\x00" * 14


@dataclass(frozen=True)
class Query:
    """What the text asked: ``number`` None when it began with 查询/CX but no number could be read."""

    number: str | None
    code: str | None = None


def parse(text: str) -> Query | None:
    """The query in a text, or None when the text is not one."""
    if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    match = _COMMAND.match(folded)
    rest = folded[match.end() :] if match else folded
    if match and match.group(1).upper() == "CX" and rest[:1].isalpha():
        return None  # a word that happens to begin with "cx"
    if not match:
        # Without the command word only the numbers (and their labels) may be there: "3 还是很吵"
        # is a survey answer, not a query.
        bare = _LABELS.sub(" ", rest)
        if any(ch.isalnum() and not ("0" <= ch <= "9") for ch in bare):
            return None
    parts = _split(_DIGITS.findall(rest))
    if parts is None:
        return Query(None) if match else None
    return Query(*parts)


def _split(groups: list[str]) -> tuple[str, str | None] | None:
    lengths = [len(g) for g in groups]
    if lengths == [public.CODE_LENGTH, public.NUMBER_LENGTH]:  # the code typed first
        return groups[1], groups[0]
    joined = "".join(groups)
    if len(joined) == public.NUMBER_LENGTH:
        return joined, None
    if len(joined) == public.NUMBER_LENGTH + public.CODE_LENGTH:
        return joined[: public.NUMBER_LENGTH], joined[public.NUMBER_LENGTH :]
    return None


def answer_text(text: str, sender_phone: str, sender: str = "") -> str | None:
    """The reply to a query (see the module's docstring), or None when ``text`` is not one."""
    answered = _answer(text, sender_phone, sender)
    return answered[0] if answered is not None else None


def _answer(text: str, sender_phone: str, sender: str) -> tuple[str, Ticket | None] | None:
    query = parse(text)
    if query is None:
        return None
    if query.number is None:
        return UNREADABLE_TEXT, None
    who, number = sender or sender_phone, query.number
    buckets = _buckets(number, who)
    try:
        check("track", buckets)
    except Throttled:
        log.warning("text query refused: too many failures (sender=%s ticket=%s)", _shown(who), number)
        return THROTTLED_TEXT, None
    ticket = _find(query, sender_phone)
    if ticket is None:
        count("track", buckets)
        log.info("text query failed: no ticket for this number and code (sender=%s ticket=%s)", _shown(who), number)
        return NOT_FOUND_TEXT, None
    return status_text(ticket), ticket


def _buckets(number: str, who: str) -> list[Bucket]:
    """The page's limits: the ticket's buckets are the page's own; the sender stands for the address."""
    buckets = [
        Bucket("ticket", number, settings.PUBLIC_TRACK_FAILURES_PER_TICKET),
        Bucket("ticket", number, settings.PUBLIC_TRACK_FAILURES_PER_TICKET_DAY, DAY),
    ]
    if who:
        buckets += [
            Bucket("sender", who, settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS),
            Bucket("sender", who, settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY, DAY),
        ]
    return buckets


def _shown(who: str) -> str:
    """A sender as the log may show it: a phone masked, anything else as it is."""
    return mask_phone(who) if who.startswith("+") else (who or "-")


def _find(query: Query, sender_phone: str) -> Ticket | None:
    if query.code is not None:
        return public.find_for_citizen(query.number, query.code)
    # The number alone: only its own caller may ask, compared in constant time like a code.
    ticket = Ticket.objects.filter(number=query.number).select_related("caller").only("pk", "caller__phone").first()
    expected = ticket.caller.phone if ticket is not None else _NO_PHONE
    given = sender_phone if isinstance(sender_phone, str) else ""
    if ticket is None or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        return None
    ticket = Ticket.objects.only("pk", "number", "query_code").get(pk=ticket.pk)
    return public.find_for_citizen(ticket.number, ticket.query_code)


def status_text(ticket: Ticket) -> str:
    """The status in plain words (the page's words, in Chinese) and the short link that opens the page."""
    with translation.override("zh-hans"):
        view = public.citizen_view(ticket)
        if view.merged_into is not None:
            into = view.merged_into
            text = f"【12345】您的工单{view.number}已并入工单{into.number}办理，当前状态：{into.stage.word}。"
        else:
            text = f"【12345】您的工单{view.number}当前状态：{view.stage.word}。"
    link = public.track_link(ticket)
    return text + (f"详情：{link}" if link else "详情请拨打12345。")


@dataclass(frozen=True)
class SmsReply:
    text: str
    purpose: str
    ticket: Ticket | None = None


def reply_to_sms(sender: str, body: str) -> SmsReply | None:
    """An inbound SMS from ``sender`` (E.164): store it, then the reply to queue, or None for none.

    None when this number had its ``SMS_REPLIES_PER_SENDER_HOUR`` replies this hour: its messages
    are still stored (and a survey answer still recorded) but nothing more is sent to it.
    """
    body = body if isinstance(body, str) else ""
    inbound = store_inbound(sender, body)
    reply = _reply(sender, body)
    if reply.ticket is not None:  # the citizen's words show on the ticket beside our answer
        SmsMessage.objects.filter(pk=inbound.pk).update(ticket=reply.ticket)
    limit = [Bucket("sender", sender, settings.SMS_REPLIES_PER_SENDER_HOUR)]
    try:
        check("sms-reply", limit)
    except Throttled:
        log.warning("SMS reply withheld: too many messages this hour (sender=%s)", _shown(sender))
        return None
    count("sms-reply", limit)
    return reply


def _reply(sender: str, body: str) -> SmsReply:
    if notifications.is_opt_out(body):
        notifications.opt_out(sender)
        log.info("SMS opt-out (sender=%s)", _shown(sender))
        return SmsReply(notifications.OPTED_OUT_TEXT, SmsPurpose.OPTED_OUT)
    answered = _answer(body, sender, "")
    if answered is not None:
        return SmsReply(answered[0], SmsPurpose.QUERY_ANSWER, answered[1])
    survey = revisits.answer_survey(sender, body)
    if survey is not None:
        revisit, text = survey
        return SmsReply(text, SmsPurpose.SURVEY_ANSWER, revisit.ticket if revisit is not None else None)
    return SmsReply(HELP_TEXT, SmsPurpose.QUERY_ANSWER)
