"""话后小结: the wrap-up code an agent gives a call during wrap-up (话后处理).

After an answered call the PBX's ``wrapuptime`` keeps the next call away for
``AGENT_WRAPUP_SECONDS`` (docs/asterisk/queues.conf must say the same); meanwhile the console asks
what the call was. The code is stored on the ``Call`` with who chose it and when. Rules:

- only the agent who took the call, only an answered and ended call, only during its wrap-up
  time: after it the call is left as it is (未选择 in the statistics, unless a ticket was
  registered from it: then it counts as 已登记工单, the code the console pre-selects);
- another code during the wrap-up time replaces the first (a misclick is corrected; the latest
  choice with its time is what is kept);
- an unknown or inactive code is refused. Codes are data (``WrapUpCode``), never deleted.

Nothing here holds calls back or makes the agent ready: the PBX's wrapuptime does, and the agent
stays in the state they chose (Ready comes back by itself when the time is up).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import User
from telephony.models import Call, WrapUpCode

# The default code of a call from which a ticket was registered.
TICKET_CODE = "ticket"


def codes() -> list[WrapUpCode]:
    """The codes an agent can choose now, in the admin's order."""
    return list(WrapUpCode.objects.filter(active=True))


def ends_at(call: Call) -> datetime | None:
    """When the call's wrap-up time ends (None: it was not answered, or is not over)."""
    if not call.answered_at or not call.ended_at:
        return None
    return call.ended_at + timedelta(seconds=settings.AGENT_WRAPUP_SECONDS)


def is_open(call: Call, now: datetime | None = None) -> bool:
    """Whether the call is in its wrap-up time (a code may be chosen or changed)."""
    end = ends_at(call)
    return end is not None and (now or timezone.now()) < end


def suggested(call: Call) -> str:
    """The code shown selected: the chosen one, else 已登记工单 when a ticket came from the call."""
    if call.wrapup_code_id:
        return call.wrapup_code.code
    return TICKET_CODE if call.ticket_id else ""


def choose(agent: User, call_id: int, code: str, now: datetime | None = None) -> Call:
    """Store ``code`` on the agent's call ``call_id``, with who and when; one transaction."""
    now = now or timezone.now()
    chosen = WrapUpCode.objects.filter(code=code, active=True).first()
    if chosen is None:
        raise InvalidInput(gettext("Unknown wrap-up code %(code)s.") % {"code": repr(code)[:40]}, field="code")
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None or call.agent_id != agent.pk:
            raise NotAllowed(gettext("This is not your call."))
        if not is_open(call, now):
            raise IllegalTransition(gettext("The wrap-up time of this call is over; its code can no longer be set."))
        call.wrapup_code = chosen
        call.wrapup_by = agent
        call.wrapup_at = now
        call.save(update_fields=["wrapup_code", "wrapup_by", "wrapup_at"])
    return call
