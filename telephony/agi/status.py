"""自助查询: a caller hears where their ticket stands, without waiting for an agent.

GB/T 33358 forbids forcing callers through menus, so this is an option on the welcome menu
(docs/asterisk/extensions.conf: key 9), never a gate: silence, 0, three wrong tries or a throttled
caller all end in the agents' queue (``HOTLINE_STATUS_NEXT=queue``).

1. A caller whose number has an open ticket hears the newest one first: its last four digits
   and its status in plain words (the /track/ page's stages, ``hotline.public.STAGES``).
2. Anyone may key in a ticket number (13 digits, # ends) and its query code (6 digits). The
   lookup is the page's (``hotline.public.find_for_citizen``: a wrong code and an unknown number
   sound the same) and counts in the page's throttle, per ticket number and per calling number.
3. After a status: 0 for an agent, anything else ends the call politely.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async

from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import Ticket
from hotline.models.tickets import OPEN_STATUSES
from hotline.public import STAGES, clean_code, clean_number, find_for_citizen
from hotline.throttle import Throttled, check, count, lookup_buckets
from telephony.agi.protocol import AgiChannel

log = logging.getLogger(__name__)

TRIES = 3
KEY_WAIT_MS = 8000
NEXT = "HOTLINE_STATUS_NEXT"  # "queue": the dialplan sends the caller to the agents; else goodbye


def prompt_for(ticket: Ticket) -> str:
    """hotline/status-<stage>: one recorded sentence per stage a citizen sees (docs/asterisk/sounds)."""
    return f"hotline/status-{STAGES[ticket.status].key}"


@sync_to_async
def own_open_ticket(calling: str) -> Ticket | None:
    try:
        phone = normalize_phone(calling)
    except InvalidPhone:
        return None  # withheld or foreign: nothing to look up by
    return (
        Ticket.objects.filter(caller__phone=phone, status__in=list(OPEN_STATUSES))
        .only("pk", "number", "status")
        .order_by("-created_at", "-pk")
        .first()
    )


@sync_to_async
def look_up(number: str, code: str, calling: str) -> Ticket | None:
    """The page's lookup and throttle; a throttled caller is treated as not found (and sent on)."""
    clean, code_ = clean_number(number), clean_code(code)
    buckets = lookup_buckets(clean or number[:20], f"phone:{calling}")
    check("agi", buckets)
    ticket = find_for_citizen(clean, code_)
    if ticket is None:
        count("agi", buckets)
        log.info("IVR status: no ticket for the keys given (ticket %s…)", (clean or "?")[:8])
        return None
    return Ticket.objects.only("pk", "number", "status").get(pk=ticket.pk)


async def say_status(agi: AgiChannel, ticket: Ticket) -> None:
    await agi.stream("hotline/status-ticket-ending")  # "尾号为"
    await agi.say_digits(ticket.number[-4:])
    await agi.stream(prompt_for(ticket))


async def run(agi: AgiChannel) -> None:
    calling = agi.env.get("agi_callerid", "")
    await agi.answer()
    own = await own_open_ticket(calling)
    if own is not None:
        await agi.stream("hotline/status-yours")  # "您最近一件工单"
        await say_status(agi, own)
    for _ in range(TRIES):
        # 14: the # that ends 13 digits is read by this prompt, not left for the next one.
        number = await agi.get_data("hotline/status-enter-number", KEY_WAIT_MS, 14)
        if number in ("", "0"):
            break  # silence or 0: an agent
        code = await agi.get_data("hotline/status-enter-code", KEY_WAIT_MS, 6)
        try:
            ticket = await look_up(number, code, calling)
        except Throttled:
            break
        if ticket is None:
            await agi.stream("hotline/status-not-found")
            continue
        await say_status(agi, ticket)
        if await agi.get_data("hotline/status-more", 5000, 1) != "0":
            await agi.set_variable(NEXT, "done")
            return
        break
    await agi.stream("hotline/to-agent")
    await agi.set_variable(NEXT, "queue")
