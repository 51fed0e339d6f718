"""Demo call traffic: ~60 days of Call rows consistent with the demo tickets.

Each phone ticket of the demo gets the answered call it was registered on (its caller,
an agent, ending shortly before the ticket's ``created_at``; outcome ``transferred_110``
for tickets handed to the police). Around them: calls answered without a ticket,
abandons (some short), queue timeouts, callers who chose 110 in the IVR, with the daily
shape of a 12345 line (quiet at night, peaks mid-morning and early afternoon). Call rows
come from the PBX, so they are written directly. The same seed gives the same calls.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline.models import Channel, Role, Ticket, TicketStatus, User
from telephony.models import Call, Outcome, Recording
from telephony.simulator.recorder import write_clip

# Relative call volume per local hour of day.
HOURLY_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 17, 14, 9, 10, 15, 16, 14, 11, 8, 7, 6, 4, 3, 2]
# What happens to a call that is not a ticket's own call, with weights.
OTHER_OUTCOMES = [
    ("answered", 88),
    ("abandoned", 3),
    ("short_abandon", 3),
    ("timeout", 1),
    ("ivr_110", 3),
    ("transferred_110", 1),
    ("transferred", 1),
]


def seed_calls(days: int = 60, seed: int = 12345, calls_per_day: tuple[int, int] = (25, 45)) -> int:
    """Create the demo's calls for the last ``days`` days; skipped if any call exists. Returns the count."""
    if Call.objects.exists():
        return 0
    rng = random.Random(seed)
    agents = list(User.objects.filter(role=Role.AGENT).exclude(agent_extension="").order_by("username"))
    if not agents:
        return 0
    by_pk = {a.pk: a for a in agents}
    now = timezone.now()
    since = now - timedelta(days=days)
    calls: list[Call] = []
    phone_tickets = (
        # Every phone ticket, even one registered a few hours before ``since``.
        Ticket.objects.filter(channel=Channel.PHONE).select_related("caller").order_by("created_at", "pk")
    )
    for ticket in phone_tickets:
        agent = by_pk.get(ticket.created_by_id) or rng.choice(agents)
        wait, talk = rng.randint(2, 25), rng.randint(90, 420)
        ended = ticket.created_at - timedelta(seconds=rng.randint(5, 90))
        answered = ended - timedelta(seconds=talk)
        outcome = Outcome.TRANSFERRED_110 if ticket.status == TicketStatus.TRANSFERRED_110 else Outcome.ANSWERED
        calls.append(
            _call(
                len(calls),
                answered - timedelta(seconds=wait),
                outcome,
                wait,
                talk,
                agent,
                ticket.caller.phone,
                caller_id=ticket.caller_id,
                ticket=ticket,
            )
        )
    tz = timezone.get_current_timezone()
    first_day = timezone.localtime(since).date()
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        for _ in range(rng.randint(*calls_per_day)):
            hour = rng.choices(range(24), HOURLY_WEIGHTS)[0]
            offered = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=tz)
            if not since <= offered < now - timedelta(minutes=10):
                continue
            kind = rng.choices([k for k, _ in OTHER_OUTCOMES], [w for _, w in OTHER_OUTCOMES])[0]
            phone = f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
            agent = rng.choice(agents)
            if kind == "short_abandon":
                calls.append(_call(len(calls), offered, Outcome.ABANDONED, rng.randint(0, 4), None, None, phone))
            elif kind == "abandoned":
                calls.append(_call(len(calls), offered, Outcome.ABANDONED, rng.randint(5, 120), None, None, phone))
            elif kind == "timeout":
                calls.append(_call(len(calls), offered, Outcome.TIMEOUT, 180, None, None, phone))
            elif kind == "ivr_110":
                calls.append(_call(len(calls), offered, Outcome.IVR_110, 0, None, None, phone, ivr_choice="110"))
            else:
                wait = rng.choice([rng.randint(1, 15)] * 4 + [rng.randint(16, 60)])
                calls.append(_call(len(calls), offered, kind, wait, rng.randint(30, 300), agent, phone))
    with transaction.atomic():
        Call.objects.bulk_create(calls, batch_size=1000)
        _record(calls)
    return len(calls)


# The latest ticket calls get a recording (the simulator's sample conversation), so the ticket page's
# player plays something; a bounded number, so a demo does not fill the disk.
RECORDED_CALLS = 20


def _record(calls: list[Call]) -> None:
    answered = sorted((c for c in calls if c.ticket_id and c.answered_at), key=lambda c: c.answered_at)
    rows = []
    for call in answered[-RECORDED_CALLS:]:
        name = f"demo/{call.linkedid}.wav"
        write_clip(Path(settings.RECORDINGS_DIR) / name, min(call.talk_seconds or 0, 20))
        rows.append(Recording(call=call, name=name, started_at=call.answered_at))
    Recording.objects.bulk_create(rows)


def _call(
    index: int,
    offered: datetime,
    outcome: str,
    wait: int,
    talk: int | None,
    agent: User | None,
    phone: str,
    *,
    caller_id: int | None = None,
    ticket: Ticket | None = None,
    ivr_choice: str = "",
) -> Call:
    answered = offered + timedelta(seconds=wait) if agent is not None else None
    in_queue = outcome != Outcome.IVR_110
    return Call(
        linkedid=f"demo-{offered:%Y%m%d%H%M%S}-{index}",
        caller_id=caller_id,
        caller_number=phone,
        queue="12345" if in_queue else "",
        agent=agent,
        agent_interface=f"PJSIP/{agent.agent_extension}" if agent else "",
        agent_name=agent.first_name if agent else "",
        offered_at=offered,
        answered_at=answered,
        ended_at=offered + timedelta(seconds=wait + (talk or 0)),
        wait_seconds=wait if in_queue else None,
        talk_seconds=talk,
        outcome=outcome,
        ivr_choice=ivr_choice,
        ticket=ticket,
        created_at=offered,
    )
